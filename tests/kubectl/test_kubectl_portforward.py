"""`kubectl port-forward` with the machine's real kubectl: 1.31 and later tunnel SPDY in a
WebSocket (here 1.33 and 1.37): requests to the local port reach the pod's nginx, which answers
its page and logs each request; several requests and two at once work; a port nothing listens on
shows the kubelet's error.  The SPDY-only kubectl 1.27 is told which kubectl to use."""
from __future__ import annotations

import concurrent.futures
import http.client
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest

from tests.conftest import free_port, kubectl_minor, wait_until
from tests.kubectl.conftest import SOME, binary_id, kube_env_for, kubectl_runner, pod_json

WEBSOCKET = [b for b in SOME if kubectl_minor(b) is not None and int(kubectl_minor(b).split(".")[1]) >= 31]
SPDY_ONLY = [b for b in SOME if kubectl_minor(b) == "1.27"]


@pytest.fixture(params=WEBSOCKET or [None], ids=binary_id)
def kubectl_ws(request, kube_env):
    return kubectl_runner(request.param, kube_env)


@pytest.fixture(params=SPDY_ONLY or [None], ids=binary_id)
def kubectl_spdy(request, kube_env):
    return kubectl_runner(request.param, kube_env)


def _nginx(kubectl, name: str) -> str:
    kubectl("run", name, "--image=nginx")
    wait_until(lambda: pod_json(kubectl, name)["status"].get("phase") == "Running", 60, 0.5, f"{name} Running")
    return name


@contextmanager
def _port_forward(kubectl, tmp_path, *args: str):
    """kubectl port-forward ARGS running, once it printed "Forwarding from"; stopped after."""
    out, err = tmp_path / "pf.out", tmp_path / "pf.err"
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.Popen([kubectl.binary, "port-forward", *args], env=kubectl.env, stdout=o, stderr=e)
    try:
        wait_until(lambda: "Forwarding from" in out.read_text() or proc.poll() is not None, 30, 0.1,
                   "kubectl port-forward listening")
        assert proc.poll() is None, f"port-forward exited {proc.returncode}: {err.read_text()}"
        proc.out, proc.err = out, err
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _get(port: int, path: str = "/") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_port_forward_reaches_nginx_which_answers_and_logs(kubectl_ws, tmp_path):
    name = _nginx(kubectl_ws, f"pf-{kubectl_ws.suffix}")
    port = free_port()
    with _port_forward(kubectl_ws, tmp_path, f"pod/{name}", f"{port}:80") as proc:
        assert f"Forwarding from 127.0.0.1:{port} -> 80" in proc.out.read_text()
        for _ in range(3):
            status, body = _get(port)
            assert status == 200 and "<h1>Welcome to nginx!</h1>" in body
        assert _get(port, "/missing")[0] == 404
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            both = list(pool.map(lambda path: _get(port, path), ["/", "/index.html"]))
        assert [s for s, _ in both] == [200, 200] and all("Welcome to nginx!" in b for _, b in both)
        # Two requests on one kept-alive connection (HTTP/1.1, as curl with two URLs does).
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        for path in ("/", "/missing"):
            conn.request("GET", path)
            resp = conn.getresponse()
            assert (resp.status, resp.getheader("Server")) == ({"/": 200, "/missing": 404}[path], "nginx/1.27.3")
            resp.read()
        conn.close()
        wait_until(lambda: proc.out.read_text().count(f"Handling connection for {port}") == 7, 10, 0.1,
                   "seven connections handled")
    lines = [ln for ln in kubectl_ws("logs", name).stdout.splitlines() if ln.startswith("127.0.0.1 - - [")]
    assert len(lines) == 8
    agent = f"Python-urllib/{sys.version_info.major}.{sys.version_info.minor}"
    assert lines[0].endswith(f'"GET / HTTP/1.1" 200 615 "-" "{agent}" "-"')
    assert any('"GET /missing HTTP/1.1" 404 ' in ln for ln in lines)
    assert any('"GET /index.html HTTP/1.1" 200 ' in ln for ln in lines)


def test_a_port_nothing_listens_on_shows_the_kubelet_s_error(kubectl_ws, tmp_path):
    name = _nginx(kubectl_ws, f"pf-closed-{kubectl_ws.suffix}")
    port = free_port()
    with _port_forward(kubectl_ws, tmp_path, name, f"{port}:8080") as proc:
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            _get(port)
        # kubectl prints the error stream and, since client-go 1.31, gives up the connection.
        wait_until(lambda: proc.poll() is not None, 30, 0.1, "port-forward exits")
        err = proc.err.read_text()
    assert "error forwarding port 8080 to pod " in err and ", uid : failed to execute portforward in network " \
        "namespace" in err and "dial tcp4 127.0.0.1:8080: connect: connection refused" in err
    assert "error: lost connection to pod" in err


