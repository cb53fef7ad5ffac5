"""The rule registry: every Part B rule ID of ``shared/clinical-rules.md``, and the Part C
(workflow-safety) rules that the infusion module enforces.

Each rule carries the consensus recommendation number and GRADE grade from its Table 3
(R1–R10) where the rule rests on one, and the source section. Findings take their
``recommendation``/``grade`` from here, so a rule can never be cited with the wrong grade.

Source: Chinese Rheumatology Association, "Expert consensus on allogeneic mesenchymal
stem cells in the treatment of systemic lupus erythematosus" (2021),
DOI 10.3760/cma.j.cn141217-20210923-00381.
"""

from dataclasses import dataclass

from .i18n import gettext_noop


@dataclass(frozen=True)
class Recommendation:
    number: str  # "R7"
    grade: str  # GRADE: 1/2 = strong/weak recommendation, A–D = evidence level
    text: str  # English rendering of the Table 3 wording


# Table 3 of the consensus (recommendation, GRADE grade, expert panel score omitted).
RECOMMENDATIONS: dict[str, Recommendation] = {
    r.number: r
    for r in (
        Recommendation(
            "R1",
            "1B",
            gettext_noop("The indication is, in principle, moderate to severe SLE."),
        ),
        Recommendation("R2", "1A", gettext_noop("Use normal allogeneic MSC.")),
        Recommendation("R3", "1B", gettext_noop("Infuse (1–2) × 10⁶ MSC per kg body weight.")),
        Recommendation("R4", "1B", gettext_noop("Single peripheral intravenous infusion.")),
        Recommendation(
            "R5",
            "2C",
            gettext_noop("Cyclophosphamide pre-conditioning before MSC is not recommended."),
        ),
        Recommendation(
            "R6",
            "1A",
            gettext_noop(
                "Monitor vital signs closely during the infusion; treat adverse reactions promptly."
            ),
        ),
        Recommendation(
            "R7",
            "2C",
            gettext_noop(
                "Give intravenous dexamethasone before the infusion and use thrombosis prophylaxis."
            ),
        ),
        Recommendation(
            "R8",
            "2B",
            gettext_noop(
                "SLE with infection may be treated with MSC while the infection is being "
                "actively treated."
            ),
        ),
        Recommendation(
            "R9",
            "1B",
            gettext_noop("SLE with another autoimmune disease may be treated with allogeneic MSC."),
        ),
        Recommendation(
            "R10",
            "2B",
            gettext_noop(
                "If the first MSC treatment was effective, the infusion may be repeated after a "
                "relapse."
            ),
        ),
    )
}


@dataclass(frozen=True)
class Rule:
    rule_id: str
    title: str  # English title template, marked with gettext_noop
    recommendation: str | None  # "R7" or None
    grade: str | None  # "2C" or None
    section: str  # source section, e.g. "§3.12③"

    @property
    def citation(self) -> str | None:
        """``"R7, 2C"`` when the rule rests on a Table 3 recommendation, else None."""
        if self.recommendation is None:
            return None
        return f"{self.recommendation}, {self.grade}"


def _rule(rule_id: str, title: str, section: str, recommendation: str | None = None) -> Rule:
    grade = RECOMMENDATIONS[recommendation].grade if recommendation else None
    return Rule(rule_id, title, recommendation, grade, section)


