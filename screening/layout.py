"""The layout of the screening form, grouped as the protocol is: general, the
indication's block, refractory disease, organ function. Each group is one item of the
facts document with the rule IDs it feeds."""

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.utils.translation import gettext_lazy

from .kinds import Group
from .vocab import ANALYTE_DISPLAY, NYHA


@dataclass
class Section:
    key: str
    title: object
    rules: tuple
    groups: list


def _lab(analyte, rules):
    return Group(f"labs.{analyte}", "lab", ANALYTE_DISPLAY[analyte], rules, analyte=analyte)


GENERAL = Section(
    "general",
    gettext_lazy("General (A-GEN)"),
    ("A-GEN-1", "A-GEN-2", "A-GEN-3", "A-GEN-4", "A-GEN-5"),
    [
        Group("screening_date", "date", gettext_lazy("Screening date"), ("A-GEN-1",)),
        Group(
            "patient.date_of_birth",
            "readonly",
            gettext_lazy("Date of birth"),
            ("A-GEN-1", "A-ORG-4"),
        ),
        Group("patient.sex", "readonly", gettext_lazy("Sex"), ("A-GEN-4", "A-ORG-4")),
        Group(
            "patient.weight_kg",
            "obs",
            gettext_lazy("Weight"),
            ("A-ORG-4", "A-SLE-4"),
            unit="kg",
            low=1,
            high=500,
        ),
        Group(
            "general.survival_gt_6_months",
            "tri",
            gettext_lazy("Expected survival > 6 months"),
            ("A-GEN-2",),
            aliases=("general.expected_survival_months",),
        ),
        Group(
            "general.has_reproductive_partner",
            "tri",
            gettext_lazy("Has a reproductive partner"),
            ("A-GEN-3",),
        ),
        Group(
            "general.contraception_agreed",
            "tri",
            gettext_lazy("Agrees to effective contraception (treatment + 24 months)"),
            ("A-GEN-3",),
        ),
        Group(
            "general.no_gamete_donation_agreed",
            "tri",
            gettext_lazy("Agrees not to donate eggs or sperm in that period"),
            ("A-GEN-3",),
        ),
        Group(
            "general.childbearing_potential",
            "tri",
            gettext_lazy("Woman of childbearing potential"),
            ("A-GEN-4",),
        ),
        Group("general.sterilised", "tri", gettext_lazy("Sterilised"), ("A-GEN-4",)),
        Group(
            "general.menopausal_months",
            "number",
            gettext_lazy("Menopausal for (months)"),
            ("A-GEN-4",),
            low=0,
            high=1200,
        ),
        Group("general.pregnancy_test", "pregnancy", gettext_lazy("Pregnancy test"), ("A-GEN-4",)),
        Group("general.consent_signed", "consent", gettext_lazy("Informed consent"), ("A-GEN-5",)),
    ],
)