def test_a_replicaset_forwards_to_one_of_its_pods_on_a_port_kubectl_picks(kube_env, tmp_path):
    """kubectl picks a running pod of the ReplicaSet (by its selector) and, with ":80", a free
    local port, which it prints."""
    kubectl = kubectl_runner(WEBSOCKET[-1] if WEBSOCKET else None, kube_env)
    name = f"pf-rs-{kubectl.suffix}"
    manifest = tmp_path / "rs.yaml"
    manifest.write_text(
        f"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: {name}}}\n"
        f"spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: {name}}}}}\n"
        f"  template:\n    metadata: {{labels: {{app: {name}}}}}\n"
        "    spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]}\n")
    kubectl("apply", "-f", str(manifest))
    wait_until(lambda: kubectl("get", "rs", name, "-o", "jsonpath={.status.readyReplicas}").stdout == "2", 60, 0.5,
               f"{name} ready")
    with _port_forward(kubectl, tmp_path, f"rs/{name}", ":http") as proc:
        port = int(re.search(r"Forwarding from 127\.0\.0\.1:(\d+) -> 80", proc.out.read_text()).group(1))
        assert _get(port)[0] == 200


def test_a_node_that_is_down_fails_the_connection(pilothouse_server, module_cluster, tmp_path):
    """The bytes go through the pod's node: with the node powered off, kube-apiserver cannot
    dial its kubelet (a cluster of its own, so that no other test loses a node)."""
    cluster = module_cluster("portforward-node-down", speed=20)
    home = tmp_path / "home"
    home.mkdir()
    kubectl = kubectl_runner(WEBSOCKET[-1] if WEBSOCKET else None, kube_env_for(pilothouse_server, cluster, home))
    name = _nginx(kubectl, "web")
    node = pod_json(kubectl, name)["spec"]["nodeName"]
    port = free_port()
    with _port_forward(kubectl, tmp_path, name, f"{port}:80") as proc:
        assert _get(port)[0] == 200
        status, body = pilothouse_server.request("POST", f"/clusters/{cluster}/sim/v1/nodes/{node}/kill")
        assert status == 200, body
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            _get(port)
        wait_until(lambda: proc.poll() is not None, 30, 0.1, "port-forward exits")
        err = proc.err.read_text()
    assert f"error dialing backend: dial tcp {node}:10250: i/o timeout" in err
    assert "error: lost connection to pod" in err


def test_an_spdy_only_kubectl_is_told_which_kubectl_to_use(kubectl_spdy):
    name = _nginx(kubectl_spdy, f"pf-old-{kubectl_spdy.suffix}")
    start = time.monotonic()
    refused = kubectl_spdy("port-forward", name, f"{free_port()}:80", check=False, timeout=30)
    assert refused.returncode != 0 and time.monotonic() - start < 30
    assert "error upgrading connection: pods/portforward is served over WebSocket (SPDY/3.1+portforward.k8s.io) " \
           "only, not SPDY: use kubectl 1.31 or newer" in refused.stderr


def test_port_forward_to_a_service_goes_to_one_of_its_pods_target_port(kubectl_ws, tmp_path):
    """`port-forward svc/web`: kubectl lists the Service's pods by its selector, picks a running
    one (polymorphichelpers.AttachablePodForObjectFn) and forwards to the container port the
    Service's port targets (translateServicePortToTargetPort: a named targetPort is looked up
    in the pod's ports) - the API server forwards to a pod, never to a Service."""
    kubectl = kubectl_ws
    web = f"web-{kubectl.suffix}"
    kubectl("create", "deployment", web, "--image=nginx", "--replicas=2", "--port=80")
    kubectl("expose", "deployment", web, "--port=8080", "--target-port=80")
    wait_until(lambda: kubectl("get", "deploy", web, "-o", "jsonpath={.status.readyReplicas}").stdout == "2", 60, 0.5,
               f"{web} ready")
    port = free_port()
    with _port_forward(kubectl, tmp_path, f"svc/{web}", f"{port}:8080") as proc:
        # The Service's port 8080 is the pods' port 80.
        assert f"Forwarding from 127.0.0.1:{port} -> 80" in proc.out.read_text()
        status, body = _get(port)
        assert status == 200 and "<h1>Welcome to nginx!</h1>" in body
    # One of the Service's pods answered, and logged it.
    pods = [p for p in kubectl("get", "pods", "-l", f"app={web}", "-o", "name").stdout.split()]
    logged = [p for p in pods if any(ln.startswith("127.0.0.1 - - [") for ln in kubectl("logs", p).stdout.splitlines())]
    assert len(pods) == 2 and len(logged) == 1
    kubectl("delete", "svc,deployment", web, "--wait=false")
