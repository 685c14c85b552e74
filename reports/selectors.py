"""The cohort report (SPEC §11): does a protocol work here?

Every figure is computed by PostgreSQL: counts with `filter=`, means and
standard deviations with aggregates, medians with `percentile_cont`, each
value paired with the same measure's value at its enrolment's baseline visit
(as `sessions.outcomes.selectors` defines it) by a hash join in one statement. Python only turns a mean, a standard
deviation and an n into a t-interval (scipy) and a count into a Wilson interval
(statsmodels). `cohort_report(clinic, **filters)` costs a fixed handful of
queries whatever the cohort's size (tests/reports/test_cohort.py counts them).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
)

from patients.models import Enrolment, EnrolmentStatus
from protocols.library import shown
from protocols.models import OutcomeMeasure, Protocol, ReportedBy, Step, StepKind
from sessions.models import (
    AdverseEvent,
    Decision,
    DecisionStatus,
    OutcomeMeasurement,
    Relatedness,
    Session,
    SessionStatus,
    ValueSource,
)
from sessions.outcomes.selectors import baseline_sessions

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


def responder_sql(definition, *, higher_is_better: bool) -> tuple[str, list]:
    """`protocols.instruments.responds` as a SQL condition over the columns
    `baseline` and `value`, with its parameters, so responders are counted in
    the same aggregate as the means. The same arithmetic: no division, no
    rounding (74.96 % is not EASI-75); a zero baseline never meets a percent
    definition. tests/reports/test_cohort.py checks that both agree."""
    better = "(value - baseline)" if higher_is_better else "(baseline - value)"
    kind = definition["kind"]
    if kind == "percent_reduction":
        return f"(baseline <> 0 AND {better} * 100 >= abs(baseline) * %s)", [Decimal(definition["percent"])]
    if kind == "points_reduction":
        return f"({better} >= %s)", [Decimal(definition["points"])]
    if kind == "grade":
        return f"(value <= %s AND {better} >= %s)", [Decimal(definition["at_most"]), Decimal(definition["points"])]
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
    # Imported here: scipy and statsmodels take seconds to import, which
    # every process (web, worker, beat, each manage.py command) would pay.
    from scipy import stats

    low, high = stats.t.interval(0.95, df=n - 1, loc=float(mean), scale=float(sd) / n**0.5)
    return [low, high]


def wilson_ci95(count: int, n: int) -> list[Decimal] | None:
    """Wilson score 95 % interval of a proportion, as fractions (0–1)."""
    if n == 0:
        return None
    from statsmodels.stats.proportion import proportion_confint  # see mean_ci95

    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    return [_round(low, Decimal("0.001")), _round(high, Decimal("0.001"))]


def _rate(part: int, whole: int) -> Decimal | None:
    return _round(Decimal(part) / Decimal(whole), Decimal("0.001")) if whole else None


def _enrolment_counts(enrolments) -> dict:
    """Counts by status, and how many reached each follow-up time point: one
    pass over the cohort's sessions for the furthest completed visit of each
    enrolment (an EXISTS per time point probed every enrolment's sessions three
    times over)."""
    furthest = enrolments.annotate(
        furthest=Max("sessions__target_date", filter=Q(sessions__status=SessionStatus.COMPLETED))
    )
    counts = furthest.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=EnrolmentStatus.ACTIVE)),
        completed=Count("pk", filter=Q(status=EnrolmentStatus.COMPLETED)),
        withdrawn=Count("pk", filter=Q(status=EnrolmentStatus.WITHDRAWN)),
        **{
            key: Count("pk", filter=Q(furthest__gte=F("start_date") + dt.timedelta(days=days)))
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


def _questionnaires(enrolments) -> dict:
    """SPEC §17: of the completed booked visits whose step asks the patient
    questions, how many had the questionnaire answered before the visit
    began (by the patient; a paper one typed in by staff counts when entered
    before the start too)."""
    asks = Step.measures.through.objects.filter(step_id=OuterRef("step_id"), outcomemeasure__reported_by=ReportedBy.PATIENT)
    row = (
        Session.objects.filter(enrolment__in=enrolments, status=SessionStatus.COMPLETED, start__isnull=False)
        .filter(Exists(asks))
        .aggregate(
            visits=Count("pk"),
            answered_before_visit=Count("pk", filter=Q(questionnaire__answered_at__lt=F("start"))),
            by_patient=Count(
                "pk", filter=Q(questionnaire__answered_at__lt=F("start"), questionnaire__source=ValueSource.PATIENT)
            ),
        )
    )
    row["rate"] = _rate(row["answered_before_visit"], row["visits"])
    row["ci95"] = wilson_ci95(row["answered_before_visit"], row["visits"])
    return row


def _values(enrolments):
    """Every completed value of the cohort with its enrolment and time point."""
    return (
        OutcomeMeasurement.objects.filter(session__enrolment__in=enrolments, session__status=SessionStatus.COMPLETED)
        .order_by()
        .annotate(
            enrolment_id=F("session__enrolment_id"),
            step_position=F("session__step__position"),
            step_name=F("session__step__name"),
            occurrence=F("session__occurrence"),
            ordinal=F("measure__ordinal"),
        )
        .values("measure_id", "value", "enrolment_id", "step_position", "step_name", "occurrence", "ordinal")
    )


def _baseline_visits(enrolments):
    """Enrolment → its baseline visit, as `sessions.outcomes.selectors.baseline_session_ids` finds it."""
    return (
        baseline_sessions()
        .filter(enrolment__in=enrolments)
        .distinct("enrolment_id")
        .annotate(baseline_session=F("pk"))
        .values("enrolment_id", "baseline_session")
    )


# The ORM builds the cohort's values and its baseline visits; this joins each
# value to the same measure's value at its enrolment's baseline visit (null
# when that visit lacks it: never the next value promoted) and groups them.
# The hash join replaced a correlated lookup per value. The parts are plain
# (inlined) CTEs, each read once: MATERIALIZED hid the tables' statistics, the
# planner guessed 6 million rows for 126,000, and the inflated cost switched
# on JIT compilation, 0.8 s of the 1.5 s at 10,000 enrolments (docs/design.md).
_MEASURE_FIGURES = """
WITH v AS ({values}),
     bl AS ({baselines}),
     paired AS (
         SELECT v.measure_id, v.value, b.value AS baseline, v.step_position, v.step_name, v.occurrence, v.ordinal
         FROM v
         LEFT JOIN bl ON bl.enrolment_id = v.enrolment_id
         LEFT JOIN {outcomes} b ON b.session_id = bl.baseline_session AND b.measure_id = v.measure_id
     )
