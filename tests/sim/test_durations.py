import pytest

from sim.durations import parse_duration


@pytest.mark.parametrize(
    "text, seconds",
    [("400s", 400), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("1.5s", 1.5), ("400", 400),
     (400, 400), (2.5, 2.5), ("1h0m5s", 3605), (0, 0)],
)
def test_parses_go_style_durations_and_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "5x", "s", "-5s", -1, "1h-3m", True, None, [], "nan", "inf"])
def test_rejects_malformed_or_negative(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)
