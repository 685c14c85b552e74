"""Staff pages for products and lots (SPEC §12): the clinic's lots, and a
lot's recall list laid out for printing, with its CSV."""

from django.shortcuts import get_object_or_404, render

from core.pages import clinic_today, staff_page
from protocols.products import lots_of
from sessions.records.recall import recall_rows


@staff_page()
def lot_list(request):
    clinic = request.user.clinic
    lots = lots_of(clinic)
    context = {"nav": "lots", "lots": lots, "today": clinic_today(clinic)}
    return render(request, "sessions/lot_list.html", context)


@staff_page()
def lot_recall(request, pk):
    clinic = request.user.clinic
    lot = get_object_or_404(lots_of(clinic), pk=pk)
    rows = recall_rows(clinic, lot)
    context = {
        "nav": "lots",
        "lot": lot,
        "rows": rows,
        "patients": len({row["patient"] for row in rows}),
        "today": clinic_today(clinic),
    }
    return render(request, "sessions/lot_recall.html", context)
