"""An acknowledged write is durable (issue 8): `kill -9` during a stream of creates, restart,
and every create answered 201 is there, none made twice, and the cluster serves on.  A few
rounds here; bench/robustness.py runs many."""
from __future__ import annotations

import pytest

from tests.robustness import crash_round, create_pod_request

ROUNDS = 3


@pytest.fixture(scope="module")
def crash_server(start_server):
    return start_server("crash")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_kill_9_loses_no_acknowledged_write_and_duplicates_none(crash_server, round_):
    result = crash_round(crash_server, f"r{round_}", seconds=1.5)
    assert result.acknowledged > 0
    assert result.lost == [], f"{len(result.lost)} of {result.acknowledged} acknowledged creates lost"
    assert result.duplicates == []
    # The cluster reconverges: it takes writes again after the restart.
    status, body = create_pod_request(crash_server, f"after-{round_}", {"crash": "after"})
    assert status == 201, body
