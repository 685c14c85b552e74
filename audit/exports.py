"""The audit log as a CSV download, for the API and the staff page; the
download is itself an entry."""

from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.log import record
from audit.models import Action
from audit.selectors import csv_rows


def csv_response(request, events) -> StreamingHttpResponse:
    record(action=Action.EXPORT, request=request, object_type="audit.auditevent", summary="audit log as CSV")
    response = StreamingHttpResponse(csv_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response
