"""The staff page `/reports/` (SPEC §11): the cohort report with its filters,
in tables and charts a manager can read, a CSV of exactly what is shown, and a
print layout (the print stylesheet hides the filters and buttons)."""

import csv
import io

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.log import record
from audit.models import Action
from core.pages import clinic_today, staff_page
from core.roles import Role
from core.text import csv_cell
from protocols.models import Indication, Lot, Protocol
from reports.filters import CohortFilterSerializer
from reports.selectors import cohort_report

CHART_WIDTH = 560
BAR_HEIGHT = 26


def _filters(request):
    """The page's filters through the API's own serializer: a bad one is shown, not applied."""
    raw = {key: value for key, value in request.GET.items() if value and key in CohortFilterSerializer().fields}
    params = CohortFilterSerializer(data=raw, context={"clinic": request.user.clinic})
    if params.is_valid():
        return raw, params.filters(), {}
    return raw, {}, params.errors


def _report(request):
    clinic = request.user.clinic
    raw, filters, errors = _filters(request)
    return raw, errors, cohort_report(clinic, today=clinic_today(clinic), **filters)


def _read(request) -> None:
    """Logged once the report was made and its answer built: a report that
    failed was not read."""
    record(action=Action.REPORT, request=request, object_type="report.cohort", summary=request.get_full_path())


def change_chart(measure) -> dict:
    """Horizontal bars: mean change per time point, with its 95 % interval as a whisker."""
    points = [p for p in measure["time_points"] if p["mean_change"] is not None]
    bounds = [0.0]
    for p in points:
        bounds += [float(p["mean_change"])] + [float(b) for b in (p["mean_change_ci95"] or [])]
    low, high = min(bounds), max(bounds)
    span = (high - low) or 1.0
    left, width = 200, CHART_WIDTH - 220

    def x(v):
        return round(left + (float(v) - low) / span * width, 1)

    bars = []
    for i, p in enumerate(points):
        mean = float(p["mean_change"])
        y = 10 + i * BAR_HEIGHT
        ci = p["mean_change_ci95"]
        bars.append(
            {
                "label": f"{p['step_name']} #{p['occurrence']}",
                "y": y,
                "text_y": y + 14,
                "x": min(x(0), x(mean)),
                "width": max(abs(x(mean) - x(0)), 1),
                "mid": y + 9,
                "ci": [x(ci[0]), x(ci[1])] if ci else None,
                "value": p["mean_change"],
                "n": p["n"],
            }
        )
    return {"bars": bars, "zero": x(0), "height": 20 + len(points) * BAR_HEIGHT, "width": CHART_WIDTH}


def rate_chart(measure) -> list[dict]:
    """Responder rates per time point as percent bars with their Wilson interval."""
    rows = []
    for p in measure["time_points"]:
        for r in p["responders"]:
            if r["rate"] is None:
                continue
            low, high = r["ci95"]
            rows.append(
                {
                    "label": _("{response} at {step} #{occurrence}").format(
                        response=r["label"], step=p["step_name"], occurrence=p["occurrence"]
                    ),
                    "percent": round(float(r["rate"]) * 100),
                    "low": round(float(low) * 100),
                    "high": round(float(high) * 100),
                    "responders": r["responders"],
                    "n": r["n"],
                }
            )
    return rows


@staff_page(Role.MANAGER)
def cohort(request):
    clinic = request.user.clinic
    raw, errors, report = _report(request)
    for measure in report["measures"]:
        measure["chart"] = change_chart(measure)
        measure["rates"] = rate_chart(measure)
    grades = report["adverse_events"]["by_grade"]
    most = max(grades.values(), default=0) or 1
    context = {
        "nav": "reports",
        "report": report,
        "raw": raw,
        "errors": errors,
        "query": request.GET.urlencode(),
        "today": clinic_today(clinic),
        "protocols": Protocol.objects.filter(clinic=clinic, is_current=True).order_by("name"),
        "indications": Indication.choices,
        "lots": Lot.objects.filter(product__clinic=clinic).select_related("product").order_by("-expiry_date"),
        "grades": [{"grade": g, "count": c, "percent": round(c / most * 100)} for g, c in grades.items()],
    }
    response = render(request, "reports/cohort.html", context)
    _read(request)
    return response


def report_lines(report) -> list[list]:
    """The report as rows of (section, figure, time point, value, 95 % interval)."""
    lines = [["section", "figure", "time_point", "value", "ci95_low", "ci95_high"]]
    for key, value in report["enrolments"].items():
        lines.append(["enrolments", key, "", value, "", ""])
    for key, value in report["adherence"].items():
        lines.append(["adherence", key, "", "" if value is None else value, "", ""])
    for measure in report["measures"]:
        for p in measure["time_points"]:
            when = f"{p['step_name']} #{p['occurrence']}"
            for figure, interval in (
                ("n", None),
                ("without_baseline", None),
                ("mean_change", "mean_change_ci95"),
                ("median_change", None),
                ("mean_percent_change", "mean_percent_change_ci95"),
            ):
                ci = p[interval] if interval else None
                value = p[figure]
                lines.append(
                    [
                        measure["code"],
                        figure,
                        when,
                        "" if value is None else value,
                        *(ci or ["", ""]),
                    ]
                )
            for r in p["responders"]:
                lines.append([measure["code"], f"{r['code']} responders", when, r["responders"], "", ""])
                lines.append([measure["code"], f"{r['code']} rate", when, r["rate"] or "", *(r["ci95"] or ["", ""])])
    events = report["adverse_events"]
    for key in ("total", "related", "serious", "treatments", "per_100_treatments"):
        lines.append(["adverse_events", key, "", "" if events[key] is None else events[key], "", ""])
    for grade, count in events["by_grade"].items():
        lines.append(["adverse_events", f"grade_{grade}", "", count, "", ""])
    for key, value in report["follow_up"].items():
        lines.append(["follow_up", key, "", value, "", ""])
    asked = report["questionnaires"]
    for key in ("visits", "answered_before_visit", "by_patient"):
        lines.append(["questionnaires", key, "", asked[key], "", ""])
    lines.append(["questionnaires", "rate", "", asked["rate"] or "", *(asked["ci95"] or ["", ""])])
    decisions = report["decisions"]
    for key in ("total", "accepted", "overridden", "pending", "needs_review"):
        lines.append(["decisions", key, "", decisions[key], "", ""])
    for row in decisions["by_proposal"]:
        for key in ("accepted", "overridden", "pending"):
            lines.append(["decisions", f"{row['proposed_action']} {key}", row["step_name"], row[key], "", ""])
    for arm in report["arms"]:
        lines.append(["arms", f"{arm['arm']} enrolments", "", arm["enrolments"], "", ""])
        for measure in arm["measures"]:
            for p in measure["time_points"]:
                when = f"{p['step_name']} #{p['occurrence']}"
                mean = "" if p["mean_change"] is None else p["mean_change"]
                lines.append([f"{arm['arm']}: {measure['code']}", "mean_change", when, mean, *(p["mean_change_ci95"] or ["", ""])])
    return lines


@staff_page(Role.MANAGER)
def cohort_csv(request):
    _raw, _errors, report = _report(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in report_lines(report):
        writer.writerow([csv_cell(cell) for cell in line])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cohort-report.csv"'
    response["Cache-Control"] = "no-store"
    _read(request)
    return response
