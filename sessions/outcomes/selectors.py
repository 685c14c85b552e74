"""Outcomes per time point (SPEC §10): for each measure of an enrolment, its
baseline from the baseline visit, and per completed visit the value, the
change and percent change from baseline, and the responder definitions it
meets; the value at the primary end point.

Read by the outcomes API, the patient page's charts and (issue 11) the
reports: `baseline_session_ids` and `measure_outcomes` work on any number of
enrolments at a fixed cost of queries; `enrolment_outcomes` is the one-course
convenience.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from patients.models import Enrolment
from protocols import instruments
from protocols.library import shown
from protocols.models import OutcomeMeasure, StepKind
from sessions.models import OutcomeMeasurement, Session, SessionStatus


@dataclass(frozen=True)
class Point:
    """One completed visit's value of one measure, compared with baseline."""

    measurement_id: int
    session_id: int
    sequence: int
    step_name: str
    observed_on: dt.date
    value: Decimal
    is_baseline: bool
    primary_endpoint: bool
    change: Decimal | None  # value − baseline, in the measure's unit (points for a grade)
    percent_change: Decimal | None  # one decimal; None for ordinal measures and a zero baseline
    responder: tuple[str, ...]  # codes of the measure's responder definitions this value meets

    @property
    def label(self) -> str:
        """The visit, as a person names it."""
        return f"#{self.sequence} {shown(self.step_name)}"


@dataclass
class MeasureOutcome:
    measure: OutcomeMeasure
    series: list[Point] = field(default_factory=list)
    baseline_point: Point | None = None

    @property
    def ordinal(self) -> bool:
        return is_ordinal(self.measure)

    @property
    def baseline(self) -> Decimal | None:
        return self.baseline_point.value if self.baseline_point else None

    @property
    def latest_point(self) -> Point | None:
        return self.series[-1] if self.series else None

    @property
    def latest(self) -> Decimal | None:
        return self.series[-1].value if self.series else None

    @property
    def endpoint_point(self) -> Point | None:
        """The last value recorded at a primary end point step (a repeated
        step's later occurrence is the end of course: AD's week 4, not 2)."""
        points = [p for p in self.series if p.primary_endpoint]
        return points[-1] if points else None

    @property
    def endpoint(self) -> Decimal | None:
        point = self.endpoint_point
        return point.value if point else None

    @property
    def change(self) -> Decimal | None:
        return self.latest_point.change if self.series else None

    @property
    def percent_change(self) -> Decimal | None:
        return self.latest_point.percent_change if self.series else None

    @property
    def improved(self) -> bool | None:
        change = self.change
        if not change:
            return None
        return (change > 0) == self.measure.higher_is_better

    @property
    def responders(self) -> list[dict]:
        return list(self.measure.responders or [])


def is_ordinal(measure: OutcomeMeasure) -> bool:
    """A grade or class (Glogau, IGA, pain, Hamilton-Norwood...): change in
    points, no percent change."""
    return measure.ordinal


def compare(measure: OutcomeMeasure, baseline: Decimal | None, value: Decimal):
    """(change, percent_change, responder codes) of ``value`` against ``baseline``."""
    if baseline is None:
        return None, None, ()
    change = value - baseline
    percent = None
    if not is_ordinal(measure) and baseline > 0 and value >= 0:
        percent = instruments.percent_change(baseline, value)
    met = tuple(
        definition["code"]
        for definition in measure.responders or []
        if instruments.responds(definition, baseline=baseline, value=value, higher_is_better=measure.higher_is_better)
    )
    return change, percent, met


def baseline_sessions():
    """Candidate baseline visits, best first per enrolment: first occurrences of
    assessment steps in step order. The baseline visit is the first of them."""
    return Session.objects.filter(step__kind=StepKind.ASSESSMENT, occurrence=1).order_by("enrolment_id", "step__position")


def baseline_session_ids(enrolment_ids: Iterable[int]) -> dict[int, int]:
    """Enrolment id → the id of its baseline visit: the first occurrence of
    its protocol's first assessment step. One query, whatever the count."""
    rows = (
        baseline_sessions()
        .filter(enrolment_id__in=list(enrolment_ids))
        .distinct("enrolment_id")
        .values_list("enrolment_id", "pk")
    )
    return dict(rows)


def baseline_session_subquery(enrolment_id):
    """The baseline visit's id of the enrolment ``enrolment_id`` (an
    ``OuterRef``), for reports that join values to their baseline in SQL."""
    return baseline_sessions().filter(enrolment_id=enrolment_id).values("pk")[:1]


def completed_measurements(enrolment_ids: Iterable[int]):
    """The values of completed visits, in visit order, ready for measure_outcomes."""
    return (
        OutcomeMeasurement.objects.filter(
            session__enrolment_id__in=list(enrolment_ids), session__status=SessionStatus.COMPLETED
        )
        .select_related("measure", "session", "session__step")
        .order_by("session__enrolment_id", "measure__code", "session__sequence")
    )


def measure_outcomes(rows: Iterable[OutcomeMeasurement], *, baseline_session_id: int | None) -> list[MeasureOutcome]:
    """Per measure, in code order: the series of one enrolment's values
    (``rows``, in visit order) against the value at its baseline visit. A
    measure without a value there has no baseline and no change; the next
    value is never promoted to baseline."""
    rows = list(rows)
    baselines: Mapping[int, Decimal] = {
        row.measure_id: row.value for row in rows if row.session_id == baseline_session_id
    }
    outcomes: dict[str, MeasureOutcome] = {}
    for row in rows:
        outcome = outcomes.setdefault(row.measure.code, MeasureOutcome(row.measure))
        baseline = baselines.get(row.measure_id)
        change, percent, met = compare(row.measure, baseline, row.value)
        point = Point(
            measurement_id=row.pk,
            session_id=row.session_id,
            sequence=row.session.sequence,
            step_name=row.session.step.name,
            observed_on=row.observed_on,
            value=row.value,
            is_baseline=row.session_id == baseline_session_id,
            primary_endpoint=row.session.step.primary_endpoint,
            change=change,
            percent_change=percent,
            responder=met,
        )
        outcome.series.append(point)
        if point.is_baseline:
            outcome.baseline_point = point
    for outcome in outcomes.values():
        outcome.series.sort(key=lambda p: p.sequence)
    return [outcomes[code] for code in sorted(outcomes)]


def enrolment_outcomes(enrolment: Enrolment) -> list[MeasureOutcome]:
    """One course's outcomes per measure. Two queries."""
    baseline = baseline_session_ids([enrolment.pk]).get(enrolment.pk)
    return measure_outcomes(completed_measurements([enrolment.pk]), baseline_session_id=baseline)


def outcomes_by_enrolment(enrolments: Iterable[Enrolment]) -> dict[int, list[MeasureOutcome]]:
    """enrolment_outcomes of several courses (a patient's page), by
    enrolment id: two queries, whatever the number of courses."""
    ids = [e.pk for e in enrolments]
    if not ids:
        return {}
    baselines = baseline_session_ids(ids)
    rows_by_enrolment: dict[int, list[OutcomeMeasurement]] = {pk: [] for pk in ids}
    for row in completed_measurements(ids):
        rows_by_enrolment[row.session.enrolment_id].append(row)
    return {
        pk: measure_outcomes(rows, baseline_session_id=baselines.get(pk)) for pk, rows in rows_by_enrolment.items()
    }
