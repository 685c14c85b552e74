"""The agenda, the due list and a session's pages: book, cancel, skip, complete, correct an outcome."""
