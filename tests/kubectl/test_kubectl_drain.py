"""`kubectl drain` with the machine's real kubectl (the dispatcher and every kubectl 1.27-1.33,
1.36 and 1.37): it cordons the node, evicts its pods through the policy/v1 eviction subresource,
waits for them to be gone and prints what it prints against a real cluster; the ReplicaSet
replaces them on other nodes.  And the bodies kubectl 1.33, 1.36 and 1.37 send: JSON
DeleteOptions from `delete pod`, a JSON Eviction from `drain`, protobuf DeleteOptions from
`drain --disable-eviction`."""
from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.conftest import kubectl_minor, wait_until
from tests.kubectl.conftest import BINARIES, binary_id, kubectl_runner

# kubectl 1.33 and the newer ones (1.36, 1.37): what they send is checked request by request.
NEWEST = [b for b in BINARIES if kubectl_minor(b) and int(kubectl_minor(b).split(".")[1]) >= 33]


def _pods(kubectl, selector: str) -> list[dict]:
    return json.loads(kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"]


def _running_on(pods: list[dict]) -> dict[str, str]:
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in pods
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")}


def test_drain_evicts_replicaset_pods(kubectl, tmp_path):
    app = f"drain-{kubectl.suffix}"
    manifest = tmp_path / "rs.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: ReplicaSet\n"
        f"metadata: {{name: {app}}}\n"
        f"spec:\n  replicas: 3\n  selector: {{matchLabels: {{app: {app}}}}}\n"
        f"  template:\n    metadata: {{labels: {{app: {app}}}}}\n"
        "    spec: {containers: [{name: c, image: nginx}]}\n")
    kubectl("apply", "-f", str(manifest))
    placed = wait_until(lambda: (lambda r: r if len(r) == 3 else None)(_running_on(_pods(kubectl, f"app={app}"))),
                        timeout=60, message="3 pods running")
    node = sorted(placed.values())[0]
    victims = sorted(name for name, n in placed.items() if n == node)
    try:
        out = kubectl("drain", node, "--ignore-daemonsets", "--timeout=60s", timeout=90)
        text = out.stdout + out.stderr
        assert f"node/{node} cordoned" in text
        for pod in victims:
            assert f"evicting pod default/{pod}" in text
            assert f"pod/{pod} evicted" in text
        assert f"node/{node} drained" in text
        assert "deleted" not in text.replace("drained", "")

        spec = json.loads(kubectl("get", "node", node, "-o", "json").stdout)["spec"]
        assert spec.get("unschedulable") is True

        def replaced():
            running = _running_on(_pods(kubectl, f"app={app}"))
            return running if len(running) == 3 and node not in running.values() \
                and not set(victims) & set(running) else None
        after = wait_until(replaced, timeout=60, message="the ReplicaSet's pods replaced off the drained node")
        assert node not in after.values()
    finally:
        kubectl("uncordon", node, check=False)
        kubectl("delete", "replicaset", app, "--wait=false", check=False)


def test_drain_refuses_an_unmanaged_pod_without_force(kubectl):
    pod = f"bare-{kubectl.suffix}"
    kubectl("run", pod, "--image=nginx")
    node = wait_until(lambda: (lambda p: p["spec"].get("nodeName") if p["status"].get("phase") == "Running" else None)(
        json.loads(kubectl("get", "pod", pod, "-o", "json").stdout)), timeout=60, message="pod running")
    try:
        refused = kubectl("drain", node, "--timeout=30s", check=False, timeout=60)
        assert refused.returncode != 0
        # kubectl's own words: "Pods declare no controller" up to 1.27, "cannot delete cannot
        # delete Pods that declare no controller" later
        assert re.search(rf"Pods (that )?declare no controller \(use --force to override\): default/{pod}",
                         refused.stderr), refused.stderr
        out = kubectl("drain", node, "--force", "--ignore-daemonsets", "--timeout=60s", timeout=90)
        text = out.stdout + out.stderr
        # One warning line; with --ignore-daemonsets it names the DaemonSets' pods first
        # ("Warning: ignoring DaemonSet-managed Pods: ...; deleting Pods that declare no controller: ...").
        assert re.search(rf"Warning: (.*; )?deleting Pods that declare no controller: default/{pod}", text), text
        assert f"evicting pod default/{pod}" in text and f"pod/{pod} evicted" in text
        assert f"node/{node} drained" in text
        assert kubectl("get", "pod", pod, check=False).returncode != 0
    finally:
        kubectl("uncordon", node, check=False)


