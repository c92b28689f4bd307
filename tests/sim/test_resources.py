"""Containers use CPU and memory (sim/runtime/cgroups.py): a memory limit OOMKills, a CPU limit
throttles; faults injected into an application (sim/runtime/faults.py, sim/podfaults.py); the
kubelet's memory eviction manager (sim/kubelet/evictionmanager.py); and metrics-server's
metrics.k8s.io API (sim/metricsserver.py), in virtual time."""
from __future__ import annotations

import pytest

from sim.api import quantity
from sim.cluster import ClusterError
from sim.kubelet.evictionmanager import EvictionManager
from tests.sim.conftest import ok
from tests.sim.test_containers import advance_until, container_of, events_of, run_pod, status_of


def resources(cpu_req=None, mem_req=None, cpu_lim=None, mem_lim=None) -> dict:
    out: dict = {}
    if cpu_req or mem_req:
        out["requests"] = {k: v for k, v in (("cpu", cpu_req), ("memory", mem_req)) if v}
    if cpu_lim or mem_lim:
        out["limits"] = {k: v for k, v in (("cpu", cpu_lim), ("memory", mem_lim)) if v}
    return out


def app_pod(cluster, name, node="worker-1", res=None, priority_class=None, **container):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "resources": res or {}, **container}],
                     "nodeSelector": {"kubernetes.io/hostname": node}}}
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}), 201)
    advance_until(cluster, lambda: status_of(cluster, name).get("phase") == "Running", 60)


def stats_of(cluster, node, pod) -> dict:
    runtime = cluster.node_components[node][0]
    uid = ok(cluster.request({"verb": "get", "resource": "pods", "namespace": "default", "name": pod}))["metadata"]["uid"]
    [s] = [s for s in runtime.container_stats() if s["pod_uid"] == uid]
    return s


def test_a_leaking_container_is_oomkilled_with_exit_137_and_restarted(cluster):
    app_pod(cluster, "leaky", res=resources(mem_req="32Mi", mem_lim="64Mi"))
    ok_fault = cluster.inject_fault("default", "leaky", {"fault": "leak-memory", "rate": "10Mi"})
    assert ok_fault["container"] == "app" and ok_fault["faults"] == ["leak-memory"]
    # 3Mi of nginx plus 10Mi a second reaches 64Mi in about 6 s: killed, then restarted at once.
    advance_until(cluster, lambda: container_of(cluster, "leaky")["restartCount"] >= 1, 30)
    cs = container_of(cluster, "leaky")
    last = cs["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("OOMKilled", 137)
    # The fault outlives the process (a bug in the app): it is OOMKilled again and crash-loops.
    advance_until(cluster, lambda: (container_of(cluster, "leaky")["state"].get("waiting") or {}).get("reason")
                  == "CrashLoopBackOff", 60)
    cluster.inject_fault("default", "leaky", {"fault": "recover"})
    advance_until(cluster, lambda: "running" in container_of(cluster, "leaky")["state"], 60)
    restarts = container_of(cluster, "leaky")["restartCount"]
    cluster.advance(30)
    assert container_of(cluster, "leaky")["restartCount"] == restarts


def test_cpu_use_is_capped_at_the_limit_and_throttled(cluster):
    app_pod(cluster, "capped", res=resources(cpu_req="100m", cpu_lim="500m"))
    app_pod(cluster, "free", node="worker-2")
    idle = stats_of(cluster, "worker-1", "capped")
    assert idle["cpu_rate"] == pytest.approx(0.002) and idle["memory"] == 3 * 1024 * 1024  # nginx at rest
    for pod in ("capped", "free"):
        cluster.inject_fault("default", pod, {"fault": "burn-cpu", "cpu": "2"})
    before = stats_of(cluster, "worker-1", "capped")
    cluster.advance(10)
    capped, free = stats_of(cluster, "worker-1", "capped"), stats_of(cluster, "worker-2", "free")
    assert capped["cpu_rate"] == pytest.approx(0.5) and free["cpu_rate"] == pytest.approx(2.002)
    assert capped["usage_seconds"] - before["usage_seconds"] == pytest.approx(5.0, rel=0.01)
    assert capped["nr_throttled"] - before["nr_throttled"] == pytest.approx(100, abs=1)  # every 100 ms period
    assert free["nr_throttled"] == 0
    cluster.inject_fault("default", "capped", {"fault": "recover"})
    assert stats_of(cluster, "worker-1", "capped")["cpu_rate"] == pytest.approx(0.002)


def test_liveness_failing_three_times_restarts_the_container_after_fail_health(cluster):
    probe = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5}
    app_pod(cluster, "health", livenessProbe=probe)
    cluster.advance(12)
    assert container_of(cluster, "health")["restartCount"] == 0
    cluster.inject_fault("default", "health", {"fault": "fail-health"})
    killing = ("Killing", "Container app failed liveness probe, will be restarted")
    # In small steps: the kill comes with the third failure, and the restarted container (the
    # fault stays) fails its first probe as soon as it runs, a fraction of a second later.
    advance_until(cluster, lambda: killing in events_of(cluster, "health"), 40, step=0.05)
    # The recorder aggregates repeats into one Event with a count (client-go's EventCorrelator).
    items = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "default",
                                "query": {"fieldSelector": "involvedObject.name=health"}}))["items"]
    assert sum(e.get("count", 1) for e in items if e["reason"] == "Unhealthy" and e["message"]
               == "Liveness probe failed: HTTP probe failed with statuscode: 500") == 3
    advance_until(cluster, lambda: container_of(cluster, "health")["restartCount"] == 1, 40)


