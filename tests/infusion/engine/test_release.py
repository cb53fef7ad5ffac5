"""Product release from the certificate of analysis: B-QC-1..5 at every boundary."""

from dataclasses import replace

import pytest

from infusion.engine import CertificateOfAnalysis, release_check

from . import D

PASSING = CertificateOfAnalysis(
    adherent_growth=True,
    differentiation={"adipogenic": True, "osteogenic": True, "chondrogenic": True},
    markers_pct={
        "CD73": D("99.0"),
        "CD90": D("99.0"),
        "CD105": D("99.0"),
        "CD11b": D("0.5"),
        "CD14": D("0.5"),
        "CD19": D("0.5"),
        "CD34": D("0.5"),
        "CD45": D("0.5"),
        "CD79a": D("0.5"),
        "HLA-DR": D("0.5"),
    },
    purity_pct=D("95"),
    endotoxin_eu_per_ml=D("0.1"),
    cell_count_pct_of_label=D("100"),
    microbiology={
        "bacteria": "negative",
        "fungi": "negative",
        "mycoplasma": "negative",
        "virus": "negative",
    },
)


def with_marker(name, value):
    return replace(PASSING, markers_pct={**PASSING.markers_pct, name: value})


def item(result, name):
    return next(i for i in result.items if i.name == name)


def test_it_releases_a_passing_product():
    result = release_check(PASSING)
    assert result.status == "released"
    assert {f.rule_id for f in result.findings} == {
        "B-QC-1",
        "B-QC-2",
        "B-QC-3",
        "B-QC-4",
        "B-QC-5",
    }
    assert all(f.status == "pass" for f in result.findings)


# --- B-QC-1 ----------------------------------------------------------------------------


def test_it_rejects_without_adherent_growth():
    result = release_check(replace(PASSING, adherent_growth=False))
    assert result.status == "rejected"
    assert [(i.name, i.rule_id) for i in result.failing] == [("adherent growth", "B-QC-1")]


@pytest.mark.parametrize("kind", ["adipogenic", "osteogenic", "chondrogenic"])
def test_it_needs_tri_lineage_differentiation(kind):
    failing = release_check(
        replace(PASSING, differentiation={**PASSING.differentiation, kind: False})
    )
    assert failing.status == "rejected"
    missing = release_check(
        replace(PASSING, differentiation={**PASSING.differentiation, kind: None})
    )
    assert missing.status == "pending"
    assert missing.missing[0].path == f"product.certificate.differentiation.{kind}"


# --- B-QC-2: 95.0 passes, 94.9 fails ---------------------------------------------------


@pytest.mark.parametrize("marker", ["CD73", "CD90", "CD105"])
@pytest.mark.parametrize(
    ("value", "status"),
    [(D("95.0"), "pass"), (D("94.9"), "fail"), (D("95"), "pass"), (D("94.99"), "fail")],
)
def test_positive_markers_need_at_least_95_percent(marker, value, status):
    result = release_check(with_marker(marker, value))
    assert item(result, marker).status == status
    assert result.status == ("released" if status == "pass" else "rejected")


def test_a_failing_positive_marker_is_listed_with_value_limit_and_rule():
    result = release_check(with_marker("CD105", D("94.9")))
    (failing,) = result.failing
    assert (failing.name, failing.value, failing.limit, failing.rule_id) == (
        "CD105",
        "94.9",
        "≥ 95%",
        "B-QC-2",
    )
    finding = next(f for f in result.findings if f.status == "fail")
    assert finding.rule_id == "B-QC-2"
    assert "CD105 94.9%" in finding.reason


# --- B-QC-3: 1.99 passes, 2.0 fails ----------------------------------------------------


@pytest.mark.parametrize("marker", ["CD11b", "CD14", "CD19", "CD34", "CD45", "CD79a", "HLA-DR"])
@pytest.mark.parametrize(
    ("value", "status"), [(D("1.99"), "pass"), (D("2.0"), "fail"), (D("2"), "fail")]
)
def test_negative_markers_must_stay_below_2_percent(marker, value, status):
    result = release_check(with_marker(marker, value))
    assert item(result, marker).status == status
    assert item(result, marker).rule_id == "B-QC-3"


# --- B-QC-4 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purity", "status"), [(D("92"), "pass"), (D("92.0"), "pass"), (D("91.9"), "fail")]
)
def test_purity_needs_at_least_92_percent(purity, status):
    assert item(release_check(replace(PASSING, purity_pct=purity)), "purity").status == status


@pytest.mark.parametrize(
    ("endotoxin", "status"), [(D("0.49"), "pass"), (D("0.5"), "fail"), (D("0.50"), "fail")]
)
def test_endotoxin_must_stay_below_0_5(endotoxin, status):
    result = release_check(replace(PASSING, endotoxin_eu_per_ml=endotoxin))
    assert item(result, "endotoxin").status == status
    assert item(result, "endotoxin").rule_id == "B-QC-4"


@pytest.mark.parametrize(
    ("pct", "status"),
    [(D("90"), "pass"), (D("110"), "pass"), (D("89.9"), "fail"), (D("110.1"), "fail")],
)
def test_cell_count_percentage_must_be_90_to_110(pct, status):
    result = release_check(replace(PASSING, cell_count_pct_of_label=pct))
    assert item(result, "cell count").status == status


@pytest.mark.parametrize(
    ("measured", "status"),
    [(900, "pass"), (1100, "pass"), (899, "fail"), (1101, "fail")],
)
def test_cell_count_from_measured_and_labelled_counts(measured, status):
    result = release_check(
        replace(
            PASSING,
            cell_count_pct_of_label=None,
            cell_count_measured=measured,
            cell_count_labelled=1000,
        )
    )
    (count,) = [i for i in result.items if i.name.startswith("cell count")]
    assert count.status == status


def test_measured_counts_win_over_a_reported_percentage():
    result = release_check(
        replace(
            PASSING,
            cell_count_pct_of_label=D(100),
            cell_count_measured=899,
            cell_count_labelled=1000,
        )
    )
    assert result.status == "rejected"


# --- B-QC-5 ----------------------------------------------------------------------------


@pytest.mark.parametrize("organism", ["bacteria", "fungi", "mycoplasma", "virus"])
def test_microbiology_must_be_negative(organism):
    positive = release_check(
        replace(PASSING, microbiology={**PASSING.microbiology, organism: "positive"})
    )
    assert positive.status == "rejected"
    assert positive.failing[0].rule_id == "B-QC-5"
    missing = release_check(replace(PASSING, microbiology={**PASSING.microbiology, organism: None}))
    assert missing.status == "pending"


# --- pending vs rejected ---------------------------------------------------------------


def test_an_empty_certificate_is_pending_and_lists_every_item():
    result = release_check(CertificateOfAnalysis())
    assert result.status == "pending"
    assert len(result.missing) == len(result.items) == 21
    assert all(f.severity == "unknown" for f in result.findings)


def test_a_failing_item_rejects_even_with_others_missing():
    cert = replace(CertificateOfAnalysis(), endotoxin_eu_per_ml=D("0.5"))
    result = release_check(cert)
    assert result.status == "rejected"
    assert [i.name for i in result.failing] == ["endotoxin"]
    assert len(result.missing) == 20
