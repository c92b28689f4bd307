"""HorizontalPodAutoscalers with the real kubectl: `kubectl autoscale` (autoscaling/v1 from
kubectl 1.27 to 1.33 - as JSON up to 1.31, as protobuf from 1.32 -, autoscaling/v2 from 1.34,
as protobuf), `get hpa`, `describe hpa`, `top`, and the HorizontalPodAutoscaler walkthrough's
php-apache under the load the simulator's control API drives
(POST /clusters/<c>/sim/v1/workloads/<ns>/<kind>/<name>/load)."""
from __future__ import annotations

import json

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, kubectl_runner, rows

# The walkthrough's php-apache Deployment (its Service arrives with Services).
PHP_APACHE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector:
    matchLabels:
      run: {name}
  template:
    metadata:
      labels:
        run: {name}
    spec:
      containers:
      - name: php-apache
        image: registry.k8s.io/hpa-example
        ports:
        - containerPort: 80
        resources:
          limits:
            cpu: 500m
          requests:
            cpu: 200m
"""


@pytest.fixture(scope="module")
def php_apache(pilothouse_server, kube_cluster, kube_env, tmp_path_factory):
    """Creates a php-apache Deployment named as asked (once per module and name)."""
    made: set[str] = set()
    kubectl = kubectl_runner(BINARIES[-1] if BINARIES else None, kube_env)

    def make(name: str) -> str:
        if name not in made:
            path = tmp_path_factory.mktemp("php") / f"{name}.yaml"
            path.write_text(PHP_APACHE.format(name=name))
            kubectl("apply", "-f", str(path))
            made.add(name)
        return name
    return make


@pytest.fixture(scope="module")
def load(pilothouse_server, kube_cluster):
    def set_load(kind: str, name: str, rps: float | None = None, namespace: str = "default"):
        path = f"/clusters/{kube_cluster}/sim/v1/workloads/{namespace}/{kind}/{name}/load"
        if rps is None:
            return pilothouse_server.request("GET", path)
        return pilothouse_server.request("POST", path, {"requestsPerSecond": rps})
    return set_load


def test_autoscale_creates_an_hpa_with_every_kubectl(kubectl, php_apache):
    target = php_apache("php-apache")
    name = f"hpa-{kubectl.suffix}"
    out = kubectl("autoscale", "deployment", target, "--cpu-percent=50", "--min=1", "--max=10", f"--name={name}")
    assert out.stdout.strip() == f"horizontalpodautoscaler.autoscaling/{name} autoscaled"
    hpa = json.loads(kubectl("get", "hpa", name, "-o", "json").stdout)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}
    kubectl("delete", "hpa", name)


@pytest.fixture
def newest_kubectl(kube_env):
    """The walkthrough runs once, with the newest kubectl (`autoscale` itself runs on all, above)."""
    return kubectl_runner(BINARIES[-1] if BINARIES else None, kube_env)


def test_the_walkthrough_scales_php_apache_up_under_load_and_describes_it(newest_kubectl, php_apache, load):
    kubectl = newest_kubectl
    target = php_apache("php-walk")
    kubectl("autoscale", "deployment", target, "--cpu-percent=50", "--min=1", "--max=10")
    table = rows(kubectl("get", "hpa", target).stdout)
    assert table[0] == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert table[1][:2] == [target, f"Deployment/{target}"] and table[1][3:5] == ["1", "10"]
    wait_until(lambda: "%/50%" in kubectl("get", "hpa", target).stdout and "<unknown>" not in
               kubectl("get", "hpa", target).stdout, 60, 0.5, "the HPA reading the pods' CPU")
    status, state = load("deployment", target, 20)
    assert status == 200 and state["requestsPerSecond"] == 20.0, state

    def replicas() -> int:
        return int(rows(kubectl("get", "hpa", target).stdout)[1][5])
    wait_until(lambda: replicas() >= 4, 60, 0.5, "php-walk scaled up")
    described = kubectl("describe", "hpa", target).stdout
    assert "Reference:" in described and f"Deployment/{target}" in described
    assert "resource cpu on pods  (as a percentage of request):" in described
    assert "SuccessfulRescale" in described and "New size: " in described
    assert "cpu resource utilization (percentage of request) above target" in described
    assert "ScalingActive   True    ValidMetricFound" in described
    top = rows(kubectl("top", "pods", "-l", f"run={target}").stdout)
    assert top[0][:3] == ["NAME", "CPU(cores)", "MEMORY(bytes)"] and len(top) >= 2
    assert any(int(r[1].rstrip("m")) >= 100 for r in top[1:] if r[1].endswith("m")), top
    nodes = rows(kubectl("top", "nodes").stdout)
    assert nodes[0][:2] == ["NAME", "CPU(cores)"] and len(nodes) >= 2
    # the v1 view of the same object
    v1 = json.loads(kubectl("get", "--raw",
                            f"/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/{target}").stdout)
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 50 and v1["status"]["currentReplicas"] >= 1
    status, state = load("deployment", target, 0)
    assert status == 200 and state["requestsPerSecond"] == 0.0
    kubectl("delete", "hpa", target)


def test_load_requests_are_checked(load, php_apache):
    status, body = load("gadgets", "x", 5)
    assert status == 404 and body["reason"] == "NotFound"
    status, body = load("deployment", "nobody", 5)
    assert status == 404 and 'deployments.apps "nobody" not found' in body["message"]
    status, body = load("deployment", php_apache("php-apache"), -3)
    assert status == 400 and body["reason"] == "BadRequest"
    status, body = load("deployment", php_apache("php-apache"))
    assert status == 200 and body["requestsPerSecond"] == 0
    # GET reads what POST set (it used to go to the setter and answer 400, "must be a number")
    assert load("deployment", php_apache("php-apache"), 2)[0] == 200
    status, body = load("deploy", php_apache("php-apache"))
    assert status == 200 and body["requestsPerSecond"] == 2.0 and body["kind"] == "Deployment", body
    assert {"pods", "sent", "answered", "failed"} <= set(body)
    assert load("deployment", php_apache("php-apache"), 0)[0] == 200
    status, body = load("gadgets", "x")
    assert status == 404 and body["reason"] == "NotFound"