SELECT measure_id, step_position, step_name, occurrence,
       count(*) FILTER (WHERE baseline IS NOT NULL) AS n,
       count(*) FILTER (WHERE baseline IS NULL) AS without_baseline,
       avg((value - baseline)::float8) AS mean_change,
       stddev_samp((value - baseline)::float8) AS sd_change,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (value - baseline)::float8) AS median_change,
       count(*) FILTER (WHERE {percent_ok}) AS n_percent,
       avg((value - baseline)::float8 * 100 / baseline::float8) FILTER (WHERE {percent_ok}) AS mean_percent_change,
       stddev_samp((value - baseline)::float8 * 100 / baseline::float8) FILTER (WHERE {percent_ok})
           AS sd_percent_change
       {responders}
FROM paired
GROUP BY measure_id, step_position, step_name, occurrence
ORDER BY measure_id, step_position, occurrence
"""
# Percent change as sessions.outcomes.selectors.compare: not for grades, a baseline above 0 and a value of 0 or more.
_PERCENT_OK = "baseline > 0 AND value >= 0 AND NOT ordinal"


def _measures(enrolments) -> list[dict]:
    """Per measure and time point (step and occurrence): n, mean and median
    change, mean percent change, and per responder definition its rate."""
    values_sql, values_params = _values(enrolments).query.sql_with_params()
    baselines_sql, baselines_params = _baseline_visits(enrolments).query.sql_with_params()
    # The catalogue is small and shared by every clinic: reading it whole is cheaper than
    # finding which measures the cohort used (a join over every value).
    measures = {m.pk: m for m in OutcomeMeasure.objects.all()}
    columns, responder_params = [], []
    for measure in measures.values():
        for definition in measure.responders or []:
            condition, condition_params = responder_sql(definition, higher_is_better=measure.higher_is_better)
            columns.append(
                f", count(*) FILTER (WHERE measure_id = %s AND baseline IS NOT NULL AND {condition}) "
                f"AS r_{len(columns)}"
            )
            responder_params += [measure.pk, *condition_params]
    sql = _MEASURE_FIGURES.format(
        values=values_sql,
        baselines=baselines_sql,
        outcomes=connection.ops.quote_name(OutcomeMeasurement._meta.db_table),
        percent_ok=_PERCENT_OK,
        responders="".join(columns),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values_params, *baselines_params, *responder_params])
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    out: dict[int, dict] = {}
    for row in rows:
        measure = measures[row["measure_id"]]
        entry = out.setdefault(
            measure.pk,
            {
                "code": measure.code,
                "name": shown(measure.name),
                "unit": shown(measure.unit),
                "ordinal": measure.ordinal,
                "higher_is_better": measure.higher_is_better,
                "reported_by": measure.reported_by,
                "time_points": [],
            },
        )
        n = row["n"]
        responders = []
        for definition in measure.responders or []:
            count = row[f"r_{len(responders) + _first_responder_column(measures, measure)}"]
            responders.append(
                {
                    "code": definition["code"],
                    "label": shown(definition["label"]),
                    "n": n,
                    "responders": count,
                    "rate": _rate(count, n),
                    "ci95": wilson_ci95(count, n),
                }
            )
        entry["time_points"].append(
            {
                "step_name": row["step_name"],
                "step_position": row["step_position"],
                "occurrence": row["occurrence"],
                "n": n,
                "without_baseline": row["without_baseline"],
                "mean_change": _round(row["mean_change"], _TWO_PLACES),
                "mean_change_ci95": _rounded(mean_ci95(row["mean_change"], row["sd_change"], n), _TWO_PLACES),
                "median_change": _round(row["median_change"], _TWO_PLACES),
                "mean_percent_change": _round(row["mean_percent_change"]),
                "mean_percent_change_ci95": _rounded(
                    mean_ci95(row["mean_percent_change"], row["sd_percent_change"], row["n_percent"]), _ONE_PLACE
                ),
                "responders": responders if n else [],
            }
        )
    return sorted(out.values(), key=lambda entry: entry["code"])


def _first_responder_column(measures, measure) -> int:
    """Index of the measure's first responder column (columns follow `measures` order)."""
    index = 0
    for other in measures.values():
        if other.pk == measure.pk:
            return index
        index += len(other.responders or [])
    raise KeyError(measure.pk)


