"""Treatment courses from the treatment history: continuous runs and their length."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from itertools import combinations

from ..dates import Period
from ..drugs import drug_label
from ..facts import TreatmentEpisode
from ..i18n import gettext_noop
from ._checks import GE, NOT_MET, Check, Ctx, check, decided, missing, msg, shown_op

Run = tuple[date, date]

LABEL_TREATMENT_HISTORY = gettext_noop("treatment history")
T_COURSE = gettext_noop("{label} {start} to {end}: {op} {count} {period_unit_label}")
T_NO_COURSE = gettext_noop("{label}: none recorded before {until}")

_ONE_DAY = timedelta(days=1)


def history_or_missing(ctx: Ctx) -> tuple[tuple[TreatmentEpisode, ...] | None, Check | None]:
    history = ctx.facts.treatment_history
    if history is None:
        return None, missing(LABEL_TREATMENT_HISTORY, "treatment_history")
    return history, None


def clipped(episode: TreatmentEpisode, until: date) -> Run | None:
    """The part of an episode on or before ``until`` (an ongoing one runs to it)."""
    end = min(episode.end or until, until)
    if episode.start > end:
        return None
    return episode.start, end


def merge(runs: Iterable[Run]) -> list[Run]:
    """Merge overlapping or back-to-back runs into continuous ones."""
    merged: list[Run] = []
    for start, end in sorted(runs):
        if merged and start <= merged[-1][1] + _ONE_DAY:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def runs_of(episodes: Iterable[TreatmentEpisode], drugs: frozenset[str], until: date) -> list[Run]:
    return merge(
        run for e in episodes if e.drug in drugs and (run := clipped(e, until)) is not None
    )


def intersect(a: list[Run], b: list[Run]) -> list[Run]:
    """Periods covered by both lists of merged runs."""
    result: list[Run] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start <= end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return merge(result)


def best_run(runs: list[Run], period: Period) -> tuple[Run | None, bool]:
    """A run lasting ``period`` if there is one, else the longest; and whether it lasts."""
    for run in runs:
        if period.spans(*run):
            return run, True
    if not runs:
        return None, False
    return max(runs, key=lambda r: r[1] - r[0]), False


def course_check(label: str, runs: list[Run], period: Period, until: date, key: str) -> Check:
    run, ok = best_run(runs, period)
    if run is None:
        return check(NOT_MET, msg(T_NO_COURSE, label=label, until=until))
    return decided(
        ok,
        msg(
            T_COURSE,
            label=label,
            start=run[0],
            end=run[1],
            op=shown_op(GE, ok),
            count=period.count,
            period_unit_label=period.unit_label,
        ),
        {key: {"start": run[0], "end": run[1]}},
    )


class DrugRuns:
    """One drug's continuous runs of treatment up to the screening date."""

    __slots__ = ("drug", "label", "runs")

    def __init__(self, drug: str, label: str, runs: list[Run]):
        self.drug = drug
        self.label = label
        self.runs = runs


def drug_runs(ctx: Ctx) -> dict[str, DrugRuns]:
    """Runs per drug (each named other immunosuppressant apart), computed once per evaluation."""
    cached = ctx.cache.get("drug_runs")
    if cached is not None:
        return cached
    until = ctx.screening_date
    grouped: dict[str, tuple[TreatmentEpisode, list[Run]]] = {}
    for episode in ctx.facts.treatment_history or ():
        run = clipped(episode, until)
        if run is None:
            continue
        key = drug_key(episode)
        if key in grouped:
            grouped[key][1].append(run)
        else:
            grouped[key] = (episode, [run])
    result = {}
    for key, (episode, runs) in sorted(grouped.items()):
        label = (episode.name if episode.drug == "other_immunosuppressant" else None) or (
            drug_label(episode.drug)
        )
        result[key] = DrugRuns(episode.drug, label, merge(runs))
    ctx.cache["drug_runs"] = result
    return result


def class_runs(ctx: Ctx, drugs: frozenset[str]) -> list[Run]:
    """Continuous runs of any drug of a class (glucocorticoids…) up to screening."""
    return merge(run for d in drug_runs(ctx).values() if d.drug in drugs for run in d.runs)


def together(runs_by_drug: Iterable[list[Run]], minimum: int) -> list[Run]:
    """Periods when at least ``minimum`` of the drugs (one list of merged runs each) are
    given at the same time: the union over every group of ``minimum`` drugs of their
    common periods."""
    drugs = list(runs_by_drug)
    if minimum <= 0:
        raise ValueError("minimum must be ≥ 1")
    if len(drugs) < minimum:
        return []
    covered: list[Run] = []
    for group in combinations(drugs, minimum):
        common = group[0]
        for runs in group[1:]:
            common = intersect(common, runs)
        covered.extend(common)
    return merge(covered)


def overlaps(runs: list[Run], span: Run) -> bool:
    return any(start <= span[1] and span[0] <= end for start, end in runs)


def drug_key(episode: TreatmentEpisode) -> str:
    """Distinct drugs; each named "other immunosuppressant" counts separately."""
    if episode.drug == "other_immunosuppressant":
        return f"other_immunosuppressant:{episode.name or episode.index}"
    return episode.drug