INDICATION_SECTIONS = {
    "SLE": Section(
        "indication",
        gettext_lazy("SLE (A-SLE)"),
        ("A-SLE-1", "A-SLE-2", "A-SLE-3", "A-SLE-4"),
        [
            Group(
                "sle.eular_acr_2019_met",
                "tri",
                gettext_lazy("2019 EULAR/ACR classification criteria met"),
                ("A-SLE-1",),
            ),
            Group("sle.ana", "ana", gettext_lazy("ANA"), ("A-SLE-2",)),
            Group("sle.anti_dsdna", "serology", gettext_lazy("Anti-dsDNA"), ("A-SLE-2",)),
            Group("sle.anti_sm", "serology", gettext_lazy("Anti-Sm"), ("A-SLE-2",)),
            Group(
                "sle.sledai_2k",
                "sledai",
                gettext_lazy("SLEDAI-2K checklist"),
                ("A-SLE-3",),
                calc=True,
            ),
            Group("sle.active_since", "date", gettext_lazy("Disease active since"), ("A-SLE-4",)),
        ],
    ),
    "dcSSc": Section(
        "indication",
        gettext_lazy("dcSSc (A-SSC)"),
        ("A-SSC-1", "A-SSC-2", "A-SSC-3", "A-SSC-4"),
        [
            Group(
                "dcssc.eular_acr_2013_met",
                "tri",
                gettext_lazy("2013 EULAR/ACR SSc criteria met"),
                ("A-SSC-1",),
            ),
            Group(
                "dcssc.leroy_diffuse_cutaneous",
                "tri",
                gettext_lazy("Diffuse cutaneous subset (LeRoy 1988)"),
                ("A-SSC-1",),
            ),
            Group(
                "dcssc.ild_present",
                "tri",
                gettext_lazy("Interstitial lung disease"),
                ("A-SSC-2", "A-SSC-4"),
            ),
            Group("dcssc.ild_diagnosed_on", "date", gettext_lazy("ILD diagnosed on"), ("A-SSC-4",)),
            Group(
                "dcssc.fvc_percent_predicted",
                "series",
                gettext_lazy("FVC (% predicted)"),
                ("A-SSC-2", "A-SSC-4"),
                unit="%",
                low=Decimal("0.1"),
                high=250,
            ),
            Group(
                "dcssc.dlco_percent_predicted",
                "series",
                gettext_lazy("DLCO (% predicted)"),
                ("A-SSC-2", "A-SSC-4"),
                unit="%",
                low=Decimal("0.1"),
                high=250,
            ),
            Group(
                "dcssc.mrss",
                "series",
                gettext_lazy("mRSS"),
                ("A-SSC-4",),
                integer=True,
                low=0,
                high=51,
            ),
            Group(
                "dcssc.response_to_conventional_treatment",
                "choice",
                gettext_lazy("Response to conventional treatment"),
                ("A-SSC-3",),
                options=[
                    ("ineffective", gettext_lazy("ineffective")),
                    ("relapsed_after_remission", gettext_lazy("relapsed after remission")),
                    ("sustained_remission", gettext_lazy("sustained remission")),
                ],
            ),
        ],
    ),
    "AAV": Section(
        "indication",
        gettext_lazy("AAV (A-AAV)"),
        ("A-AAV-1", "A-AAV-2", "A-AAV-3", "A-AAV-4"),
        [
            Group(
                "aav.chcc_2012_diagnosis",
                "choice",
                gettext_lazy("Diagnosis (2012 Chapel Hill)"),
                ("A-AAV-1",),
                options=[
                    ("GPA", "GPA"),
                    ("MPA", "MPA"),
                    ("EGPA", "EGPA"),
                    ("other", gettext_lazy("other")),
                ],
            ),
            Group("aav.anca.pr3", "serology", gettext_lazy("PR3-ANCA"), ("A-AAV-3",)),
            Group("aav.anca.mpo", "serology", gettext_lazy("MPO-ANCA"), ("A-AAV-3",)),
            Group(
                "aav.bvas_assessments",
                "bvas",
                gettext_lazy("BVAS v3 assessments"),
                ("A-AAV-2", "A-AAV-4"),
                calc=True,
            ),
            Group(
                "aav.response",
                "aav_response",
                gettext_lazy("Best response to ≥ 3 months of treatment"),
                ("A-AAV-4",),
            ),
        ],
    ),
    "IIM": Section(
        "indication",
        gettext_lazy("IIM (A-IIM)"),
        ("A-IIM-1", "A-IIM-2", "A-IIM-3"),
        [
            Group(
                "iim.classification_probability_percent",
                "number",
                gettext_lazy("2017 EULAR/ACR probability (%)"),
                ("A-IIM-1",),
                low=0,
                high=100,
            ),
            Group(
                "iim.subtype",
                "choice",
                gettext_lazy("Subtype"),
                ("A-IIM-1",),
                options=[
                    ("DM", "DM"),
                    ("PM", "PM"),
                    ("IMNM", "IMNM"),
                    ("ADM", "ADM"),
                    ("IBM", "IBM"),
                    ("JDM", "JDM"),
                    ("other", gettext_lazy("other")),
                ],
            ),
            Group("iim.mmt8", "mmt8", gettext_lazy("MMT-8 muscles"), ("A-IIM-2",), calc=True),
            Group(
                "iim.patient_global_vas",
                "obs",
                gettext_lazy("Patient global VAS (0–10)"),
                ("A-IIM-3",),
                low=0,
                high=10,
            ),
            Group(
                "iim.physician_global_vas",
                "obs",
                gettext_lazy("Physician global VAS (0–10)"),
                ("A-IIM-3",),
                low=0,
                high=10,
            ),
            Group(
                "iim.extramuscular_vas",
                "obs",
                gettext_lazy("Extramuscular activity VAS (0–10)"),
                ("A-IIM-3",),
                low=0,
                high=10,
            ),
            Group("iim.haq_di", "haq", gettext_lazy("HAQ-DI"), ("A-IIM-3",), calc=True),
            _lab("ck", ("A-IIM-3",)),
            _lab("aldolase", ("A-IIM-3",)),
            _lab("ldh", ("A-IIM-3",)),
        ],
    ),
    "SS": Section(
        "indication",
        gettext_lazy("Sjögren's syndrome (A-SS)"),
        ("A-SS-1", "A-SS-2", "A-SS-3", "A-SS-4"),
        [
            Group(
                "ss.acr_eular_2016_met",
                "tri",
                gettext_lazy("2016 ACR/EULAR criteria met"),
                ("A-SS-1",),
            ),
            Group("ss.anti_ro_ssa", "serology", gettext_lazy("Anti-Ro/SSA"), ("A-SS-2",)),
            Group(
                "ss.stimulated_whole_saliva_ml_per_min",
                "obs",
                gettext_lazy("Stimulated whole saliva"),
                ("A-SS-3",),
                unit="mL/min",
                low=0,
                high=100,
            ),
            Group(
                "ss.unstimulated_whole_saliva_ml_per_min",
                "obs",
                gettext_lazy("Unstimulated whole saliva"),
                ("A-SS-3",),
                unit="mL/min",
                low=0,
                high=100,
            ),
            Group("ss.essdai", "essdai", gettext_lazy("ESSDAI domains"), ("A-SS-4",), calc=True),
        ],
    ),
}

