"""The API's pagination (its own module: DRF imports it from settings while
its generic views load, so it may not import them)."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Every list: 50 rows a page, or up to 500 with `page_size` (a day's
    agenda in one request). A page size that is not a whole number from 1
    to 500 is a 400 naming it, not quietly the default."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError({self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]})
        return int(raw)
