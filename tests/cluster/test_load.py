"""No cluster's work starves the server (issue 8): while a 100,000-replica ReplicaSet fills at
50x, GET /version answers within a second and the WebSocket's frames keep flowing; SIGTERM
stops the server within 5 s; a restart then comes back with the ReplicaSet."""
from __future__ import annotations

import pytest

from tests.robustness import sigterm_seconds, version_latency_under_load


@pytest.fixture(scope="module")
def load_server(start_server):
    return start_server("load")


def test_version_answers_and_frames_flow_while_a_huge_replicaset_fills(load_server):
    result = version_latency_under_load(load_server, replicas=100_000, seconds=8)
    assert result.errors == 0
    assert result.p99_ms <= 1000, result
    assert result.max_frame_gap_ms <= 1000, result
    assert result.pods_created > 0, result


def test_sigterm_stops_the_busy_server_within_5s_and_a_restart_comes_back(load_server):
    seconds = sigterm_seconds(load_server)
    assert seconds <= 5, f"SIGTERM took {seconds:.1f}s"
    load_server.start()
    status, body = load_server.request("GET", "/clusters/demo/apis/apps/v1/namespaces/default/replicasets/load")
    assert status == 200 and body["spec"]["replicas"] == 100_000, body
