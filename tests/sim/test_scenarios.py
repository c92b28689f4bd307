"""Every scripted scenario in tests/testdata/ runs and meets its expectations."""
from pathlib import Path

import pytest

from sim.scenario import ScenarioError, parse_duration, run_scenario

DATA = Path(__file__).resolve().parents[1] / "testdata"


@pytest.mark.parametrize("path", sorted(DATA.glob("*.txt")), ids=lambda p: p.stem)
def test_scenario(path):
    run_scenario(path.read_text(), base_dir=path.parent)


def test_a_failed_expectation_names_its_line():
    with pytest.raises(ScenarioError, match=r"line 2: expect pod ghost Running"):
        run_scenario("advance 5s\nexpect pod ghost Running\n")


def test_durations():
    assert parse_duration("1h30m") == 5400 and parse_duration("500ms") == 0.5 and parse_duration("7") == 7
    with pytest.raises(ValueError):
        parse_duration("5 minutes")


def test_timings_are_settable_per_cluster():
    from sim.cluster import Cluster, ClusterConfig, ClusterError
    c = Cluster("t", ClusterConfig.default(seed=4))
    c.configure(node_monitor_grace_period="20", default_toleration_seconds=30)
    c.advance(15)
    from sim.scenario import Scenario
    Scenario(c).run("""
create pod web image=nginx node-selector=kubernetes.io/hostname=worker-2
advance 10s
kill-node worker-2
advance 35s
expect node worker-2 Ready=Unknown
advance 35s
""")
    pod = c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "web"})["body"]
    # 30 s toleration after a 20 s grace: evicted (Terminating) 80 s after the kill.
    assert pod["metadata"].get("deletionTimestamp")
    tol = {t["key"]: t["tolerationSeconds"] for t in pod["spec"]["tolerations"]}
    assert tol["node.kubernetes.io/unreachable"] == 30
    with pytest.raises(ClusterError):
        c.configure(node_monitor_grace_period="-1")
    with pytest.raises(ClusterError):
        c.configure(bogus=1)
