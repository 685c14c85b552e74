from tests.pages.conftest import booked, enrolment, room  # noqa: F401  (shared fixtures)
