"""The protocol library: every current protocol of the clinic and each
one's steps on a timeline. The manager's editor is in authoring_views."""

import datetime as dt

from django.shortcuts import get_object_or_404, render

from core.pages import staff_page
from protocols import schedule
from protocols.models import Protocol

# The timeline is drawn from a nominal start: day 0 is the enrolment's start.
NOMINAL_START = dt.date(2000, 1, 3)
WIDTH, LEFT, RIGHT, ROW, TOP = 760, 170, 24, 34, 30


def _timeline(steps):
    """Day offsets of every session of a fresh enrolment, laid out one row per step."""
    planned = schedule.initial_schedule(NOMINAL_START, [schedule.StepRule.of(s) for s in steps])
    last = max([(p.dates.window_end - NOMINAL_START).days for p in planned] + [1])
    first = min([(p.dates.window_start - NOMINAL_START).days for p in planned] + [0])
    span = max(last - first, 1)
    inner = WIDTH - LEFT - RIGHT

    def x(day: int) -> float:
        return round(LEFT + (day - first) / span * inner, 1)

    rows = []
    for index, step in enumerate(steps):
        marks = []
        for p in planned:
            if p.step_index != index:
                continue
            day = (p.dates.target_date - NOMINAL_START).days
            before = (p.dates.window_start - NOMINAL_START).days
            after = (p.dates.window_end - NOMINAL_START).days
            marks.append(
                {
                    "sequence": p.sequence,
                    "day": day,
                    "x": x(day),
                    "window_x": x(before),
                    "window_w": max(x(after) - x(before), 2),
                    "window": (before, after),
                }
            )
        rows.append({"step": step, "y": TOP + index * ROW, "marks": marks, "days": [m["day"] for m in marks]})
    # Tick every week, or every 4 weeks on long courses.
    every = 7 if span <= 120 else 28 if span <= 400 else 91
    ticks = [{"x": x(d), "label": f"day {d}" if d == 0 else f"wk {d // 7}"} for d in range(0, last + 1, every) if d >= first]
    height = TOP + len(steps) * ROW + 10
    return {
        "rows": rows,
        "ticks": ticks,
        "width": WIDTH,
        "height": height,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "axis_y": height - 10,
        "total_days": last,
        "sessions": len(planned),
    }


@staff_page()
def protocol_list(request):
    protocols = (
        Protocol.objects.filter(clinic=request.user.clinic, is_current=True)
        .prefetch_related("steps")
        .order_by("-active", "name")
    )
    items = [{"protocol": p, "sessions": sum(s.repeat for s in p.steps.all() if not s.arm)} for p in protocols]
    return render(request, "protocols/protocol_list.html", {"nav": "protocols", "items": items})


@staff_page()
def protocol_detail(request, pk):
    protocol = get_object_or_404(Protocol.objects.filter(clinic=request.user.clinic), pk=pk)
    steps = list(protocol.steps.prefetch_related("measures").order_by("position"))
    for step in steps:
        # SPEC §19: the rules as the clinician reads them, the default last.
        data = step.decision or {}
        step.rule_rows = [(r.get("if"), r.get("then"), r.get("reason", "")) for r in data.get("rules", [])]
        if data:
            default = data.get("default") or {}
            step.rule_rows.append(("otherwise", default.get("then"), default.get("reason", "")))
            step.decided_at = "every visit" if data.get("at") == "every" else "the last visit of this step"
    versions = Protocol.objects.filter(lineage=protocol.lineage).order_by("-version")
    context = {
        "nav": "protocols",
        "protocol": protocol,
        "steps": steps,
        "timeline": _timeline([s for s in steps if not s.arm]) if steps else None,
        "versions": versions,
    }
    return render(request, "protocols/protocol_detail.html", context)
