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


def test_selector_deletes_endpoint_counts_and_traffic_spread():
    """`delete pods -l`, `expect endpointslices <selector> ready= not-ready=`, and traffic's
    `endpoints=` (how many endpoints answered) and `from="pods <selector>"`, which the lessons
    use: each holds when it should and says why when it does not."""
    from sim.cluster import Cluster
    from sim.clusterconfig import config_from_spec
    from sim.lessons.format import LESSONS_DIR
    from sim.scenario import Scenario
    c = Cluster("t", config_from_spec({"seed": 3, "etcd": {"members": 1}, "nodes": [
        {"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}, {"name": "worker-2"}]}))
    c.advance(15)
    s = Scenario(c, base_dir=LESSONS_DIR)
    s.run("""
apply manifests/web-statefulset.yaml
apply manifests/svc-web.yaml
apply manifests/client.yaml
advance 60s
expect endpointslices kubernetes.io/service-name=web ready=3 not-ready=0 count=3
expect traffic from="pods run=client" to=web.default count=30 delivered=30 endpoints=3
fault pod web-1 unready
advance 30s
expect endpointslices kubernetes.io/service-name=web ready=2 not-ready=1
expect traffic from="pod default/client" to=web.default count=30 delivered=30 endpoints=2
""")
    with pytest.raises(ScenarioError, match=r"ready=2, not 3"):
        s.step("expect endpointslices kubernetes.io/service-name=web ready=3")
    with pytest.raises(ScenarioError, match=r"answered by 2 endpoints"):
        s.step('expect traffic from="pod default/client" to=web.default count=30 endpoints=3')
    with pytest.raises(ScenarioError, match=r"no running pod matches app=nothing"):
        s.step('expect traffic from="pods app=nothing" to=web.default delivered=1')
    s.run("""
delete pods -l run=client
delete pods -l app=nothing
advance 45s
expect pod client gone
expect pod web-0 Running
""")
