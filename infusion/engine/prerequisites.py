"""Before any order: informed consent (B-CONSENT-1) and the site's prerequisites (B-SITE-1).

B-CONSENT-1 (basic principle ①; §2.1): MSC therapy is decided with the patient and family
after informed consent on the ethics-committee-approved form. The plan records whether
the consent is on file (who consented, the day, the form version): ``met`` when it is,
``missing`` (severity ``unknown``) when not. Consent may be taken after the episode is
opened, so a missing consent never blocks the plan; the Django layer refuses to sign the
MSC orders until it is recorded.

B-SITE-1 (§2.1, §2.2): GMP-grade manufacture and third-party quality re-testing of the
product, with the certificate's issuer recorded. ``met`` when the issuer is named and the
certificate is a third-party re-test; ``not_third_party`` (``warning``) when the
certificate is the manufacturer's own; ``missing`` (``unknown``) when the issuer or the
re-test flag is not recorded. The product release (B-QC-1…5) does not read these fields:
this finding never changes the release status.
"""

from dataclasses import dataclass
from datetime import date

from .findings import Finding, make_finding
from .i18n import gettext_noop
from .release import CertificateOfAnalysis

CONSENTERS = ("patient", "relative")


@dataclass(frozen=True)
class ConsentInput:
    consenter: str  # "patient" | "relative"
    consented_on: date
    form_version: str  # the ethics-approved consent form's version


def consent_check(consent: ConsentInput | None) -> Finding:
    """B-CONSENT-1: is the informed consent on file?"""
    if consent is None:
        return make_finding(
            "B-CONSENT-1",
            "missing",
            "unknown",
            gettext_noop(
                "Informed consent is not recorded: record it (who consented, the date, the "
                "ethics-approved form version) before the orders are signed."
            ),
            missing=("consent",),
        )
    if consent.consenter not in CONSENTERS:
        raise ValueError(f"consenter must be one of {CONSENTERS}, got {consent.consenter!r}")
    if consent.consenter == "patient":
        template = gettext_noop(
            "Informed consent recorded: given by the patient on %(date)s, form version %(version)s."
        )
    else:
        template = gettext_noop(
            "Informed consent recorded: given by a relative on %(date)s, form version %(version)s."
        )
    return make_finding(
        "B-CONSENT-1",
        "met",
        "info",
        template,
        {"date": consent.consented_on, "version": consent.form_version},
    )


_CERT = "product.certificate."


def site_check(certificate: CertificateOfAnalysis) -> Finding:
    """B-SITE-1: the certificate's issuer and whether it is a third-party re-test."""
    issuer = (certificate.issuer or "").strip()
    retest = certificate.third_party_retest
    missing = tuple(
        _CERT + name
        for name, absent in (("issuer", not issuer), ("third_party_retest", retest is None))
        if absent
    )
    if missing:
        return make_finding(
            "B-SITE-1",
            "missing",
            "unknown",
            gettext_noop(
                "Record who issued the certificate of analysis and whether it is a "
                "third-party quality re-test."
            ),
            missing=missing,
        )
    if not retest:
        return make_finding(
            "B-SITE-1",
            "not_third_party",
            "warning",
            gettext_noop(
                "The certificate of analysis from %(issuer)s is not a third-party quality "
                "re-test: have the product re-tested by a third party."
            ),
            {"issuer": issuer},
        )
    return make_finding(
        "B-SITE-1",
        "met",
        "info",
        gettext_noop("Third-party quality re-test by %(issuer)s."),
        {"issuer": issuer},
    )
