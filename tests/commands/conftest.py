from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture
def run(db):
    """Run a management command in-process; returns what it printed."""

    def run_command(*args: str) -> str:
        out = StringIO()
        call_command(*args, stdout=out, stderr=StringIO())
        return out.getvalue()

    return run_command
