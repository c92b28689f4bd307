"""Containers that run programs, with the machine's real kubectl (every one, 1.27-1.33, 1.36,
1.37): `kubectl run --restart=Never -- echo hi` completes and `kubectl logs` prints `hi`; a
crashing container shows its restarts, CrashLoopBackOff and `logs --previous`; an image the
registry does not have shows ErrImagePull / ImagePullBackOff; `logs` options."""
from __future__ import annotations

import json

from tests.conftest import wait_until
from tests.kubectl.conftest import rows


def _pod(kubectl, name: str) -> dict:
    return json.loads(kubectl("get", "pod", name, "-o", "json").stdout)


def _status_column(kubectl, name: str) -> str:
    out = kubectl("get", "pod", name, check=False).stdout
    table = rows(out)
    return table[1][2] if len(table) > 1 else ""


def test_run_echo_completes_and_logs_print_its_output(kubectl):
    name = f"once-{kubectl.suffix}"
    kubectl("run", name, "--restart=Never", "--image=busybox", "--", "echo", "hi")
    wait_until(lambda: _status_column(kubectl, name) == "Completed", 30, 0.5, f"{name} Completed")
    assert _pod(kubectl, name)["status"]["phase"] == "Succeeded"
    assert kubectl("logs", name).stdout == "hi\n"
    stamped = kubectl("logs", name, "--timestamps").stdout
    assert stamped.endswith(" hi\n") and stamped.startswith("20")


def test_a_crashing_container_crash_loops_and_logs_previous(kubectl):
    name = f"crash-{kubectl.suffix}"
    kubectl("run", name, "--image=busybox", "--command", "--", "sh", "-c", "echo boom; exit 3")
    wait_until(lambda: _status_column(kubectl, name) in ("CrashLoopBackOff", "Error")
               and _pod(kubectl, name)["status"]["containerStatuses"][0]["restartCount"] >= 1,
               60, 0.5, f"{name} restarting")
    cs = _pod(kubectl, name)["status"]["containerStatuses"][0]
    assert cs["lastState"]["terminated"]["exitCode"] == 3
    assert kubectl("logs", name, "--previous").stdout == "boom\n"
    described = kubectl("describe", "pod", name).stdout
    assert "Last State:     Terminated" in described and "Exit Code:    3" in described
    assert "Back-off restarting failed container" in described or "BackOff" in described


def test_an_unknown_image_is_err_image_pull_then_image_pull_back_off(kubectl):
    name = f"bad-{kubectl.suffix}"
    kubectl("run", name, "--image=nginxx:nope")
    wait_until(lambda: _status_column(kubectl, name) in ("ErrImagePull", "ImagePullBackOff"), 60, 0.5,
               f"{name} failing to pull")
    wait_until(lambda: _status_column(kubectl, name) == "ImagePullBackOff", 60, 0.5, f"{name} ImagePullBackOff")
    described = kubectl("describe", "pod", name).stdout
    assert 'Failed to pull image "nginxx:nope"' in described
    assert "pull access denied, repository does not exist or may require authorization" in described
    logs = kubectl("logs", name, check=False)
    assert logs.returncode != 0
    assert f'container "{name}" in pod "{name}" is waiting to start: trying and failing to pull image' in logs.stderr


def test_logs_of_a_pod_with_two_containers_needs_a_container_name(kubectl, tmp_path):
    name = f"two-{kubectl.suffix}"
    manifest = tmp_path / "two.yaml"
    manifest.write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\n"
        "spec:\n  containers:\n  - {name: web, image: nginx}\n"
        "  - {name: counter, image: busybox, command: [sh, -c, 'i=0; while true; do echo $i; i=$((i+1)); sleep 1; done']}\n")
    kubectl("apply", "-f", str(manifest))
    wait_until(lambda: _pod(kubectl, name)["status"].get("phase") == "Running", 60, 0.5, f"{name} Running")
    # kubectl picks the first container (or the default-container annotation) and says so.
    out = kubectl("logs", name, "-c", "web").stdout
    assert "Configuration complete; ready for start up" in out
    wait_until(lambda: len(kubectl("logs", name, "-c", "counter").stdout.splitlines()) >= 3, 30, 0.5, "3 lines")
    tail = kubectl("logs", name, "-c", "counter", "--tail=1").stdout.splitlines()
    assert len(tail) == 1 and tail[0].isdigit()
    missing = kubectl("logs", name, "-c", "nope", check=False)
    assert missing.returncode != 0 and f"container nope is not valid for pod {name}" in missing.stderr


def test_logs_follow_streams_lines_as_they_are_written_and_ends_with_the_container(kubectl):
    import subprocess
    import time
    name = f"follow-{kubectl.suffix}"
    # At the cluster's 50x, "sleep 25" is half a second of wall time between lines.
    kubectl("run", name, "--restart=Never", "--image=busybox", "--", "sh", "-c",
            "for i in 1 2 3; do echo line $i; sleep 25; done; echo done")
    wait_until(lambda: _pod(kubectl, name)["status"].get("phase") in ("Running", "Succeeded"), 60, 0.5, "running")
    proc = subprocess.Popen([kubectl.binary, "logs", "-f", name], env=kubectl.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        arrived = [time.monotonic()]
        lines = [first]
        while len(lines) < 4:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            arrived.append(time.monotonic())
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [line.strip() for line in lines] == ["line 1", "line 2", "line 3", "done"], lines
    # The lines came as they were written (half a second or so apart), not all at once at the end.
    assert arrived[-1] - arrived[0] > 0.8
    assert proc.returncode == 0, proc.stderr.read()


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
