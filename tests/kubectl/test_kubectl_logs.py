"""`kubectl logs` with the machine's real kubectl: `run --restart=Never -- echo hi` completes
and `logs` prints `hi` (every kubectl, 1.27-1.33, 1.36, 1.37); `-c`, `--tail`, the
two-container error and `-f` streaming lines as they are written (the oldest and newest)."""
from __future__ import annotations

from tests.conftest import wait_until
from tests.kubectl.conftest import pod_json as _pod, status_column as _status_column


def test_run_echo_completes_and_logs_print_its_output(kubectl):
    name = f"once-{kubectl.suffix}"
    kubectl("run", name, "--restart=Never", "--image=busybox", "--", "echo", "hi")
    wait_until(lambda: _status_column(kubectl, name) == "Completed", 30, 0.5, f"{name} Completed")
    assert _pod(kubectl, name)["status"]["phase"] == "Succeeded"
    assert kubectl("logs", name).stdout == "hi\n"
    stamped = kubectl("logs", name, "--timestamps").stdout
    assert stamped.endswith(" hi\n") and stamped.startswith("20")


def test_logs_of_a_pod_with_two_containers_needs_a_container_name(kubectl_some, tmp_path):
    name = f"two-{kubectl_some.suffix}"
    manifest = tmp_path / "two.yaml"
    manifest.write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\n"
        "spec:\n  containers:\n  - {name: web, image: nginx}\n"
        "  - {name: counter, image: busybox, command: [sh, -c, 'i=0; while true; do echo $i; i=$((i+1)); sleep 1; done']}\n")
    kubectl_some("apply", "-f", str(manifest))
    wait_until(lambda: _pod(kubectl_some, name)["status"].get("phase") == "Running", 60, 0.5, f"{name} Running")
    # kubectl picks the first container (or the default-container annotation) and says so.
    out = kubectl_some("logs", name, "-c", "web").stdout
    assert "Configuration complete; ready for start up" in out
    wait_until(lambda: len(kubectl_some("logs", name, "-c", "counter").stdout.splitlines()) >= 3, 30, 0.5, "3 lines")
    tail = kubectl_some("logs", name, "-c", "counter", "--tail=1").stdout.splitlines()
    assert len(tail) == 1 and tail[0].isdigit()
    missing = kubectl_some("logs", name, "-c", "nope", check=False)
    assert missing.returncode != 0 and f"container nope is not valid for pod {name}" in missing.stderr


def test_logs_follow_streams_lines_as_they_are_written_and_ends_with_the_container(kubectl_some):
    import subprocess
    import time
    name = f"follow-{kubectl_some.suffix}"
    # At the cluster's 50x, "sleep 25" is half a second of wall time between lines.
    kubectl_some("run", name, "--restart=Never", "--image=busybox", "--", "sh", "-c",
            "for i in 1 2 3; do echo line $i; sleep 25; done; echo done")
    wait_until(lambda: _pod(kubectl_some, name)["status"].get("phase") in ("Running", "Succeeded"), 60, 0.5, "running")
    proc = subprocess.Popen([kubectl_some.binary, "logs", "-f", name], env=kubectl_some.env, stdout=subprocess.PIPE,
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
