"""Forms of the infusion pages. They parse and check input only; the services decide."""

from datetime import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.clinical_time import SCHEDULE_DAYS_AHEAD
from core.forms import (
    BoundedDateField,
    BoundedDateTimeField,
    BoundedDecimalField,
    DateInput,
    DateTimeInput,
    single_line,
)
from core.models import Role, User

from .inputs import DIFFERENTIATION, FIELD_PATHS, INVOLVEMENT, MARKERS, marker_field
from .models import Consent, Consenter, ReactionType, Severity
from .protocol import VITAL_FIELDS, vital_ranges

E6 = Decimal(1_000_000)
YES_NO_UNKNOWN = forms.NullBooleanSelect


def _nullbool(label, help_text=""):
    return forms.NullBooleanField(
        label=label, required=False, widget=YES_NO_UNKNOWN, help_text=help_text
    )


def _choice(label, choices, *, required=False, help_text=""):
    return forms.TypedChoiceField(
        label=label,
        choices=[("", _("Not recorded"))] + list(choices),
        required=required,
        empty_value=None,
        help_text=help_text,
    )


def _decimal(label, *, required=False, min_value=None, max_value=None, places=6, help_text=""):
    return BoundedDecimalField(
        label=label,
        required=required,
        min_value=min_value,
        max_value=max_value,
        max_digits=15,
        decimal_places=places,
        help_text=help_text,
    )


INVOLVEMENT_LABELS = {
    "renal": _("Renal involvement (lupus nephritis)"),
    "haematological": _("Haematological involvement"),
    "pulmonary": _("Pulmonary involvement"),
    "skin": _("Skin involvement"),
    "cns": _("CNS involvement"),
    "cardiac": _("Cardiac involvement"),
    "hepatic": _("Hepatic involvement"),
}
MARKER_LIMIT = {m: "≥ 95%" for m in MARKERS[:3]} | {m: "< 2%" for m in MARKERS[3:]}