REFRACTORY = Section(
    "refractory",
    gettext_lazy("Refractory disease (A-REF-1)"),
    ("A-REF-1",),
    [
        Group(
            "refractory.intolerant_or_inadequate_response",
            "tri",
            gettext_lazy(
                "Intolerant of, or inadequate response to, glucocorticoids + ≥ 1 immunosuppressant"
            ),
            ("A-REF-1",),
        ),
        Group(
            "refractory.effective_doses",
            "tri",
            gettext_lazy("Treated at known effective doses"),
            ("A-REF-1",),
        ),
        Group(
            "treatment_history",
            "treatments",
            gettext_lazy("Treatment history (one row per drug at one stable dose)"),
            ("A-REF-1", "A-SLE-4", "A-SSC-3", "A-AAV-4"),
        ),
    ],
)

ORGAN = Section(
    "organ",
    gettext_lazy("Organ function (A-ORG)"),
    ("A-ORG-1", "A-ORG-2", "A-ORG-3", "A-ORG-4", "A-ORG-5", "A-ORG-6"),
    [
        _lab("anc", ("A-ORG-1",)),
        _lab("platelets", ("A-ORG-1",)),
        _lab("haemoglobin", ("A-ORG-1",)),
        _lab("inr", ("A-ORG-2",)),
        _lab("aptt", ("A-ORG-2",)),
        _lab("ast", ("A-ORG-3", "A-IIM-3")),
        _lab("alt", ("A-ORG-3", "A-IIM-3")),
        _lab("total_bilirubin", ("A-ORG-3",)),
        _lab("creatinine", ("A-ORG-4",)),
        Group(
            "organ_function.nyha_class",
            "obs_choice",
            gettext_lazy("NYHA class"),
            ("A-ORG-5",),
            options=NYHA,
        ),
        Group(
            "organ_function.lvef_percent",
            "obs",
            gettext_lazy("LVEF (echo)"),
            ("A-ORG-5",),
            unit="%",
            low=0,
            high=100,
        ),
        Group(
            "organ_function.pericardial_effusion",
            "obs_bool",
            gettext_lazy("Pericardial effusion"),
            ("A-ORG-5",),
        ),
        Group(
            "organ_function.ecg_significant_abnormality",
            "obs_bool",
            gettext_lazy("Clinically significant 12-lead ECG abnormality"),
            ("A-ORG-5",),
        ),
        Group(
            "organ_function.spo2_room_air_percent",
            "obs",
            gettext_lazy("SpO₂ on room air"),
            ("A-ORG-6",),
            unit="%",
            low=0,
            high=100,
        ),
        Group(
            "organ_function.pleural_effusion_significant",
            "obs_bool",
            gettext_lazy("Clinically significant pleural effusion"),
            ("A-ORG-6",),
        ),
    ],
)


def sections_for(indication):
    return [GENERAL, INDICATION_SECTIONS[indication], REFRACTORY, ORGAN]


def groups_for(indication):
    return [g for s in sections_for(indication) for g in s.groups]


@lru_cache(maxsize=4096)  # the layout is fixed; a page asks for the same paths again and again
def group_for_path(indication, path):
    """The group a facts path belongs to (longest prefix, or an alias), or None."""
    best = None
    for g in groups_for(indication):
        for candidate in (g.path, *g.aliases):
            if (path == candidate or path.startswith(candidate + ".")) and (
                best is None or len(candidate) > len(best[1])
            ):
                best = (g, candidate)
    return best[0] if best else None


def label_for_path(indication, path):
    g = group_for_path(indication, path)
    return g.label if g is not None else path
