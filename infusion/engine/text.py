"""Plain-text rendering of a plan for the command line (``manage.py infusion_plan``).

Times are shown in the ward time zone. Each finding line reads
``[SEVERITY] RULE-ID (R7, 2C): reason``; acknowledgement-required findings end in
``[ack]``.
"""

from .findings import Finding, format_datetime
from .plan import InfusionPlan
from .rules import RULES
from .timeutil import load_zone


def _finding_line(finding: Finding) -> str:
    cite = finding.citation or RULES[finding.rule_id].section
    ack = " [ack]" if finding.requires_acknowledgement else ""
    return f"  [{finding.severity.upper()}] {finding.rule_id} ({cite}): {finding.reason}{ack}"


def _section(title: str, findings) -> list[str]:
    return ["", title, *(_finding_line(f) for f in findings)]


def plan_to_text(plan: InfusionPlan) -> str:
    zone = load_zone(plan.ward_time_zone)
    start = format_datetime(plan.planned_start.astimezone(zone))
    end = format_datetime(plan.planned_end.astimezone(zone)) if plan.planned_end else "unknown"
    lines = [
        "MSC infusion plan",
        f"Status: {plan.status}",
        f"Ward time zone: {plan.ward_time_zone}",
        f"Infusion day: {plan.infusion_date.isoformat()}  start {start}  end {end}",
        f"Age: {plan.age_years if plan.age_years is not None else 'unknown'}",
    ]
    if plan.attention:
        lines += _section("Attention", plan.attention)
    lines += _section(f"Candidacy: {plan.candidacy.overall}", plan.candidacy.findings)
    if plan.candidacy.unknown_items:
        lines.append("  Missing: " + ", ".join(plan.candidacy.unknown_items))
    lines += _section("Consent and site prerequisites", [plan.consent, plan.site])
    dose = plan.dose
    lines += _section(
        f"Dose: {dose.min_cells:,}–{dose.max_cells:,} cells for {dose.weight_kg} kg"
        + (f"; ordered {dose.ordered_cells:,} ({dose.flag})" if dose.ordered_cells else ""),
        dose.findings,
    )
    lines += _section(f"Route: IV; intrathecal {plan.route.intrathecal}", plan.route.findings)
    release = plan.product_release
    lines += _section(f"Product release: {release.status}", release.findings)
    for item in release.items:
        value = f"{item.value}{item.unit}" if item.value is not None else "—"
        lines.append(
            f"    {item.status:7} {item.rule_id:7} {item.name}: {value} (limit {item.limit})"
        )
    lines += _section(f"Cold chain: {plan.cold_chain.status}", plan.cold_chain.findings)
    lines += [_finding_line(f) for f in plan.cold_chain.handling]
    if plan.out_of_fridge:
        lines.append(_finding_line(plan.out_of_fridge))
    rates = plan.rate_plan
    lines += _section(f"Rate plan: {rates.status}", rates.findings)
    if rates.phases:
        lines.append("    phase  start(min)  minutes   mL/min   mL/h  drops/min   volume mL")
        for phase in rates.phases:
            d = phase.to_dict()
            lines.append(
                f"    {phase.number:>5}  {d['start_offset_min']:>10}  {d['duration_min']:>7}  "
                f"{d['rate_ml_per_min']:>7}  {d['rate_ml_per_h']:>5}  {phase.drops_per_min:>9}  "
                f"{d['volume_ml']:>10}"
            )
    lines += _section("Premedication", [plan.premedication.finding])
    lines += _section("Monitoring", plan.monitoring)
    lines += _section(f"Antiplatelet: {plan.antiplatelet.status}", plan.antiplatelet.findings)
    lines += _section("Cyclophosphamide", plan.cyclophosphamide.findings)
    lines += _section("Continuing medication", [plan.continuing_medication])
    if plan.repeat_infusion is not None:
        lines += _section(
            f"Repeat infusion: {plan.repeat_infusion.status}", [plan.repeat_infusion.finding]
        )
    lines += ["", "Timeline (ward time)"]
    for event in plan.timeline:
        when = event.at.astimezone(zone).strftime("%H:%M:%S") if event.at else " " * 8
        window = (
            f" (window {event.window_start_date.isoformat()} to {event.window_end_date.isoformat()})"
            if event.window_start_date and event.window_end_date
            else ""
        )
        lines.append(
            f"  day {event.day_offset:+4d}  {event.local_date.isoformat()} {when}  "
            f"[{event.rule_id or '-'}] {event.title}{window}"
        )
    return "\n".join(lines) + "\n"