class EpisodeForm(forms.Form):
    """The episode form: what the patient record does not hold (B-IND, B-CI, B-QC, order)."""

    sle_severity = _choice(
        _("SLE severity"),
        [("mild", _("Mild")), ("moderate", _("Moderate")), ("severe", _("Severe"))],
        help_text=_("B-IND-1 (R1, 1B): moderate to severe SLE."),
    )
    sle_active = _nullbool(_("Disease active"))
    consciousness = _choice(
        _("Consciousness"),
        [("clear", _("Clear")), ("impaired", _("Impaired"))],
        help_text=_(
            "B-ROUTE-2: intrathecal MSC for severe SLE with CNS involvement, not if impaired."
        ),
    )
    pregnant = _nullbool(_("Pregnant"), _("B-CI-2: not recommended."))
    lactating = _nullbool(_("Lactating"), _("B-CI-2: not recommended."))
    tumour = _nullbool(_("Tumour"), _("B-CI-3: not recommended."))
    infection = _nullbool(_("Concurrent infection"), _("B-IND-3 (R8, 2B): not a contraindication."))
    other_autoimmune_disease = _nullbool(_("Other autoimmune disease"))
    other_autoimmune_names = single_line(
        forms.CharField(label=_("Which (comma-separated)"), required=False, max_length=300)
    )
    pap_systolic_mmhg = _decimal(
        _("Pulmonary artery systolic pressure (mmHg)"),
        min_value=0,
        max_value=300,
        places=1,
        help_text=_(
            "B-CI-1: > 70 mmHg is severe pulmonary hypertension; above normal and ≤ 70 mmHg "
            "is mild–moderate (not recommended with severe cardiopulmonary insufficiency)."
        ),
    )
    pulmonary_hypertension = _choice(
        _("Pulmonary hypertension"),
        [
            ("none", _("None")),
            ("mild", _("Mild")),
            ("moderate", _("Moderate")),
            ("severe", _("Severe")),
        ],
        help_text=_("B-CI-1: a grade that disagrees with the PASP is a data conflict."),
    )
    severe_cardiopulmonary_insufficiency = _nullbool(_("Severe cardiopulmonary insufficiency"))

    long_term_antiplatelet = _nullbool(
        _("On long-term antiplatelet prophylaxis"),
        _("B-AP-1: long-term users get no additional course."),
    )
    bleeding_history = _nullbool(_("Bleeding history"))
    antiplatelet_drug = _choice(
        _("Antiplatelet drug"), [("aspirin", _("Aspirin")), ("clopidogrel", _("Clopidogrel"))]
    )
    antiplatelet_dose_mg = _decimal(
        _("Antiplatelet dose (mg/day)"),
        min_value=75,
        max_value=100,
        places=1,
        help_text=_("B-AP-1 (R7, 2C): 75–100 mg once daily from the day before, 2 weeks."),
    )
    antiplatelet_below_floor_override = forms.BooleanField(
        label=_("Give the course although the platelets are below the ward floor"),
        required=False,
        help_text=_(
            "B-AP-1, C-OVR-1: below the floor no course is planned; giving it needs a reason "
            "and a second physician's signature."
        ),
    )

    msc_source = _choice(
        _("MSC source"),
        [
            ("allogeneic_umbilical_cord", _("Allogeneic, umbilical cord")),
            ("allogeneic_bone_marrow", _("Allogeneic, bone marrow")),
            ("allogeneic_other", _("Allogeneic, other tissue")),
            ("autologous", _("Autologous")),
        ],
        help_text=_("B-IND-2 (R2, 1A): allogeneic; umbilical cord preferred."),
    )
    product_lot = single_line(
        forms.CharField(label=_("Product lot"), required=False, max_length=60)
    )
    preparation_time = BoundedDateTimeField(
        label=_("Suspension prepared at"),
        widget=DateTimeInput(),
        help_text=_("B-ADM-1: infuse within 8–12 h of preparation."),
    )
    suspension_volume_ml = _decimal(
        _("Suspension volume (mL)"),
        required=True,
        min_value=Decimal("0.1"),
        max_value=1000,
        places=2,
    )
    coa_issuer = single_line(
        forms.CharField(
            label=_("Certificate issued by"),
            required=False,
            max_length=200,
            help_text=_("B-SITE-1: the laboratory that issued the certificate of analysis."),
        )
    )
    coa_third_party_retest = _nullbool(
        _("Third-party quality re-test"),
        _("B-SITE-1: the product is re-tested by a third party, not only by its maker."),
    )
    coa_adherent_growth = _nullbool(_("Plastic-adherent growth"), "B-QC-1")
    coa_purity_pct = _decimal(
        _("Purity (%)"), min_value=0, max_value=100, places=3, help_text="B-QC-4 ≥ 92%"
    )
    coa_endotoxin_eu_per_ml = _decimal(
        _("Endotoxin (EU/mL)"), min_value=0, max_value=100000, places=4, help_text="B-QC-4 < 0.5"
    )
    coa_cell_count_measured_e6 = _decimal(
        _("Cell count measured (×10⁶)"), min_value=0, max_value=10**6, places=3
    )
    coa_cell_count_labelled_e6 = _decimal(
        _("Cell count labelled (×10⁶)"),
        min_value=Decimal("0.001"),
        max_value=10**6,
        places=3,
        help_text=_("B-QC-4: the measured count is 90 to 110 percent of the labelled count."),
    )

    planned_start = BoundedDateTimeField(
        label=_("Planned start"), widget=DateTimeInput(), max_days_ahead=SCHEDULE_DAYS_AHEAD
    )
    dose_cells_e6 = _decimal(
        _("Dose (×10⁶ cells)"),
        required=True,
        min_value=Decimal("0.000001"),
        max_value=10**6,
        places=6,
        help_text=_("B-DOSE-1 (R3, 1B): 1–2 × 10⁶ cells/kg."),
    )
    drop_factor_gtt_per_ml = forms.IntegerField(
        label=_("Drop factor (drops/mL)"), min_value=1, max_value=100, initial=20
    )
    cyclophosphamide_preconditioning = _nullbool(
        _("Cyclophosphamide pre-conditioning planned"),
        _("B-PRE-1 (R5, 2C): not recommended."),
    )

    FIELDSETS = (
        (
            _("Disease and candidacy"),
            (
                "sle_severity",
                "sle_active",
                *(f"involvement_{o}" for o in INVOLVEMENT),
                "consciousness",
                "pregnant",
                "lactating",
                "tumour",
                "infection",
                "other_autoimmune_disease",
                "other_autoimmune_names",
                "pap_systolic_mmhg",
                "pulmonary_hypertension",
                "severe_cardiopulmonary_insufficiency",
            ),
        ),
        (
            _("Antiplatelet prophylaxis and bleeding"),
            (
                "long_term_antiplatelet",
                "bleeding_history",
                "antiplatelet_drug",
                "antiplatelet_dose_mg",
                "antiplatelet_below_floor_override",
            ),
        ),
        (
            _("Product and certificate of analysis"),
            (
                "msc_source",
                "product_lot",
                "preparation_time",
                "suspension_volume_ml",
                "coa_issuer",
                "coa_third_party_retest",
                "coa_adherent_growth",
                *(f"coa_{d}" for d in DIFFERENTIATION),
                *(marker_field(m) for m in MARKERS),
                "coa_purity_pct",
                "coa_endotoxin_eu_per_ml",
                "coa_cell_count_measured_e6",
                "coa_cell_count_labelled_e6",
                "coa_bacteria",
                "coa_fungi",
                "coa_mycoplasma",
                "coa_virus",
            ),
        ),
        (
            _("Order"),
            (
                "planned_start",
                "dose_cells_e6",
                "drop_factor_gtt_per_ml",
                "cyclophosphamide_preconditioning",
            ),
        ),
    )

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing

    def fieldsets(self):
        return [(title, [self[name] for name in names]) for title, names in self.FIELDSETS]

    def clean_planned_start(self):
        value = self.cleaned_data["planned_start"]
        if value < timezone.now():
            raise forms.ValidationError(_("The planned start is in the past."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("long_term_antiplatelet") is not True:
            if not data.get("antiplatelet_drug"):
                self.add_error(
                    "antiplatelet_drug",
                    _("Choose aspirin or clopidogrel (or record long-term antiplatelet use)."),
                )
            if data.get("antiplatelet_dose_mg") is None:
                self.add_error("antiplatelet_dose_mg", _("Give the dose (75–100 mg/day)."))
        measured, labelled = (
            data.get("coa_cell_count_measured_e6"),
            data.get("coa_cell_count_labelled_e6"),
        )
        if (measured is None) != (labelled is None):
            self.add_error(
                "coa_cell_count_labelled_e6", _("Give both the measured and the labelled count.")
            )
        return data

    def episode_data(self):
        """Cleaned values as the services take them (keys of inputs.EPISODE_FIELDS)."""
        data = dict(self.cleaned_data)
        data["dose_cells"] = _cells(data.pop("dose_cells_e6", None))
        data["coa_cell_count_measured"] = _cells(data.pop("coa_cell_count_measured_e6", None))
        data["coa_cell_count_labelled"] = _cells(data.pop("coa_cell_count_labelled_e6", None))
        if data.get("long_term_antiplatelet") is True:
            data["antiplatelet_drug"] = data["antiplatelet_drug"] or None
        return data

    @classmethod
    def initial_from_document(cls, doc, product_lot=""):
        """Form initial values from a stored plan-input document (editing an episode)."""
        initial = {"product_lot": product_lot}
        for name, path in FIELD_PATHS.items():
            node = doc
            for key in path.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            initial[name] = node
        for name in ("preparation_time", "planned_start"):
            if initial.get(name):
                initial[name] = timezone.localtime(datetime.fromisoformat(initial[name]))
        if isinstance(initial.get("other_autoimmune_names"), list):
            initial["other_autoimmune_names"] = ", ".join(initial["other_autoimmune_names"])
        for name in ("dose_cells", "coa_cell_count_measured", "coa_cell_count_labelled"):
            value = initial.pop(name, None)
            initial[f"{name}_e6"] = (
                format((Decimal(value) / E6).normalize(), "f") if value is not None else None
            )
        return initial


# Repetitive fields, added after the class body (one per organ, marker, test).
EpisodeForm.base_fields.update(
    {f"involvement_{o}": _nullbool(INVOLVEMENT_LABELS[o]) for o in INVOLVEMENT}
)
EpisodeForm.base_fields.update(
    {
        f"coa_{d}": _nullbool(
            {
                "adipogenic": _("Adipogenic differentiation"),
                "osteogenic": _("Osteogenic differentiation"),
                "chondrogenic": _("Chondrogenic differentiation"),
            }[d],
            "B-QC-1",
        )
        for d in DIFFERENTIATION
    }
)
EpisodeForm.base_fields.update(
    {
        marker_field(m): _decimal(
            f"{m} (%)",
            min_value=0,
            max_value=100,
            places=3,
            help_text=("B-QC-2 " if MARKER_LIMIT[m].startswith("≥") else "B-QC-3 ")
            + MARKER_LIMIT[m],
        )
        for m in MARKERS
    }
)
EpisodeForm.base_fields.update(
    {
        f"coa_{o}": _choice(
            {
                "bacteria": _("Bacteria"),
                "fungi": _("Fungi"),
                "mycoplasma": _("Mycoplasma"),
                "virus": _("Virus"),
            }[o],
            [("negative", _("Negative")), ("positive", _("Positive"))],
            help_text="B-QC-5",
        )
        for o in ("bacteria", "fungi", "mycoplasma", "virus")
    }
)


def _cells(e6):
    if e6 is None:
        return None
    return int((Decimal(e6) * E6).to_integral_value())


class ConfirmForm(forms.Form):
    """The decisions that go with opening or changing an episode."""

    override_reason = forms.CharField(
        label=_("Reason to proceed despite the candidacy check"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    acknowledge = forms.BooleanField(
        label=_("I have read the warnings and cautions above"), required=False
    )
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=2000)
    # B-AP-1 / C-MAR-1: when day −1 of the course is already past, start it today.
    antiplatelet_from_today = forms.BooleanField(
        label=_("Start the antiplatelet course today if its planned first day is already past"),
        required=False,
    )
    # C-OVR-1: a candidacy that is not recommended or incomplete, or a repeat infusion that
    # is not eligible, proceeds with the reason above and a second physician's signature.
    second_physician = forms.ModelChoiceField(
        label=_("Second physician (co-signs the override)"),
        queryset=User.objects.none(),
        required=False,
    )
    second_password = forms.CharField(
        label=_("Second physician's password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, editing=False, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["reason"]
        else:
            del self.fields["antiplatelet_from_today"]
        if actor is not None:
            second_physician_choices(self.fields["second_physician"], actor)


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Your password (signature)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=pgettext_lazy("order action", "Reason"), max_length=2000)


class OrderEditForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    scheduled_at = BoundedDateTimeField(
        label=_("Time"),
        required=False,
        widget=DateTimeInput(),
        max_days_ahead=SCHEDULE_DAYS_AHEAD,
    )
    dose = BoundedDecimalField(
        label=_("Dose (mg)"),
        required=False,
        min_value=Decimal("0.1"),
        max_digits=10,
        decimal_places=2,
    )
    reason = forms.CharField(label=_("Reason for the change"), max_length=2000)

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        if order.kind != "cyclophosphamide":
            del self.fields["scheduled_at"]
            del self.fields["dose"]

    def changes(self, order):
        out = {}
        for name in ("note", "scheduled_at", "dose"):
            if name in self.fields:
                value = self.cleaned_data.get(name)
                if name == "note":
                    value = (value or "").strip()
                if value is not None and value != getattr(order, name):
                    out[name] = value
        return out


class CyclophosphamideForm(forms.Form):
    scheduled_at = BoundedDateTimeField(
        label=_("Time to give it"), widget=DateTimeInput(), max_days_ahead=SCHEDULE_DAYS_AHEAD
    )
    dose_mg = BoundedDecimalField(
        label=_("Dose (mg)"),
        min_value=Decimal("0.1"),
        max_value=10000,
        max_digits=10,
        decimal_places=2,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    acknowledge = forms.BooleanField(label=_("I have read the warning above"), required=False)
    override_reason = forms.CharField(
        label=_("Reason to give it within the 48 h hold"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    second_physician = forms.ModelChoiceField(
        label=_("Second physician"), queryset=User.objects.none(), required=False
    )
    second_password = forms.CharField(
        label=_("Second physician's password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        second_physician_choices(self.fields["second_physician"], actor)


def second_physician_choices(field, actor):
    """The physicians of the actor's ward but the actor, by name (the co-signer of an
    override: B-CYC-1, C-OVR-1, C-VERIFY-1; the service checks again)."""
    field.queryset = (
        User.objects.filter(ward_id=actor.ward_id, is_active=True, groups__name=Role.PHYSICIAN)
        .exclude(pk=actor.pk)
        .order_by("last_name", "username")
    )
    field.label_from_instance = lambda u: u.get_full_name() or u.username


class CheckOverrideForm(forms.Form):
    """C-VERIFY-1: a failing check proceeds with a reason and a second physician's
    signature."""

    check_key = forms.CharField(widget=forms.HiddenInput, max_length=30)
    reason = forms.CharField(
        label=_("Reason for the override"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    second_physician = forms.ModelChoiceField(
        label=_("Second physician (not the prescriber)"), queryset=User.objects.none()
    )
    second_password = forms.CharField(
        label=_("Second physician's password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        second_physician_choices(self.fields["second_physician"], actor)


class ColdChainViabilityForm(forms.Form):
    """B-ADM-1 (issue 19): a pharmacist confirms the product stays viable after the
    cold-chain limit (first step of a deviation)."""

    until = BoundedDateTimeField(
        label=_("Viable until"),
        widget=DateTimeInput(),
        help_text=_("After the cold-chain limit; at most 24 h after preparation."),
    )
    note = forms.CharField(
        label=_("How viability was confirmed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    password = forms.CharField(
        label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "ccv_%s")
        super().__init__(*args, **kwargs)


class ColdChainDeviationForm(forms.Form):
    """B-ADM-1 / C-OVR-1 (issue 19): the physician's reasoned deviation, co-signed by a
    second physician, after the pharmacist's viability confirmation."""

    reason = forms.CharField(
        label=_("Reason for the deviation"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    second_physician = forms.ModelChoiceField(
        label=_("Second physician"), queryset=User.objects.none()
    )
    second_password = forms.CharField(
        label=_("Second physician's password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, actor, **kwargs):
        kwargs.setdefault("auto_id", "ccd_%s")
        super().__init__(*args, **kwargs)
        second_physician_choices(self.fields["second_physician"], actor)


class ChartTimeForm(forms.Form):
    """Chart forms share one page: each kind gets its own element ids (`id_prefix`)."""

    id_prefix = "time"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)

    at = BoundedDateTimeField(
        label=_("Time"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("Leave empty for now."),
    )


class RateForm(ChartTimeForm):
    id_prefix = "rate"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["rate_ml_per_min", "at"])

    rate_ml_per_min = BoundedDecimalField(
        label=_("Rate (mL/min)"),
        min_value=Decimal("0.01"),
        max_value=100,
        max_digits=5,
        decimal_places=2,
    )


class EndForm(ChartTimeForm):
    id_prefix = "end"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["stopped", "volume_given_ml", "reason", "at"])

    stopped = forms.BooleanField(label=_("Stopped before the full volume"), required=False)
    # Issue 15: asked when the end is earlier than the volume could run at the charted rates.
    volume_given_ml = BoundedDecimalField(
        label=_("Volume actually given (mL)"),
        required=False,
        min_value=0,
        max_digits=7,
        decimal_places=1,
        help_text=_("Needed when the end is earlier than the charted rates allow."),
    )
    reason = forms.CharField(label=_("Reason for stopping"), required=False, max_length=2000)


class VitalsForm(ChartTimeForm):
    id_prefix = "vitals"
    on_demand = forms.BooleanField(label=_("On demand (not a planned check)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, r in vital_ranges().items():
            limits = "–".join(str(v) for v in (r.low, r.high) if v is not None)
            if r.high is None:
                limits = f"≥ {r.low}"
            self.fields[name] = BoundedDecimalField(
                label=f"{r.label} ({r.unit})",
                required=False,
                max_digits=5,
                decimal_places=1 if name == "temperature_c" else 0,
                help_text=limits,
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            )
        self.order_fields([*VITAL_FIELDS, "at", "on_demand"])

    def values(self):
        return {name: self.cleaned_data.get(name) for name in VITAL_FIELDS}


class ReactionForm(ChartTimeForm):
    id_prefix = "reaction"
    reaction_type = forms.ChoiceField(label=_("Reaction"), choices=ReactionType.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    description = forms.CharField(label=_("Description"), required=False, max_length=2000)
    action = forms.CharField(label=_("Action taken"), max_length=2000)


class SaeForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "sae_%s")
        super().__init__(*args, **kwargs)

    informed_whom = single_line(
        forms.CharField(label=_("Who was informed (name, role, department)"), max_length=200)
    )
    informed_at = BoundedDateTimeField(label=_("When they were informed"), widget=DateTimeInput())
    description = forms.CharField(
        label=_("What happened and what was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _yes_no(value):
    return {"true": True, "false": False}.get(value)


class FollowUpForm(forms.Form):
    """B-REP-1: the response to this infusion and a relapse after it (the service checks
    the dates against the infusion day, today and each other)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "follow_up_%s")
        super().__init__(*args, **kwargs)

    response = forms.TypedChoiceField(
        label=_("Response to this infusion"),
        choices=[("", _("Choose")), ("true", _("Responded")), ("false", _("No response"))],
        coerce=_yes_no,
        empty_value=None,
    )
    response_date = BoundedDateField(label=_("Response assessed on"), widget=DateInput())
    relapse = forms.TypedChoiceField(
        label=_("Relapse after the response"),
        choices=[
            ("", _("Not documented yet")),
            ("false", _("No relapse")),
            ("true", _("Relapsed")),
        ],
        coerce=_yes_no,
        empty_value=None,
        required=False,
        help_text=_("B-REP-1 (R10, 2B): a repeat infusion is for a relapse after a response."),
    )
    relapse_date = BoundedDateField(label=_("Relapse on"), widget=DateInput(), required=False)
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=2000,
        help_text=_("Required when changing values already documented."),
    )

    @classmethod
    def initial_for(cls, episode):
        def choice(value):
            return "" if value is None else ("true" if value else "false")

        return {
            "response": choice(episode.response),
            "response_date": episode.response_date,
            "relapse": choice(episode.relapse),
            "relapse_date": episode.relapse_date,
        }


class AdministerForm(ChartTimeForm):
    id_prefix = "give"
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    # C-MAR-1: the due dose this records (a row of the MAR), and what happened to it; the
    # note is the reason when the dose is held or refused.
    dose = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("given", _("Given")),
            ("held", _("Held")),
            ("refused", _("Refused by the patient")),
        ],
        required=False,
    )
    dose_given = BoundedDecimalField(
        label=_("Dose given"), required=False, min_value=0, max_digits=12, decimal_places=3
    )


def _consent_label(name):
    """The consent model's own (translated) field name, as a form label."""
    return capfirst(Consent._meta.get_field(name).verbose_name)


class ConsentForm(forms.Form):
    """B-CONSENT-1: the informed consent record (a correction also needs a reason). The
    service checks the date against today and the birth date, the physician and the scan."""

    consenter = forms.ChoiceField(
        label=_consent_label("consenter"),
        choices=Consenter.choices,
        initial=Consenter.PATIENT,
        widget=forms.RadioSelect,
    )
    consenter_name = single_line(
        forms.CharField(
            label=_consent_label("consenter_name"),
            required=False,
            max_length=150,
            help_text=_("Leave empty when the patient consented: the patient's name is used."),
        )
    )
    relationship = single_line(
        forms.CharField(
            label=_consent_label("relationship"),
            required=False,
            max_length=60,
            help_text=_("For a relative (legal representative), e.g. spouse or parent."),
        )
    )
    consented_on = BoundedDateField(label=_consent_label("consented_on"), widget=DateInput())
    form_version = single_line(forms.CharField(label=_consent_label("form_version"), max_length=60))
    taken_by = forms.ModelChoiceField(
        label=_consent_label("taken_by"), queryset=User.objects.none()
    )
    scan = forms.FileField(
        label=_consent_label("scan"),
        required=False,
        help_text=_("Optional: the signed form as a PDF, JPEG or PNG file."),
        widget=forms.FileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, ward_id, correcting=False, **kwargs):
        kwargs.setdefault("auto_id", "consent_%s")
        super().__init__(*args, **kwargs)
        self.fields["taken_by"].queryset = User.objects.filter(
            ward_id=ward_id, is_active=True, groups__name=Role.PHYSICIAN
        ).order_by("last_name", "username")
        self.fields["taken_by"].label_from_instance = lambda u: u.get_full_name() or u.username
        if not correcting:
            del self.fields["reason"]

    @staticmethod
    def initial_for(consent, actor):
        """The form's initial values: the record to correct, or the physician at hand."""
        if consent is None:
            return {"consenter": Consenter.PATIENT, "taken_by": actor.pk}
        return {
            "consenter": consent.consenter,
            "consenter_name": consent.consenter_name,
            "relationship": consent.relationship,
            "consented_on": consent.consented_on,
            "form_version": consent.form_version,
            "taken_by": consent.taken_by_id,
        }
