"""A session completed: its outcomes recorded and corrected, and read per enrolment."""
