"""Containers that run programs, with the machine's real kubectl: a crashing container
shows its restarts, CrashLoopBackOff and `logs --previous`; an image the registry does not have
shows ErrImagePull / ImagePullBackOff (the oldest and newest kubectl); `kubectl exec` runs a
command in the container over WebSocket (1.30 and later) and an SPDY-only kubectl (1.27-1.29)
is told which kubectl to use (every kubectl)."""
from __future__ import annotations

from tests.conftest import wait_until
from tests.kubectl.conftest import pod_json as _pod, status_column as _status_column


def test_a_crashing_container_crash_loops_and_logs_previous(kubectl_some):
    name = f"crash-{kubectl_some.suffix}"
    kubectl_some("run", name, "--image=busybox", "--command", "--", "sh", "-c", "echo boom; exit 3")
    wait_until(lambda: _status_column(kubectl_some, name) in ("CrashLoopBackOff", "Error")
               and _pod(kubectl_some, name)["status"]["containerStatuses"][0]["restartCount"] >= 1,
               60, 0.5, f"{name} restarting")
    cs = _pod(kubectl_some, name)["status"]["containerStatuses"][0]
    assert cs["lastState"]["terminated"]["exitCode"] == 3
    assert kubectl_some("logs", name, "--previous").stdout == "boom\n"
    described = kubectl_some("describe", "pod", name).stdout
    assert "Last State:     Terminated" in described and "Exit Code:    3" in described
    assert "Back-off restarting failed container" in described or "BackOff" in described


def test_an_unknown_image_is_err_image_pull_then_image_pull_back_off(kubectl_some):
    name = f"bad-{kubectl_some.suffix}"
    kubectl_some("run", name, "--image=nginxx:nope")
    wait_until(lambda: _status_column(kubectl_some, name) in ("ErrImagePull", "ImagePullBackOff"), 60, 0.5,
               f"{name} failing to pull")
    wait_until(lambda: _status_column(kubectl_some, name) == "ImagePullBackOff", 60, 0.5, f"{name} ImagePullBackOff")
    described = kubectl_some("describe", "pod", name).stdout
    assert 'Failed to pull image "nginxx:nope"' in described
    assert "pull access denied, repository does not exist or may require authorization" in described
    logs = kubectl_some("logs", name, check=False)
    assert logs.returncode != 0
    # (the kubelet's wording for each reason; the back-off may have ended and the pull restarted)
    assert any(f'container "{name}" in pod "{name}" is waiting to start: {why}' in logs.stderr
               for why in ("trying and failing to pull image", "image can't be pulled")), logs.stderr


def _speaks_websocket(kubectl) -> bool:
    """kubectl 1.30 and later exec over WebSocket; the dispatcher runs 1.32 or 1.33."""
    return kubectl.minor is None or int(kubectl.minor.split(".")[1]) >= 30


def test_exec_runs_a_command_in_the_container(kubectl, tmp_path):
    name = f"exec-{kubectl.suffix}"
    manifest = tmp_path / "exec.yaml"
    manifest.write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{key: hello-from-the-configmap}}\n---\n"
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\n"
        "spec:\n  containers:\n  - name: web\n    image: nginx\n"
        "    env: [{name: GREETING, value: hi}]\n"
        "    volumeMounts: [{name: config, mountPath: /etc/config}]\n"
        f"  volumes: [{{name: config, configMap: {{name: {name}}}}}]\n")
    kubectl("apply", "-f", str(manifest))
    wait_until(lambda: _pod(kubectl, name)["status"].get("phase") == "Running", 60, 0.5, f"{name} Running")
    if not _speaks_websocket(kubectl):
        refused = kubectl("exec", name, "--", "cat", "/etc/config/key", check=False)
        assert refused.returncode != 0 and "use kubectl 1.30 or newer" in refused.stderr
        return
    assert kubectl("exec", name, "--", "cat", "/etc/config/key").stdout == "hello-from-the-configmap"
    assert "GREETING=hi" in kubectl("exec", name, "-c", "web", "--", "env").stdout.splitlines()
    failed = kubectl("exec", name, "--", "sh", "-c", "echo oops >&2; exit 3", check=False)
    assert failed.returncode == 3 and "oops" in failed.stderr
    assert "command terminated with exit code 3" in failed.stderr
    missing = kubectl("exec", name, "--", "nope", check=False)
    assert missing.returncode != 0