def test_hang_times_probes_out_and_unready_fails_readiness_only(cluster):
    app_pod(cluster, "hung", readinessProbe={"exec": {"command": ["cat", "/etc/hostname"]}, "periodSeconds": 2},
            livenessProbe={"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2, "failureThreshold": 100})
    advance_until(cluster, lambda: container_of(cluster, "hung").get("ready"), 20)
    cluster.inject_fault("default", "hung", {"fault": "hang"})
    advance_until(cluster, lambda: not container_of(cluster, "hung").get("ready"), 20)
    messages = [m for r, m in events_of(cluster, "hung") if r == "Unhealthy"]
    assert 'Readiness probe failed: command "cat /etc/hostname" timed out' in messages
    assert any(m.startswith('Liveness probe failed: Get "http://') and m.endswith(
        ':80/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)') for m in messages)
    cluster.inject_fault("default", "hung", {"fault": "recover"})
    advance_until(cluster, lambda: container_of(cluster, "hung").get("ready"), 20)
    cluster.inject_fault("default", "hung", {"fault": "unready"})
    advance_until(cluster, lambda: not container_of(cluster, "hung").get("ready"), 20)
    assert container_of(cluster, "hung")["restartCount"] == 0  # liveness still passes


def test_crash_fault_exits_with_the_code_and_crash_loops(cluster):
    app_pod(cluster, "crashy")
    cluster.inject_fault("default", "crashy", {"fault": "crash", "exitCode": 3})
    advance_until(cluster, lambda: (container_of(cluster, "crashy")["state"].get("waiting") or {}).get("reason")
                  == "CrashLoopBackOff", 60)
    last = container_of(cluster, "crashy")["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (3, "Error")


def test_fault_requests_are_validated(cluster):
    app_pod(cluster, "target")
    for body, message in (({"fault": "explode"}, "unknown fault 'explode'"),
                          ({"fault": "crash", "exitCode": 0}, "exitCode must be an integer from 1 to 255"),
                          ({"fault": "crash", "container": "db"}, "container db is not valid for pod target"),
                          ({"fault": "leak-memory", "rate": "-1Mi"}, "rate must be greater than 0"),
                          ("crash", "the body must be a JSON object")):
        with pytest.raises(ClusterError) as e:
            cluster.inject_fault("default", "target", body)
        assert e.value.code == 400 and message in str(e.value)
    with pytest.raises(ClusterError) as e:
        cluster.inject_fault("default", "ghost", {"fault": "crash"})
    assert e.value.code == 404 and str(e.value) == 'pods "ghost" not found'


def node_of(cluster, name) -> dict:
    return ok(cluster.request({"verb": "get", "resource": "nodes", "name": name}))


def pressure(cluster, node) -> str:
    return next(c["status"] for c in node_of(cluster, node)["status"]["conditions"] if c["type"] == "MemoryPressure")


def test_memory_pressure_evicts_besteffort_then_burstable_and_spares_guaranteed(cluster):
    cluster.add_node("small", cpu="2", memory="1Gi")
    cluster.advance(15)
    app_pod(cluster, "guaranteed", node="small", res=resources("100m", "600Mi", "100m", "600Mi"))
    app_pod(cluster, "burstable", node="small", res=resources(mem_req="20Mi"))
    app_pod(cluster, "besteffort", node="small")
    for pod in ("besteffort", "burstable"):
        cluster.inject_fault("default", pod, {"fault": "leak-memory", "rate": "10Mi"})
    # 1Gi - 100Mi threshold: pressure once the two leaks passed ~900Mi together (~45 s).
    advance_until(cluster, lambda: status_of(cluster, "besteffort")["phase"] == "Failed", 90)
    assert status_of(cluster, "burstable")["phase"] == "Running"
    st = status_of(cluster, "besteffort")
    assert st["reason"] == "Evicted"
    assert st["message"].startswith("The node was low on resource: memory. Threshold quantity: 100Mi, available: ")
    assert "Container app was using " in st["message"] and \
        st["message"].endswith(", request is 0, has larger consumption of memory. ")
    assert any(c["type"] == "DisruptionTarget" and c["reason"] == "TerminationByKubelet" for c in st["conditions"])
    assert ("Evicted", st["message"]) in events_of(cluster, "besteffort")
    advance_until(cluster, lambda: pressure(cluster, "small") == "True" and any(
        t["key"] == "node.kubernetes.io/memory-pressure" and t["effect"] == "NoSchedule"
        for t in node_of(cluster, "small")["spec"].get("taints") or []), 30)
    # The burstable pod keeps leaking: it is next.
    advance_until(cluster, lambda: status_of(cluster, "burstable")["phase"] == "Failed", 120)
    assert "request is 20Mi" in status_of(cluster, "burstable")["message"]
    assert status_of(cluster, "guaranteed")["phase"] == "Running"
    # No pressure for evictionPressureTransitionPeriod (5 min): the condition and taint clear.
    advance_until(cluster, lambda: pressure(cluster, "small") == "False", 330, step=5)
    advance_until(cluster, lambda: not any(t["key"] == "node.kubernetes.io/memory-pressure"
                                           for t in node_of(cluster, "small")["spec"].get("taints") or []), 20)
    assert status_of(cluster, "guaranteed")["phase"] == "Running"


def test_rank_memory_pressure_orders_besteffort_burstable_guaranteed():
    def worker(name, req=None, priority=0):
        res = {"requests": {"memory": req}} if req else {}
        return {"pod": {"metadata": {"name": name},
                        "spec": {"priority": priority, "containers": [{"name": "app", "resources": res}]}}}
    mi = 1024 * 1024
    pods = [(worker("guaranteed", "600Mi"), {"app": 500 * mi}), (worker("burstable", "100Mi"), {"app": 300 * mi}),
            (worker("besteffort"), {"app": 50 * mi}), (worker("important-besteffort", priority=1000), {"app": 900 * mi})]
    ranked = sorted(pods, key=lambda p: EvictionManager._rank(p[0], p[1]))
    assert [w["pod"]["metadata"]["name"] for w, _ in ranked] == \
        ["burstable", "besteffort", "important-besteffort", "guaranteed"]


def metrics(cluster, resource, **kw) -> dict:
    return cluster.request({"verb": kw.pop("verb", "list"), "group": "metrics.k8s.io", "version": "v1beta1",
                            "resource": resource, **kw})


def test_metrics_api_serves_node_and_pod_usage_from_the_kubelets(cluster):
    app_pod(cluster, "web", res=resources(cpu_lim="300m"))
    ok(cluster.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": "web",
                        "body": {"metadata": {"labels": {"app": "web"}}},
                        "patch_type": "application/merge-patch+json"}))
    cluster.inject_fault("default", "web", {"fault": "burn-cpu"})
    cluster.advance(35)  # two scrapes at least
    pods = ok(metrics(cluster, "pods", namespace="default"))
    assert pods["kind"] == "PodMetricsList"
    [web] = pods["items"]
    assert web["metadata"]["name"] == "web" and web["window"] == "15s"
    assert web["containers"] == [{"name": "app", "usage": {"cpu": "300000000n", "memory": "3Mi"}}]
    assert ok(metrics(cluster, "pods", namespace="default", query={"labelSelector": "app=web"}))["items"] == [web]
    assert ok(metrics(cluster, "pods", namespace="default", query={"labelSelector": "app=db"}))["items"] == []
    # kube-system holds the control plane's static pods, kubeadm's two CoreDNS pods and its
    # kube-proxy DaemonSet's pod on each of the 4 nodes, whose usage the kubelets report too.
    system = sorted(p["metadata"]["name"] for p in ok(metrics(cluster, "pods", namespace="kube-system"))["items"])
    assert [n for n in system if not n.startswith(("coredns-", "kube-proxy-"))] == [
        "etcd-cp-1", "kube-apiserver-cp-1", "kube-controller-manager-cp-1", "kube-scheduler-cp-1"]
    assert len([n for n in system if n.startswith("coredns-")]) == 2
    assert len([n for n in system if n.startswith("kube-proxy-")]) == 4
    node = ok(metrics(cluster, "nodes", verb="get", name="worker-1"))
    # The node's usage is its root cgroup's: its pods' (the web pod's 3Mi, and 512Ki each for the
    # kube-flannel and kube-proxy DaemonSets' pods and any CoreDNS pod the scheduler put there)
    # plus the node's own daemons' (containerd's node: 20m, 260Mi).
    on_node = {p["metadata"]["name"] for p in ok(cluster.request({"verb": "list", "resource": "pods"}))["items"]
               if p["spec"].get("nodeName") == "worker-1"}
    pods_memory = sum(quantity.value(c["usage"]["memory"]) for p in ok(metrics(cluster, "pods"))["items"]
                      if p["metadata"]["name"] in on_node for c in p["containers"])
    assert "web" in on_node and all(any(n.startswith(ds) for n in on_node) for ds in ("kube-flannel-", "kube-proxy-"))
    assert node["kind"] == "NodeMetrics" and node["usage"] == {
        "cpu": "320000000n", "memory": quantity.format_memory(260 * 1024 * 1024 + pods_memory)}
    missing = metrics(cluster, "nodes", verb="get", name="nope")
    assert missing["code"] == 404 and missing["body"]["message"] == 'nodemetrics.metrics.k8s.io "nope" not found'
    assert metrics(cluster, "pods", verb="create", namespace="default", body={})["code"] == 405


def test_hpa_example_burns_cpu_per_http_request(cluster):
    # One GET a second (a readiness probe): each costs 0.1 CPU seconds on top of php:apache at rest.
    app_pod(cluster, "php", image="registry.k8s.io/hpa-example",
            readinessProbe={"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1})
    before = stats_of(cluster, "worker-1", "php")
    cluster.advance(20)
    after = stats_of(cluster, "worker-1", "php")
    assert after["usage_seconds"] - before["usage_seconds"] == pytest.approx(20 * 0.001 + 20 * 0.1, rel=0.1)


def test_the_docs_stress_exercises_use_what_they_ask_for_and_are_oom_killed_past_their_limit(cluster):
    # Assign Memory Resources: 150M within a 200Mi limit runs; 250M past a 100Mi limit is OOMKilled.
    app_pod(cluster, "memory-demo", res=resources(mem_req="100Mi", mem_lim="200Mi"), image="polinux/stress",
            command=["stress"], args=["--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"])
    assert 150 * 1024 ** 2 <= stats_of(cluster, "worker-1", "memory-demo")["memory"] <= 152 * 1024 ** 2
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "memory-demo-2", "namespace": "default"},
            "spec": {"nodeSelector": {"kubernetes.io/hostname": "worker-2"},
                     "containers": [{"name": "memory-demo-2-ctr", "image": "polinux/stress", "command": ["stress"],
                                     "args": ["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"],
                                     "resources": resources(mem_req="50Mi", mem_lim="100Mi")}]}}
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}), 201)
    advance_until(cluster, lambda: (container_of(cluster, "memory-demo-2").get("lastState") or {}).get("terminated"), 60)
    last = container_of(cluster, "memory-demo-2")["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("OOMKilled", 137)
    # Assign CPU Resources: vish/stress asks for 2 CPUs and gets its limit of 1.
    app_pod(cluster, "cpu-demo", node="worker-3", res=resources(cpu_req="500m", cpu_lim="1"), image="vish/stress",
            args=["-cpus", "2"])
    cluster.advance(10)
    stats = stats_of(cluster, "worker-3", "cpu-demo")
    assert stats["cpu_rate"] == 1.0 and stats["nr_throttled"] > 0


def test_local_ephemeral_storage_past_its_limit_evicts_the_pod(cluster):
    # 128 KiB a second (a string doubled 17 times), into a new file each time
    writer = "s=x; for j in $(seq 17); do s=$s$s; done; i=0; while true; do echo $s > /cache/f$i; i=$((i+1)); sleep 1; done"
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "filler", "namespace": "default"},
            "spec": {"nodeSelector": {"kubernetes.io/hostname": "worker-1"},
                     "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "500Ki"}}],
                     "containers": [{"name": "writer", "image": "busybox:1.36", "command": ["sh", "-c", writer],
                                     "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}]}}
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}), 201)
    advance_until(cluster, lambda: status_of(cluster, "filler").get("phase") == "Failed", 60)
    st = status_of(cluster, "filler")
    assert st["reason"] == "Evicted" and st["message"] == 'Usage of EmptyDir volume "cache" exceeds the limit "500Ki". '
    # A container's own writes count against its ephemeral-storage limit.
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "scribbler", "namespace": "default"},
            "spec": {"nodeSelector": {"kubernetes.io/hostname": "worker-2"},
                     "containers": [{"name": "writer", "image": "busybox:1.36",
                                     "command": ["sh", "-c", writer.replace("/cache/", "/tmp/")],
                                     "resources": {"limits": {"ephemeral-storage": "300Ki"}}}]}}
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}), 201)
    advance_until(cluster, lambda: status_of(cluster, "scribbler").get("phase") == "Failed", 60)
    assert status_of(cluster, "scribbler")["message"] == 'Container writer exceeded its local ephemeral storage limit "300Ki". '
    assert ("Evicted", 'Container writer exceeded its local ephemeral storage limit "300Ki". ') in events_of(cluster, "scribbler")