@pytest.fixture(params=NEWEST or [None], ids=binary_id)
def kubectl_newest(request, kube_env):
    return kubectl_runner(request.param, kube_env)


def _request_content_types(log: str, verb: str, path_end: str) -> list[str]:
    """The Content-Type of each `verb` request to a URL ending in `path_end`, from -v=8's log."""
    found = []
    for block in log.split('"Request" verb=')[1:]:
        head, _, rest = block.partition("headers=<")
        if head.startswith(f'"{verb}"') and head.split('url="')[1].split('"')[0].endswith(path_end):
            found += re.findall(r"^\s*Content-Type: (\S+)", rest.split(">")[0], re.M)
    return found


def _bare_pod_running(kubectl, pod: str) -> str:
    kubectl("run", pod, "--image=nginx")
    return wait_until(lambda: (lambda p: p["spec"].get("nodeName") if p["status"].get("phase") == "Running"
                               else None)(json.loads(kubectl("get", "pod", pod, "-o", "json").stdout)),
                      timeout=60, message=f"pod {pod} running")


def test_newest_kubectl_bodies(kubectl_newest, tmp_path):
    """kubectl 1.33, 1.36 and 1.37: `delete pod` sends JSON DeleteOptions; drain's eviction sends a protobuf
    Eviction and `drain --disable-eviction` protobuf DeleteOptions (the request that failed with
    "no protobuf decoding for DeleteOptions in v1")."""
    kubectl = kubectl_newest
    pod = f"gone-{uuid.uuid4().hex[:6]}"
    kubectl("run", pod, "--image=nginx")
    out = kubectl("delete", "pod", pod, "--grace-period=1", "-v=8", timeout=90)
    (tmp_path / "delete.log").write_text(out.stderr)
    assert f'pod "{pod}" deleted' in out.stdout
    assert _request_content_types(out.stderr, "DELETE", f"/pods/{pod}") == ["application/json"]
    assert kubectl("get", "pod", pod, check=False).returncode != 0

    pod = f"evicted-{uuid.uuid4().hex[:6]}"
    node = _bare_pod_running(kubectl, pod)
    try:
        out = kubectl("drain", node, "--force", "--ignore-daemonsets", "--timeout=60s", "-v=8", timeout=90)
        (tmp_path / "evict.log").write_text(out.stderr)
        assert _request_content_types(out.stderr, "POST", f"/pods/{pod}/eviction") == ["application/json"]
        assert f"pod/{pod} evicted" in out.stdout
    finally:
        kubectl("uncordon", node, check=False)

    pod = f"deleted-{uuid.uuid4().hex[:6]}"
    node = _bare_pod_running(kubectl, pod)
    try:
        out = kubectl("drain", node, "--force", "--ignore-daemonsets", "--disable-eviction", "--timeout=60s", "-v=8", timeout=90)
        (tmp_path / "disable.log").write_text(out.stderr + "\n---\n" + out.stdout)
        assert _request_content_types(out.stderr, "DELETE", f"/pods/{pod}") == ["application/vnd.kubernetes.protobuf"]
        assert f"pod/{pod} deleted" in out.stdout and f"node/{node} drained" in out.stdout
        assert kubectl("get", "pod", pod, check=False).returncode != 0
    finally:
        kubectl("uncordon", node, check=False)
