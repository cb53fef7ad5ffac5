"""The rule registry: rule ID → title, rule function, and the rules per indication."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ..i18n import gettext_noop
from . import aav, general, iim, organ, refractory, sle, ss, ssc
from ._checks import Check, Ctx

RULES: Mapping[str, str] = MappingProxyType(
    {
        "A-GEN-1": gettext_noop("Age 18–65 years inclusive on the screening date"),
        "A-GEN-2": gettext_noop("Expected survival > 6 months"),
        "A-GEN-3": gettext_noop("Contraception for treatment + 24 months, no egg/sperm donation"),
        "A-GEN-4": gettext_noop("Negative pregnancy test if of childbearing potential"),
        "A-GEN-5": gettext_noop("Voluntary participation: informed consent signed"),
        "A-SLE-1": gettext_noop("SLE by 2019 EULAR/ACR classification criteria"),
        "A-SLE-2": gettext_noop("ANA ≥ 1:80, anti-dsDNA or anti-Sm positive during screening"),
        "A-SLE-3": gettext_noop("SLEDAI-2K ≥ 8 (clinical score ≥ 6 if serology is scored)"),
        "A-SLE-4": gettext_noop("≥ 6 months stable standard treatment; active ≥ 2 months"),
        "A-SSC-1": gettext_noop("SSc by 2013 EULAR/ACR criteria, diffuse cutaneous (LeRoy)"),
        "A-SSC-2": gettext_noop("ILD with FVC 45–70% or DLCO 40–70% predicted"),
        "A-SSC-3": gettext_noop("Relapsed/refractory after conventional treatment"),
        "A-SSC-4": gettext_noop("Active: mRSS rise, new ILD or FVC/DLCO decline in 6 months"),
        "A-AAV-1": gettext_noop("GPA or MPA by 2012 Chapel Hill Consensus"),
        "A-AAV-2": gettext_noop("BVAS v3: ≥ 1 major or ≥ 3 other items"),
        "A-AAV-3": gettext_noop("PR3-ANCA or MPO-ANCA positive during screening"),
        "A-AAV-4": gettext_noop("Relapsing (relapse within 12 weeks) or refractory AAV"),
        "A-IIM-1": gettext_noop("IIM by 2017 EULAR/ACR (probability ≥ 55%): DM, PM or IMNM"),
        "A-IIM-2": gettext_noop("MMT-8 ≤ 141 of 150"),
        "A-IIM-3": gettext_noop("≥ 2 abnormal other core set measures"),
        "A-SS-1": gettext_noop("SS by 2016 ACR/EULAR classification criteria"),
        "A-SS-2": gettext_noop("Anti-Ro/SSA positive during screening"),
        "A-SS-3": gettext_noop("Saliva flow: stimulated ≥ 0.05 or unstimulated ≥ 0.01 mL/min"),
        "A-SS-4": gettext_noop("ESSDAI ≥ 5"),
        "A-REF-1": gettext_noop("Refractory: glucocorticoids + ≥ 2 immunosuppressants ≥ 3 months"),
        "A-ORG-1": gettext_noop("Blood count: ANC ≥ 0.5, platelets ≥ 20 ×10⁹/L, Hb ≥ 60 g/L"),
        "A-ORG-2": gettext_noop("Coagulation: INR and APTT ≤ 1.5 × ULN"),
        "A-ORG-3": gettext_noop("Liver: AST and ALT ≤ 3 × ULN, total bilirubin ≤ 1.5 × ULN"),
        "A-ORG-4": gettext_noop("Kidney: creatinine ≤ 1.5 × ULN or CrCl ≥ 30 mL/min"),
        "A-ORG-5": gettext_noop("Heart: NYHA I–II, LVEF ≥ 50%, no pericardial effusion, ECG"),
        # xgettext:no-python-format
        "A-ORG-6": gettext_noop("Lungs: SpO₂ ≥ 92% on room air, no significant pleural effusion"),
    }
)

RULE_FUNCTIONS: Mapping[str, Callable[[Ctx], Check]] = MappingProxyType(
    {
        "A-GEN-1": general.a_gen_1,
        "A-GEN-2": general.a_gen_2,
        "A-GEN-3": general.a_gen_3,
        "A-GEN-4": general.a_gen_4,
        "A-GEN-5": general.a_gen_5,
        "A-SLE-1": sle.a_sle_1,
        "A-SLE-2": sle.a_sle_2,
        "A-SLE-3": sle.a_sle_3,
        "A-SLE-4": sle.a_sle_4,
        "A-SSC-1": ssc.a_ssc_1,
        "A-SSC-2": ssc.a_ssc_2,
        "A-SSC-3": ssc.a_ssc_3,
        "A-SSC-4": ssc.a_ssc_4,
        "A-AAV-1": aav.a_aav_1,
        "A-AAV-2": aav.a_aav_2,
        "A-AAV-3": aav.a_aav_3,
        "A-AAV-4": aav.a_aav_4,
        "A-IIM-1": iim.a_iim_1,
        "A-IIM-2": iim.a_iim_2,
        "A-IIM-3": iim.a_iim_3,
        "A-SS-1": ss.a_ss_1,
        "A-SS-2": ss.a_ss_2,
        "A-SS-3": ss.a_ss_3,
        "A-SS-4": ss.a_ss_4,
        "A-REF-1": refractory.a_ref_1,
        "A-ORG-1": organ.a_org_1,
        "A-ORG-2": organ.a_org_2,
        "A-ORG-3": organ.a_org_3,
        "A-ORG-4": organ.a_org_4,
        "A-ORG-5": organ.a_org_5,
        "A-ORG-6": organ.a_org_6,
    }
)

_GENERAL = ("A-GEN-1", "A-GEN-2", "A-GEN-3", "A-GEN-4", "A-GEN-5")
_COMMON = ("A-REF-1", "A-ORG-1", "A-ORG-2", "A-ORG-3", "A-ORG-4", "A-ORG-5", "A-ORG-6")
INDICATION_RULES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "SLE": ("A-SLE-1", "A-SLE-2", "A-SLE-3", "A-SLE-4"),
        "dcSSc": ("A-SSC-1", "A-SSC-2", "A-SSC-3", "A-SSC-4"),
        "AAV": ("A-AAV-1", "A-AAV-2", "A-AAV-3", "A-AAV-4"),
        "IIM": ("A-IIM-1", "A-IIM-2", "A-IIM-3"),
        "SS": ("A-SS-1", "A-SS-2", "A-SS-3", "A-SS-4"),
    }
)


def rules_for(indication: str) -> tuple[str, ...]:
    """A-GEN-*, the indication's block, A-REF-1 and A-ORG-*, in that order."""
    return _GENERAL + INDICATION_RULES[indication] + _COMMON


__all__ = ["INDICATION_RULES", "RULES", "RULE_FUNCTIONS", "Check", "Ctx", "rules_for"]
