"""Enrolment: its workflows and read queries (its API is api/enrolments.py, its pages web/enrolments/)."""
