"""Every scripted scenario in tests/testdata/ runs and meets its expectations."""
from pathlib import Path

import pytest

from sim.scenario import ScenarioError, parse_duration, run_scenario

DATA = Path(__file__).resolve().parents[1] / "testdata"


@pytest.mark.parametrize("path", sorted(DATA.glob("*.txt")), ids=lambda p: p.stem)
def test_scenario(path):
    run_scenario(path.read_text())


def test_a_failed_expectation_names_its_line():
    with pytest.raises(ScenarioError, match=r"line 2: expect pod ghost Running"):
        run_scenario("advance 5s\nexpect pod ghost Running\n")


def test_durations():
    assert parse_duration("1h30m") == 5400 and parse_duration("500ms") == 0.5 and parse_duration("7") == 7
    with pytest.raises(ValueError):
        parse_duration("5 minutes")
