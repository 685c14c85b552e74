"""The cohort report (SPEC §11): does a protocol work here?

Every figure is computed by PostgreSQL: counts with `filter=`, means and
standard deviations with aggregates, medians with `percentile_cont`, the
baseline value of each measurement with one correlated subquery (the baseline
visit as `sessions.outcomes` defines it). Python only turns a mean, a standard
deviation and an n into a t-interval (scipy) and a count into a Wilson interval
(statsmodels). `cohort_report(clinic, **filters)` costs a fixed handful of
queries whatever the cohort's size (tests/reports/test_cohort.py counts them).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    StdDev,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Abs, Cast
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from patients.models import Enrolment, EnrolmentStatus
from protocols.models import OutcomeMeasure, Protocol, StepKind, ValueType
from sessions.models import AdverseEvent, OutcomeMeasurement, Relatedness, Session, SessionStatus
from sessions.outcomes import baseline_session_subquery

# A follow-up time point is reached by a completed visit planned at least this
# many days after the start (the library's "12 weeks" counts as 3 months, a
# 6-month visit planned at day 180 with a 14-day window as 6 months).
FOLLOW_UP_DAYS = {"reached_3_months": 84, "reached_6_months": 168, "reached_12_months": 336}

_ONE_PLACE = Decimal("0.1")
_TWO_PLACES = Decimal("0.01")


class Median(Aggregate):
    """PostgreSQL's `percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`: the
    median, halfway between the two middle values of an even count."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class CohortFilters:
    protocol: Protocol | None = None  # any version of it (its lineage) ...
    version: int | None = None  # ... or only this version
    indication: str = ""
    lot: int | None = None  # enrolments with at least one session that used this lot
    started_from: dt.date | None = None
    started_to: dt.date | None = None


def cohort_enrolments(clinic, filters: CohortFilters):
    """The enrolments of the cohort (a queryset, not evaluated)."""
    enrolments = Enrolment.objects.filter(clinic=clinic)
    if filters.protocol is not None:
        enrolments = enrolments.filter(protocol__lineage=filters.protocol.lineage)
    if filters.version is not None:
        enrolments = enrolments.filter(protocol__version=filters.version)
    if filters.indication:
        enrolments = enrolments.filter(protocol__indication=filters.indication)
    if filters.lot is not None:
        enrolments = enrolments.filter(Exists(Session.objects.filter(enrolment=OuterRef("pk"), lot_id=filters.lot)))
    if filters.started_from is not None:
        enrolments = enrolments.filter(start_date__gte=filters.started_from)
    if filters.started_to is not None:
        enrolments = enrolments.filter(start_date__lte=filters.started_to)
    return enrolments


def responder_condition(definition, *, baseline, value, higher_is_better: bool) -> Q:
    """`protocols.instruments.responds` as a database condition over two numeric
    expressions, so responders are counted in one aggregate. The same
    arithmetic: no division, no rounding (74.96 % is not EASI-75); a zero
    baseline never meets a percent definition. The tests check that both agree."""
    better = (value - baseline) if higher_is_better else (baseline - value)
    kind = definition["kind"]
    if kind == "percent_reduction":
        meets = GreaterThanOrEqual(better * Value(Decimal(100)), Abs(baseline) * Value(Decimal(definition["percent"])))
        return Q(meets) & ~Q(Exact(baseline, Value(Decimal(0))))
    if kind == "points_reduction":
        return Q(GreaterThanOrEqual(better, Value(Decimal(definition["points"]))))
    if kind == "grade":
        return Q(LessThanOrEqual(value, Value(Decimal(definition["at_most"])))) & Q(
            GreaterThanOrEqual(better, Value(Decimal(definition["points"])))
        )
    raise ValueError(f"unknown responder kind {kind!r}")


def _round(value, places=_ONE_PLACE) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


def mean_ci95(mean, sd, n) -> list[Decimal] | None:
    """Student's t 95 % interval of a mean from its n and standard deviation
    (None below two values, where it is not defined)."""
    if mean is None or sd is None or n < 2:
        return None
    if sd == 0:
        return [mean, mean]
    low, high = stats.t.interval(0.95, df=n - 1, loc=float(mean), scale=float(sd) / n**0.5)
    return [low, high]