def _rounded(interval, places):
    return None if interval is None else [_round(bound, places) for bound in interval]


# --- Response-guided schedules (SPEC §19) ---------------------------------------------------------

MAIN_PATH = "main"
SWITCH_PREFIX = "switch_to:"


def with_arm(enrolments):
    """Each enrolment with `arm_action`: the chosen action of its latest
    decided switch (`switch_to: <arm>`), null on the main path."""
    latest_switch = (
        Decision.objects.filter(enrolment=OuterRef("pk"), chosen_action__startswith=SWITCH_PREFIX)
        .exclude(status=DecisionStatus.PENDING)
        .order_by("-decided_at", "-pk")
        .values("chosen_action")[:1]
    )
    return enrolments.annotate(arm_action=Subquery(latest_switch))


def _arm_name(action: str | None) -> str:
    return action.removeprefix(SWITCH_PREFIX).strip() if action else MAIN_PATH


def _decisions(enrolments) -> dict:
    """The proposals of the cohort's decision visits: how many were accepted,
    overridden or are pending, and per decision visit and proposal."""
    rows = list(
        Decision.objects.filter(enrolment__in=enrolments)
        .order_by()
        .values("session__step__name", "proposed_action")
        .annotate(
            total=Count("pk"),
            accepted=Count("pk", filter=Q(status=DecisionStatus.ACCEPTED)),
            overridden=Count("pk", filter=Q(status=DecisionStatus.OVERRIDDEN)),
            pending=Count("pk", filter=Q(status=DecisionStatus.PENDING)),
            needs_review=Count("pk", filter=~Q(review_reason="")),
        )
        .order_by("session__step__name", "proposed_action")
    )
    keys = ("total", "accepted", "overridden", "pending", "needs_review")
    totals = {key: sum(row[key] for row in rows) for key in keys}
    totals["by_proposal"] = [
        {"step_name": row.pop("session__step__name"), **{k: v for k, v in row.items() if k != "needs_review"}}
        for row in rows
    ]
    return totals


def _arms(enrolments, *, total: int, decided: int) -> list[dict]:
    """Enrolments per arm (the main path for those never switched) and, once
    any enrolment is on an arm, the outcomes of each arm as `measures` gives
    them for the whole cohort. A cohort without a decided proposal is all on
    the main path, which costs no query."""
    if not decided:
        return [{"arm": MAIN_PATH, "enrolments": total, "measures": []}]
    annotated = with_arm(enrolments)
    counts = {
        row["arm_action"]: row["n"]
        for row in annotated.order_by().values("arm_action").annotate(n=Count("pk"))
    }
    switched = any(action is not None for action in counts)
    arms = []
    for action in sorted(counts, key=lambda a: (a is not None, a or "")):
        arm_enrolments = annotated.filter(arm_action=action) if action else annotated.filter(arm_action__isnull=True)
        arms.append({
            "arm": _arm_name(action),
            "enrolments": counts[action],
            "measures": _measures(Enrolment.objects.filter(pk__in=arm_enrolments.values("pk"))) if switched else [],
        })
    return arms


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
        "questionnaires": _questionnaires(enrolments),
        "decisions": (decisions := _decisions(enrolments)),
        "arms": _arms(enrolments, total=counts["total"], decided=decisions["accepted"] + decisions["overridden"]),
    }
