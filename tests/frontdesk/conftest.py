# The staff pages' fixtures, shared with tests/pages (a sibling's conftest is not seen here).
from tests.pages.conftest import booked, browser, console, enrolment, new_page, room  # noqa: F401
