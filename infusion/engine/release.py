"""Product release from the certificate of analysis (B-QC-1..5, consensus §2.2).

Every item is ``pass``, ``fail`` or ``missing``. The product is ``rejected`` if any item
fails (even with others missing), else ``pending`` if any is missing, else ``released``.

Limits (all exact Decimal comparisons): CD73/CD90/CD105 ≥ 95% (95.0 passes, 94.9 fails);
CD11b/CD14/CD19/CD34/CD45/CD79a/HLA-DR < 2% (1.99 passes, 2.0 fails); purity ≥ 92%;
endotoxin < 0.5 EU/mL; cell count 90–110% of the labelled amount inclusive; bacteria,
fungi, mycoplasma and virus negative; adherent growth; adipogenic, osteogenic and
chondrogenic differentiation.

Cell count: when the measured and labelled counts are both given they are used (the
percentage is derived from them exactly); otherwise the reported percentage is used.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from .findings import Finding, Serializable, make_finding
from .i18n import gettext_noop

POSITIVE_MARKERS = ("CD73", "CD90", "CD105")
NEGATIVE_MARKERS = ("CD11b", "CD14", "CD19", "CD34", "CD45", "CD79a", "HLA-DR")
DIFFERENTIATION = ("adipogenic", "osteogenic", "chondrogenic")
MICROBIOLOGY = ("bacteria", "fungi", "mycoplasma", "virus")

POSITIVE_MIN_PCT = Decimal(95)
NEGATIVE_BELOW_PCT = Decimal(2)
PURITY_MIN_PCT = Decimal(92)
ENDOTOXIN_BELOW_EU_PER_ML = Decimal("0.5")
COUNT_MIN_PCT = Decimal(90)
COUNT_MAX_PCT = Decimal(110)


@dataclass(frozen=True)
class CertificateOfAnalysis:
    adherent_growth: bool | None = None
    differentiation: Mapping[str, bool | None] = field(default_factory=dict)
    markers_pct: Mapping[str, Decimal | None] = field(default_factory=dict)
    purity_pct: Decimal | None = None
    endotoxin_eu_per_ml: Decimal | None = None
    cell_count_pct_of_label: Decimal | None = None
    cell_count_measured: int | None = None
    cell_count_labelled: int | None = None
    microbiology: Mapping[str, str | None] = field(default_factory=dict)  # "negative"/"positive"
    # B-SITE-1 (read by prerequisites.site_check, never by the release check): who issued
    # the certificate, and whether it is a third party's quality re-test of the product.
    issuer: str | None = None
    third_party_retest: bool | None = None


@dataclass(frozen=True)
class QcItem(Serializable):
    name: str
    value: str | None
    limit: str
    status: str  # pass | fail | missing
    rule_id: str
    path: str  # input field, e.g. "product.certificate.markers_pct.CD105"
    unit: str = ""


@dataclass(frozen=True)
class ReleaseResult(Serializable):
    status: str  # released | rejected | pending
    items: tuple[QcItem, ...]
    failing: tuple[QcItem, ...]
    missing: tuple[QcItem, ...]
    findings: tuple[Finding, ...]


_CERT = "product.certificate."


def _bool_item(name: str, value: bool | None, rule_id: str, path: str) -> QcItem:
    if value is None:
        return QcItem(name, None, "yes", "missing", rule_id, _CERT + path)
    status = "pass" if value else "fail"
    return QcItem(name, "yes" if value else "no", "yes", status, rule_id, _CERT + path)


def _number_item(
    name: str, value: Decimal | None, rule_id: str, limit: str, ok, path: str, unit: str = "%"
) -> QcItem:
    if value is None:
        return QcItem(name, None, limit, "missing", rule_id, _CERT + path, unit)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal, got {value!r}")
    status = "pass" if ok(value) else "fail"
    return QcItem(name, format(value, "f"), limit, status, rule_id, _CERT + path, unit)


def _cell_count_item(cert: CertificateOfAnalysis) -> QcItem:
    name, limit, rule_id = "cell count", "90–110% of labelled", "B-QC-4"
    measured, labelled = cert.cell_count_measured, cert.cell_count_labelled
    if measured is not None and labelled is not None:
        if labelled <= 0 or measured < 0:
            raise ValueError("cell counts must be positive (labelled) and non-negative (measured)")
        pct = Fraction(measured, labelled) * 100
        shown = (Decimal(pct.numerator) / Decimal(pct.denominator)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_EVEN
        )
        ok = COUNT_MIN_PCT <= pct <= COUNT_MAX_PCT
        status = "pass" if ok else "fail"
        return QcItem(
            f"cell count ({measured:,} of {labelled:,} labelled)",
            format(shown, "f"),
            limit,
            status,
            rule_id,
            _CERT + "cell_count_measured",
            "%",
        )
    return _number_item(
        name,
        cert.cell_count_pct_of_label,
        rule_id,
        limit,
        lambda v: COUNT_MIN_PCT <= v <= COUNT_MAX_PCT,
        "cell_count_pct_of_label",
    )


def qc_items(cert: CertificateOfAnalysis) -> list[QcItem]:
    items = [_bool_item("adherent growth", cert.adherent_growth, "B-QC-1", "adherent_growth")]
    items += [
        _bool_item(
            f"{kind} differentiation",
            cert.differentiation.get(kind),
            "B-QC-1",
            f"differentiation.{kind}",
        )
        for kind in DIFFERENTIATION
    ]
    items += [
        _number_item(
            m,
            cert.markers_pct.get(m),
            "B-QC-2",
            "≥ 95%",
            lambda v: v >= POSITIVE_MIN_PCT,
            f"markers_pct.{m}",
        )
        for m in POSITIVE_MARKERS
    ]
    items += [
        _number_item(
            m,
            cert.markers_pct.get(m),
            "B-QC-3",
            "< 2%",
            lambda v: v < NEGATIVE_BELOW_PCT,
            f"markers_pct.{m}",
        )
        for m in NEGATIVE_MARKERS
    ]
    items.append(
        _number_item(
            "purity",
            cert.purity_pct,
            "B-QC-4",
            "≥ 92%",
            lambda v: v >= PURITY_MIN_PCT,
            "purity_pct",
        )
    )
    items.append(
        _number_item(
            "endotoxin",
            cert.endotoxin_eu_per_ml,
            "B-QC-4",
            "< 0.5 EU/mL",
            lambda v: v < ENDOTOXIN_BELOW_EU_PER_ML,
            "endotoxin_eu_per_ml",
            " EU/mL",
        )
    )
    items.append(_cell_count_item(cert))
    for organism in MICROBIOLOGY:
        result = cert.microbiology.get(organism)
        path = _CERT + f"microbiology.{organism}"
        if result is None:
            items.append(QcItem(organism, None, "negative", "missing", "B-QC-5", path))
        elif result in ("negative", "positive"):
            status = "pass" if result == "negative" else "fail"
            items.append(QcItem(organism, result, "negative", status, "B-QC-5", path))
        else:
            raise ValueError(f"{organism} result must be 'negative' or 'positive', got {result!r}")
    return items


def _describe(items: list[QcItem]) -> str:
    return "; ".join(f"{i.name} {i.value}{i.unit} (limit {i.limit})" for i in items)


def release_check(cert: CertificateOfAnalysis) -> ReleaseResult:
    items = qc_items(cert)
    findings = []
    for rule_id in ("B-QC-1", "B-QC-2", "B-QC-3", "B-QC-4", "B-QC-5"):
        mine = [i for i in items if i.rule_id == rule_id]
        failing = [i for i in mine if i.status == "fail"]
        missing = [i for i in mine if i.status == "missing"]
        if failing:
            findings.append(
                make_finding(
                    rule_id,
                    "fail",
                    "block",
                    gettext_noop("Product fails release: %(items)s."),
                    {"items": _describe(failing)},
                )
            )
        if missing:
            findings.append(
                make_finding(
                    rule_id,
                    "missing",
                    "unknown",
                    gettext_noop("Certificate of analysis lacks: %(names)s."),
                    {"names": ", ".join(i.name for i in missing)},
                    missing=tuple(i.path for i in missing),
                )
            )
        if not failing and not missing:
            findings.append(
                make_finding(
                    rule_id,
                    "pass",
                    "info",
                    gettext_noop("Passed: %(items)s."),
                    {"items": _describe(mine)},
                )
            )
    failing_all = tuple(i for i in items if i.status == "fail")
    missing_all = tuple(i for i in items if i.status == "missing")
    status = "rejected" if failing_all else "pending" if missing_all else "released"
    return ReleaseResult(
        status=status,
        items=tuple(items),
        failing=failing_all,
        missing=missing_all,
        findings=tuple(findings),
    )
