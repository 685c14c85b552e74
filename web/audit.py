"""The audit log page for managers: filters, newest first, CSV download."""

from django.core.paginator import Paginator
from django.shortcuts import render

from audit.exports import csv_response
from audit.selectors import PAGE_FILTERS, AuditFilter, events_of, readable
from clinics.models import Role
from core.pages import staff_page


def _filtered(request):
    return AuditFilter(request.GET or None, queryset=events_of(request.user.clinic), request=request)


@staff_page(Role.MANAGER)
def audit_log(request):
    filters = _filtered(request)
    events = filters.qs if filters.is_bound and filters.is_valid() else events_of(request.user.clinic)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    fields = [filters.form[name] for name in PAGE_FILTERS]
    return render(
        request,
        "audit/audit_log.html",
        {
            "nav": "audit", "filters": filters, "fields": fields, "page": page, "query": query.urlencode(),
            "rows": readable(page.object_list, request.user.clinic),
        },
    )


@staff_page(Role.MANAGER)
def audit_csv(request):
    filters = _filtered(request)
    events = filters.qs if filters.is_bound and filters.is_valid() else events_of(request.user.clinic)
    return csv_response(request, events)