RULES: dict[str, Rule] = {
    r.rule_id: r
    for r in (
        # Candidates
        _rule(
            "B-IND-1",
            gettext_noop("Indication: moderate to severe SLE"),
            "§3.2",
            "R1",
        ),
        _rule(
            "B-IND-2",
            gettext_noop("Allogeneic MSC from healthy donors; umbilical cord preferred"),
            "§3.1, §3.3, §3.12①",
            "R2",
        ),
        _rule(
            "B-IND-3",
            gettext_noop("Concurrent infection is not a contraindication"),
            "§3.11",
            "R8",
        ),
        _rule(
            "B-IND-4",
            gettext_noop("SLE with another autoimmune disease may be treated"),
            "§3.10",
            "R9",
        ),
        _rule(
            "B-IND-5",
            gettext_noop("Children and older adults: clinician judgement, shared decision"),
            "§3.12②",
        ),
        _rule(
            "B-CI-1",
            gettext_noop("Pulmonary hypertension"),
            "§3.12③",
        ),
        _rule("B-CI-2", gettext_noop("Pregnancy and lactation"), "§3.12④"),
        _rule("B-CI-3", gettext_noop("Tumour"), "§3.12⑤"),
        # Before any order: consent and the site's prerequisites
        _rule(
            "B-CONSENT-1",
            gettext_noop("Informed consent on the ethics-approved form, recorded before signing"),
            "basic principle ①; §2.1",
        ),
        _rule(
            "B-SITE-1",
            gettext_noop(
                "Ethics approval, GMP manufacture and third-party quality re-test of the product"
            ),
            "§2.1, §2.2",
        ),
        # Product release
        _rule("B-QC-1", gettext_noop("Adherent growth and tri-lineage differentiation"), "§2.2"),
        _rule(
            "B-QC-2", gettext_noop("Positive markers CD73, CD90, CD105 each ≥ 95 percent"), "§2.2"
        ),
        _rule(
            "B-QC-3",
            gettext_noop(
                "Negative markers CD11b, CD14, CD19, CD34, CD45, CD79a, HLA-DR each < 2 percent"
            ),
            "§2.2",
        ),
        _rule(
            "B-QC-4",
            gettext_noop("Purity, endotoxin and cell count"),
            "§2.2",
        ),
        _rule("B-QC-5", gettext_noop("Microbiology negative"), "§2.2"),
        # Dose and route
        _rule("B-DOSE-1", gettext_noop("Dose (1–2) × 10⁶ cells/kg"), "§3.4", "R3"),
        _rule("B-ROUTE-1", gettext_noop("Single peripheral intravenous infusion"), "§3.5", "R4"),
        _rule("B-ROUTE-2", gettext_noop("Intrathecal MSC for CNS involvement"), "§3.5"),
        _rule(
            "B-PRE-1",
            gettext_noop("Cyclophosphamide pre-conditioning not recommended"),
            "§3.6",
            "R5",
        ),
        # Handling and administration
        _rule(
            "B-ADM-1",
            gettext_noop("Storage 2–8 °C protected from light; complete within 8–12 h"),
            "§3.7",
        ),
        _rule(
            "B-ADM-2",
            gettext_noop("No shaking or warming; 10–20 min at room temperature"),
            "§3.7",
        ),
        _rule("B-ADM-3", gettext_noop("Infusion set without filter membrane"), "§3.7"),
        _rule("B-ADM-4", gettext_noop("Infusion rate and duration"), "§3.7"),
        _rule(
            "B-ADM-5",
            gettext_noop("Monitoring during the infusion"),
            "§3.7, §4.1",
            "R6",
        ),
        _rule(
            "B-PREMED-1",
            gettext_noop("Dexamethasone 5 mg IV push before the infusion"),
            "§3.7",
            "R7",
        ),
        # Concomitant medication
        _rule(
            "B-AP-1",
            gettext_noop("Antiplatelet prophylaxis for 2 weeks from the day before"),
            "§3.8",
            "R7",
        ),
        _rule(
            "B-CONT-1",
            gettext_noop("Continue glucocorticoids and immunosuppressants"),
            "§3.8",
        ),
        _rule("B-CYC-1", gettext_noop("No cyclophosphamide within 48 h after MSC"), "§3.8"),
        # After the infusion
        _rule("B-REP-1", gettext_noop("Repeat infusion after response and relapse"), "§3.9", "R10"),
        _rule("B-FU-1", gettext_noop("Efficacy assessment"), "§4.2"),
        _rule("B-FU-2", gettext_noop("Laboratory monitoring"), "§4.2"),
        _rule("B-FU-3", gettext_noop("Repeat biopsy and imaging"), "§4.2"),
        _rule("B-FU-4", gettext_noop("Maintenance treatment"), "§4.2"),
        # Part C: workflow safety (product decisions of 2026-12-07, not in the sources).
        _rule(
            "C-VERIFY-1",
            gettext_noop("No verification while a check on the episode fails"),
            "Part C",
        ),
        _rule(
            "C-DOSE-1",
            gettext_noop("Dose outside (1–2) × 10⁶/kg needs an override; above 5 × 10⁶/kg refused"),
            "Part C",
        ),
        _rule(
            "C-OVR-1",
            gettext_noop("Overriding a not-recommended finding needs a second physician"),
            "Part C",
        ),
        _rule(
            "C-CYC-2",
            gettext_noop("A cyclophosphamide override authorises one scheduled time"),
            "Part C",
        ),
    )
}

# The Part C rule IDs in the registry (workflow rules, checked around the plan).
PART_C = tuple(rule_id for rule_id in RULES if rule_id.startswith("C-"))


def rule_citation(rule_id: str) -> str:
    """``"B-AP-1 (R7, 2C)"`` or ``"B-ROUTE-2 (§3.5)"``, for display next to an alert."""
    rule = RULES[rule_id]
    return f"{rule_id} ({rule.citation or rule.section})"
