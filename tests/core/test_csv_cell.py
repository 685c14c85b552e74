"""core.text.csv_cell: the one rule every CSV export applies to its cells."""

import datetime as dt
from decimal import Decimal

import pytest

from core.text import csv_cell


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx", "+49 30 450 000"])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Weber", "a=b", "", "2026-03-16", -2, Decimal("-20.5"), dt.date(2026, 3, 16)])
def test_anything_else_stays_as_it_is(value):
    assert csv_cell(value) == value


def test_none_is_an_empty_cell():
    assert csv_cell(None) == ""
