"""Dormant probes (sim/kubelet/prober.py): a settled probe whose answer cannot change stops
being scheduled, yet the cluster behaves exactly as if the kubelet had asked it every period.
The proof is a twin: the same seed and the same actions on a cluster whose kubelets ask every
probe (dormant_enabled off) give the same events, at the same times, the same pod statuses and
the same count of probes run."""
from __future__ import annotations

from sim.cluster import Cluster, ClusterConfig
from sim.kubelet.kubelet import Kubelet
from tests.sim.conftest import ok
from tests.sim.test_containers import advance_until

NGINX = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 3}


def kubelets(c: Cluster) -> list[Kubelet]:
    return [comp for comp in c.kernel.components.values() if isinstance(comp, Kubelet)]


def twin(dormant: bool) -> Cluster:
    # Without the CoreDNS addon: the counts below are of the test's own pods' probes.
    config = ClusterConfig.default(seed=7)
    config.skip_phases = ["addon/coredns"]
    c = Cluster("t", config)
    for k in kubelets(c):
        k.dormant_enabled = dormant
    c.advance(20)
    return c


def create(c: Cluster, name: str, **container) -> None:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": "worker-1", "terminationGracePeriodSeconds": 5,
                     "containers": [{"name": "app", "image": "nginx:1.27", **container}]}}
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}), 201)


def observed(c: Cluster) -> dict:
    """What a user can see: every event of the default namespace with its count and times, and
    each pod's phase and container statuses."""
    events = ok(c.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]
    pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
    return {"events": sorted((e["involvedObject"]["name"], e["reason"], e["message"], e.get("count"),
                              e.get("firstTimestamp"), e.get("lastTimestamp")) for e in events),
            "pods": {p["metadata"]["name"]: (p["status"].get("phase"), p["status"].get("containerStatuses"),
                                             p["status"].get("conditions")) for p in pods}}


def probes_run(c: Cluster) -> int:
    return sum(k.probes_run for k in kubelets(c))


def scenario(c: Cluster) -> list:
    """Probed pods at rest, then faults that make their probes fail, recoveries, a deletion:
    what is seen and how many probes ran, at each step."""
    seen = []
    create(c, "web", livenessProbe=dict(NGINX), readinessProbe=dict(NGINX))
    create(c, "tcp", livenessProbe={"tcpSocket": {"port": 80}, "periodSeconds": 4},
           readinessProbe={"tcpSocket": {"port": 80}, "periodSeconds": 5, "successThreshold": 2})
    create(c, "other-path", livenessProbe={"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 3,
                                           "failureThreshold": 1000})
    for step in (
            lambda: c.advance(61.3),
            lambda: c.inject_fault("default", "web", {"fault": "fail-health"}),
            lambda: c.advance(13.7),
            lambda: c.inject_fault("default", "web", {"fault": "recover"}),
            lambda: c.advance(40.2),
            lambda: c.inject_fault("default", "tcp", {"fault": "unready"}),
            lambda: c.advance(9.1),
            lambda: c.inject_fault("default", "tcp", {"fault": "hang"}),
            lambda: c.advance(30.0),
            lambda: c.inject_fault("default", "tcp", {"fault": "recover"}),
            lambda: c.advance(25.0),
            lambda: ok(c.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "web"})),
            lambda: c.advance(30.0)):
        step()
        seen.append((round(c.now, 6), probes_run(c), observed(c)))
    return seen


def test_a_cluster_with_dormant_probes_behaves_as_one_that_asks_every_probe():
    asking, dormant = scenario(twin(False)), scenario(twin(True))
    assert len(asking) == len(dormant)
    for (t, n, seen), (t2, n2, seen2) in zip(asking, dormant):
        assert (t, seen) == (t2, seen2), f"what is seen differs at t={t}"
        assert n == n2, f"probes run differ at t={t}: {n} asked, {n2} counted"
    # The faults did something: the liveness failures killed web's container once.
    web = dormant[3][2]["pods"]["web"][1][0]
    assert web["restartCount"] == 1
    assert any(e[1] == "Killing" and e[0] == "web" for e in dormant[-1][2]["events"])


def test_settled_probes_stop_being_scheduled_until_a_fault_wakes_them():
    runs = {}
    for dormant in (False, True):
        c = twin(dormant)
        create(c, "web", livenessProbe=dict(NGINX), readinessProbe=dict(NGINX))
        advance_until(c, lambda: probes_run(c) >= 4, 30)
        before = c.kernel.events_run, probes_run(c)
        c.advance(300)
        runs[dormant] = (c.kernel.events_run - before[0], probes_run(c) - before[1])
        if dormant:
            [k] = [k for k in kubelets(c) if k.dormant_probes]
            [sleeping] = k.dormant_probes.values()
            assert sorted(d.kind for d in sleeping) == ["liveness", "readiness"]
            c.inject_fault("default", "web", {"fault": "fail-health"})
            assert not k.dormant_probes  # woken: each asks again at its own next due time
    # Both counted the 200 probes due in 300 s (two every 3 s); the dormant kubelet ran no
    # kernel event for them.
    assert runs[False][1] == runs[True][1] == 200
    assert runs[False][0] - runs[True][0] == 200


def test_probes_that_may_change_never_sleep():
    c = twin(True)
    create(c, "exec", livenessProbe={"exec": {"command": ["cat", "/etc/hostname"]}, "periodSeconds": 2})
    create(c, "path", livenessProbe={"httpGet": {"path": "/status", "port": 80}, "periodSeconds": 2,
                                     "failureThreshold": 1000})
    c.advance(60)
    assert not any(k.dormant_probes for k in kubelets(c))
