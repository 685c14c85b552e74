"""Patients' data rights (SPEC §14): an export of everything held on a
patient, and erasure of what identifies them. A consumer of the other apps:
it reads and changes patients, enrolments and sessions."""