def wilson_ci95(count: int, n: int) -> list[Decimal] | None:
    """Wilson score 95 % interval of a proportion, as fractions (0–1)."""
    if n == 0:
        return None
    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    return [_round(low, Decimal("0.001")), _round(high, Decimal("0.001"))]


def _rate(part: int, whole: int) -> Decimal | None:
    return _round(Decimal(part) / Decimal(whole), Decimal("0.001")) if whole else None


def _enrolment_counts(enrolments) -> dict:
    counts = enrolments.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=EnrolmentStatus.ACTIVE)),
        completed=Count("pk", filter=Q(status=EnrolmentStatus.COMPLETED)),
        withdrawn=Count("pk", filter=Q(status=EnrolmentStatus.WITHDRAWN)),
        **{
            key: Count(
                "pk",
                filter=Exists(
                    Session.objects.filter(
                        enrolment=OuterRef("pk"),
                        status=SessionStatus.COMPLETED,
                        target_date__gte=F("enrolment__start_date") + dt.timedelta(days=days),
                    )
                ),
            )
            for key, days in FOLLOW_UP_DAYS.items()
        },
    )
    follow_up = {key: counts.pop(key) for key in FOLLOW_UP_DAYS}
    return counts, follow_up


def _adherence(enrolments, today: dt.date) -> dict:
    """A session is due once it is done or skipped, or its window has closed.
    A cancelled session (a withdrawal's remaining visits) is never due."""
    closed = Q(window_end__lt=today, status__in=[SessionStatus.PLANNED, SessionStatus.BOOKED])
    done = Q(status=SessionStatus.COMPLETED)
    row = Session.objects.filter(enrolment__in=enrolments).aggregate(
        sessions_due=Count("pk", filter=done | Q(status=SessionStatus.SKIPPED) | closed),
        in_window=Count("pk", filter=done & Q(out_of_window=False)),
        out_of_window=Count("pk", filter=done & Q(out_of_window=True)),
        skipped=Count("pk", filter=Q(status=SessionStatus.SKIPPED)),
        no_show=Sum("missed_count", default=0),
        treatments=Count("pk", filter=done & Q(step__kind=StepKind.TREATMENT)),
    )
    row["in_window_rate"] = _rate(row["in_window"], row["sessions_due"])
    return row


def _adverse_events(enrolments, treatments: int) -> dict:
    events = AdverseEvent.objects.filter(enrolment__in=enrolments)
    row = events.aggregate(
        total=Count("pk"),
        related=Count("pk", filter=Q(related_to_treatment=Relatedness.YES)),
        serious=Count("pk", filter=Q(serious=True)),
        **{f"grade_{grade}": Count("pk", filter=Q(grade=grade)) for grade in range(1, 6)},
    )
    row["by_grade"] = {str(grade): row.pop(f"grade_{grade}") for grade in range(1, 6)}
    row["treatments"] = treatments
    row["per_100_treatments"] = _round(Decimal(row["total"]) * 100 / treatments) if treatments else None
    return row


