"""Staff pages for products and lots (SPEC §12): the clinic's lots, and a
lot's recall list laid out for printing, with its CSV."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinics.models import Role
from core.pages import SERVICE_ERRORS, add_service_errors, clinic_today, staff_page
from protocols.products import LOT_FIELDS, create_lot, lots_of
from sessions.records.recall import recall_rows
from web.sessions.forms import LotForm


@staff_page()
def lot_list(request):
    return _lot_page(request)


def _lot_page(request, *, form=None, status=200):
    clinic = request.user.clinic
    lots = lots_of(clinic)
    context = {
        "nav": "lots", "lots": lots, "today": clinic_today(clinic),
        "may_add": request.user.has_role(Role.MANAGER),
        "lot_form": form or LotForm(clinic=clinic, auto_id="lot_%s"),
    }
    return render(request, "sessions/lot_list.html", context, status=status)


@require_POST
@staff_page(Role.MANAGER)
def lot_add(request):
    """Add a lot of one of the clinic's products, as POST /api/v1/lots/ does."""
    form = LotForm(request.POST, clinic=request.user.clinic, auto_id="lot_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            lot = create_lot(product=data["product"], data={f: data[f] for f in LOT_FIELDS if data.get(f) not in (None, "")},
                             by=request.user)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Lot {lot} of {product} was added.").format(lot=lot.lot_number, product=lot.product.name)
            )
            return redirect("lot_list")
    return _lot_page(request, form=form, status=400)


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
