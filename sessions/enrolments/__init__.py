"""Enrolment in one place: its workflows, read queries, API and staff page."""