def _measures(enrolments) -> list[dict]:
    """Per measure and time point (step and occurrence): n, mean and median
    change, mean percent change, and per responder definition its rate."""
    values = OutcomeMeasurement.objects.filter(
        session__enrolment__in=enrolments, session__status=SessionStatus.COMPLETED
    ).annotate(
        baseline=Subquery(
            OutcomeMeasurement.objects.filter(
                session_id=Subquery(baseline_session_subquery(OuterRef(OuterRef("session__enrolment_id")))),
                measure_id=OuterRef("measure_id"),
            ).values("value")[:1]
        ),
    )
    with_baseline = values.filter(baseline__isnull=False)
    measures = {m.pk: m for m in OutcomeMeasure.objects.filter(pk__in=values.values("measure_id"))}

    change = F("value") - F("baseline")
    percent = Cast(change, FloatField()) * 100.0 / Cast(F("baseline"), FloatField())
    percent_ok = Q(baseline__gt=0, value__gte=0) & ~Q(measure__value_type=ValueType.SCORE)
    aggregates = {
        "n": Count("pk"),
        "mean_change": Avg(Cast(change, FloatField())),
        "sd_change": StdDev(Cast(change, FloatField()), sample=True),
        "median_change": Median(Cast(change, FloatField())),
        "n_percent": Count("pk", filter=percent_ok),
        "mean_percent_change": Avg(percent, filter=percent_ok),
        "sd_percent_change": StdDev(percent, sample=True, filter=percent_ok),
    }
    for measure in measures.values():
        for definition in measure.responders or []:
            aggregates[f"r_{measure.pk}_{definition['code']}"] = Count(
                "pk",
                filter=Q(measure_id=measure.pk)
                & responder_condition(
                    definition, baseline=F("baseline"), value=F("value"), higher_is_better=measure.higher_is_better
                ),
            )
    rows = (
        with_baseline.order_by()
        .values("measure_id", "session__step__position", "session__step__name", "session__occurrence")
        .annotate(**aggregates)
        .order_by("measure_id", "session__step__position", "session__occurrence")
    )
    # Values without a baseline are counted, so a report can say how many it left out.
    missing = {
        (
            row["measure_id"],
            row["session__step__position"],
            row["session__step__name"],
            row["session__occurrence"],
        ): row["n"]
        for row in values.filter(baseline__isnull=True)
        .order_by()
        .values("measure_id", "session__step__position", "session__step__name", "session__occurrence")
        .annotate(n=Count("pk"))
    }

    def entry_of(measure_id):
        measure = measures[measure_id]
        return out.setdefault(
            measure_id,
            {
                "code": measure.code,
                "name": measure.name,
                "unit": measure.unit,
                "ordinal": measure.value_type == ValueType.SCORE,
                "higher_is_better": measure.higher_is_better,
                "time_points": [],
            },
        )

    out: dict[int, dict] = {}
    for row in rows:
        measure = measures[row["measure_id"]]
        key = (
            row["measure_id"],
            row["session__step__position"],
            row["session__step__name"],
            row["session__occurrence"],
        )
        n = row["n"]
        responders = []
        for definition in measure.responders or []:
            count = row[f"r_{measure.pk}_{definition['code']}"]
            responders.append(
                {
                    "code": definition["code"],
                    "label": definition["label"],
                    "n": n,
                    "responders": count,
                    "rate": _rate(count, n),
                    "ci95": wilson_ci95(count, n),
                }
            )
        entry_of(measure.pk)["time_points"].append(
            {
                "step_name": key[2],
                "step_position": key[1],
                "occurrence": key[3],
                "n": n,
                "without_baseline": missing.pop(key, 0),
                "mean_change": _round(row["mean_change"], _TWO_PLACES),
                "mean_change_ci95": _rounded(mean_ci95(row["mean_change"], row["sd_change"], n), _TWO_PLACES),
                "median_change": _round(row["median_change"], _TWO_PLACES),
                "mean_percent_change": _round(row["mean_percent_change"]),
                "mean_percent_change_ci95": _rounded(
                    mean_ci95(row["mean_percent_change"], row["sd_percent_change"], row["n_percent"]), _ONE_PLACE
                ),
                "responders": responders,
            }
        )
    # A time point where no value had a baseline (the baseline visit itself
    # lacked the measure) still appears, with n 0 and its count left out.
    for key, count in missing.items():
        entry_of(key[0])["time_points"].append(_empty_point(key, count))
    for entry in out.values():
        entry["time_points"].sort(key=lambda point: (point["step_position"], point["occurrence"]))
    return sorted(out.values(), key=lambda entry: entry["code"])


def _empty_point(key, count) -> dict:
    return {
        "step_name": key[2],
        "step_position": key[1],
        "occurrence": key[3],
        "n": 0,
        "without_baseline": count,
        "mean_change": None,
        "mean_change_ci95": None,
        "median_change": None,
        "mean_percent_change": None,
        "mean_percent_change_ci95": None,
        "responders": [],
    }


def _rounded(interval, places):
    return None if interval is None else [_round(bound, places) for bound in interval]


def cohort_report(clinic, *, today: dt.date, **filters) -> dict:
    """Every figure of SPEC §11's cohort report for the clinic's enrolments
    that match `filters` (see `CohortFilters`)."""
    enrolments = cohort_enrolments(clinic, CohortFilters(**filters))
    counts, follow_up = _enrolment_counts(enrolments)
    adherence = _adherence(enrolments, today)
    return {
        "enrolments": counts,
        "adherence": adherence,
        "measures": _measures(enrolments),
        "adverse_events": _adverse_events(enrolments, adherence.pop("treatments")),
        "follow_up": follow_up,
    }
