"""The API's pagination (its own module: DRF imports it from settings while
its generic views load, so it may not import them)."""

from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class ShortPageCounts(Paginator):
    """Counts only when it must: a page that comes back short of full is
    the last one, so the total is its offset plus its rows. A day's agenda
    asked in one page costs one query instead of two (a COUNT and the page),
    and the last page of any list one instead of two. A full page, or a page
    past the end, counts as Django's paginator does."""

    def page(self, number):
        text = str(number)
        # Anything but a plain page number of sane size goes the counting way
        # (a huge one would overflow the OFFSET; the count turns it into a 404).
        if not (text.isascii() and text.isdigit() and len(text) <= 9) or self.orphans or "count" in self.__dict__:
            return super().page(number)
        wanted = int(text)
        if wanted < 1:
            return super().page(number)
        bottom = (wanted - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if len(rows) == self.per_page:
            self.validate_number(wanted)  # counts
        elif rows or wanted == 1:
            self.__dict__["count"] = bottom + len(rows)  # the cached property, known without a query
        else:
            return super().page(number)  # past the end: counts, then EmptyPage
        return self._get_page(rows, wanted, self)


class Pagination(PageNumberPagination):
    """Every list: 50 rows a page (the sessions list 250, `SessionPagination`),
    or up to 500 with `page_size`. A page size that is not a whole number
    from 1 to 500 is a 400 naming it, not quietly the default."""

    django_paginator_class = ShortPageCounts
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError({self.page_size_query_param: [_("Give a whole number from 1 to %(max)s.") % {"max": self.max_page_size}]})
        return int(raw)


class SessionPagination(Pagination):
    """The sessions list, which is the agenda's: 250 a page, so that a day,
    even a busy clinic's, comes in one request without asking. Four pages of
    50 cost four times the request's own work for the same rows
    (docs/benchmarks.md)."""

    page_size = 250
