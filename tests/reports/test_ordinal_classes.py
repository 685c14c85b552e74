"""Hamilton-Norwood is a class (clinical/instruments.md, corrections): 3.5 for
"3 vertex" is still a class, not a quantity, so the cohort report and the
de-identified export give its change in points and never a percent."""


import io
from decimal import Decimal

import pandas as pd
import pytest

from tests.factories import make_protocol, step

from .test_cohort import point, report
from .test_export import consent, export

NORWOOD_STEPS = [
    step("Baseline assessment", "assessment", measures=["norwood", "hair_density"]),
    step("End-of-course assessment", "assessment", interval_days=28, window_after_days=14,
         measures=["norwood", "hair_density"], primary_endpoint=True),
]


@pytest.fixture
def norwood_course(clinic, make_course, receptionist):
    protocol = make_protocol(clinic, steps=NORWOOD_STEPS, name="Hair, men")
    enrolment = make_course(
        {"norwood": 3.5, "hair_density": 100}, {"norwood": 3, "hair_density": 120}, protocol=protocol, sex="male"
    )
    consent(enrolment.patient, receptionist)
    return enrolment


def test_the_cohort_report_gives_norwood_in_points_only(client_as, manager, norwood_course):
    body = report(client_as(manager))
    [norwood] = [m for m in body["measures"] if m["code"] == "norwood"]
    assert norwood["ordinal"] is True
    end = point(body, "norwood", "End-of-course assessment")
    assert Decimal(end["mean_change"]) == Decimal("-0.50")
    assert end["mean_percent_change"] is None
    # A quantity beside it keeps its percent: (120 - 100) / 100 = 20 %.
    assert Decimal(point(body, "hair_density", "End-of-course assessment")["mean_percent_change"]) == Decimal("20.0")


def test_the_export_gives_norwood_a_change_and_no_percent(client_as, manager, norwood_course):
    frame = pd.read_csv(io.StringIO(export(client_as(manager))))
    end = frame[(frame["measure"] == "norwood") & (frame["step_name"] == "End-of-course assessment")]
    [row] = end.to_dict("records")
    assert (row["value"], row["baseline"], row["change"]) == (3, 3.5, -0.5)
    assert pd.isna(row["percent_change"])
    density = frame[(frame["measure"] == "hair_density") & (frame["step_name"] == "End-of-course assessment")]
    assert list(density["percent_change"]) == [20]


