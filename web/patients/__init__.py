"""The patient list, record and edit pages."""
