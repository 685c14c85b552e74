"""A session completed: its outcomes recorded and corrected, read per enrolment, and charted."""
