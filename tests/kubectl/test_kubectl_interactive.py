"""Interactive containers with the real kubectl (1.33 and 1.37, over WebSocket): `exec -it` gives
a shell with busybox's prompt in a terminal (a pty here), `exec -i` reads piped stdin, `attach`
reaches the main process's stdin, and `run -it --rm` / `run -i --rm` create, attach to and
delete a pod.  Every wait on output is bounded."""
from __future__ import annotations

import os
import select
import subprocess
import time

import pytest

from tests.conftest import kubectl_minor, wait_until
from tests.kubectl.conftest import BINARIES, binary_id, kubectl_runner, pod_json as _pod

WEBSOCKET = [b for b in BINARIES if kubectl_minor(b) in ("1.33", "1.37")] or BINARIES


@pytest.fixture(params=WEBSOCKET or [None], ids=binary_id)
def kubectl_ws(request, kube_env):
    return kubectl_runner(request.param, kube_env)


class Terminal:
    """kubectl run with a pty as its stdin/stdout/stderr, as in a terminal emulator."""

    def __init__(self, kubectl, *args: str):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen([kubectl.binary, *args], env=kubectl.env, stdin=slave, stdout=slave,
                                     stderr=slave, close_fds=True, start_new_session=True)
        os.close(slave)
        self.output = b""

    def expect(self, text: str, timeout: float = 20) -> str:
        """Read until `text` was printed (bounded); everything read so far."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"timed out waiting for {text!r}; the terminal shows {self.output!r}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    pytest.fail(f"kubectl ended before printing {text!r}: {self.output!r}")
                self.output += chunk
        return self.output.decode(errors="replace")

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait(self, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, f"kubectl did not exit: {self.output!r}"
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.output += os.read(self.master, 4096)
                except OSError:
                    pass
        os.close(self.master)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def terminal():
    started: list[Terminal] = []

    def start(kubectl, *args: str) -> Terminal:
        started.append(Terminal(kubectl, *args))
        return started[-1]

    yield start
    for t in started:
        t.kill()


def _running(kubectl, name: str) -> None:
    wait_until(lambda: _pod(kubectl, name)["status"].get("phase") == "Running", 60, 0.3, f"{name} Running")


def test_exec_it_gives_an_interactive_shell_and_exits_with_its_code(kubectl_ws, terminal):
    name = f"sh-{kubectl_ws.suffix}"
    kubectl_ws("run", name, "--image=busybox", "--", "sleep", "3600")
    _running(kubectl_ws, name)
    t = terminal(kubectl_ws, "exec", "-it", name, "--", "sh")
    t.expect("/ # ")
    # The server answers everything else while the session waits for input.
    assert kubectl_ws("get", "pod", name, "-o", "name").stdout == f"pod/{name}\n"
    t.send("echo hello > /tmp/x; cat /tmp/x\r")
    shown = t.expect("hello\r\n/ # ")
    assert "echo hello > /tmp/x; cat /tmp/x\r\n" in shown  # the terminal echoed what was typed
    t.send("cd /tmp\rexit 7\r")
    t.expect("/tmp # ")
    assert t.wait() == 7
    # What the session wrote stays in the container.
    assert kubectl_ws("exec", name, "--", "cat", "/tmp/x").stdout == "hello\n"


def test_exec_i_reads_piped_stdin(kubectl_ws):
    name = f"pipe-{kubectl_ws.suffix}"
    kubectl_ws("run", name, "--image=busybox", "--", "sleep", "3600")
    _running(kubectl_ws, name)
    proc = subprocess.run([kubectl_ws.binary, "exec", "-i", name, "--", "sh"], input="echo hi\nexit 3\n",
                          env=kubectl_ws.env, capture_output=True, text=True, timeout=30)
    assert proc.stdout == "hi\n" and proc.returncode == 3
    assert "command terminated with exit code 3" in proc.stderr
    counted = subprocess.run([kubectl_ws.binary, "exec", "-i", name, "--", "wc", "-l"], input="a\nb\nc\n",
                             env=kubectl_ws.env, capture_output=True, text=True, timeout=30)
    assert counted.returncode == 0 and counted.stdout.strip() == "3"


def test_attach_it_reaches_the_main_shell(kubectl_ws, terminal, tmp_path):
    name = f"att-{kubectl_ws.suffix}"
    manifest = tmp_path / "attach.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n"
                        "  - {name: shell, image: busybox, command: [sh], stdin: true, tty: true}\n")
    kubectl_ws("apply", "-f", str(manifest))
    _running(kubectl_ws, name)
    t = terminal(kubectl_ws, "attach", "-it", name)
    t.expect("If you don't see a command prompt, try pressing enter.")
    t.send("\r")
    t.expect("/ # ")
    t.send("echo attached-$((6*7))\r")
    t.expect("attached-42\r\n")
    t.send("exit 4\r")
    assert t.wait() == 0
    wait_until(lambda: (_pod(kubectl_ws, name)["status"]["containerStatuses"][0].get("lastState") or {})
               .get("terminated", {}).get("exitCode") == 4, 30, 0.3, "the shell's exit as the container's")


def test_run_it_rm_runs_a_shell_in_a_new_pod_and_deletes_it(kubectl_ws, terminal):
    name = f"demo-{kubectl_ws.suffix}"
    t = terminal(kubectl_ws, "run", "-it", "--rm", name, "--image=busybox", "--restart=Never", "--", "sh")
    # The shell prompted before kubectl attached, as on a real cluster: pressing Enter prompts again.
    t.expect("If you don't see a command prompt, try pressing enter.", timeout=40)
    t.send("\r")
    t.expect("/ # ")
    t.send("hostname\r")
    t.expect(f"{name}\r\n")
    t.send("exit 3\r")
    assert t.wait(40) == 3          # the container's exit code, read from the pod (restartPolicy Never)
    assert f'pod "{name}" deleted' in t.output.decode()
    assert f"pod default/{name} terminated (Error)" in t.output.decode()
    assert kubectl_ws("get", "pod", name, check=False).returncode != 0


def test_run_i_rm_prints_the_output_and_deletes_the_pod(kubectl_ws):
    name = f"once-{kubectl_ws.suffix}"
    proc = kubectl_ws("run", "-i", "--rm", "--restart=Never", name, "--image=busybox", "--", "echo", "hi",
                      timeout=60)
    assert "hi\n" in proc.stdout
    assert f'pod "{name}" deleted' in proc.stdout + proc.stderr
    assert kubectl_ws("get", "pod", name, check=False).returncode != 0


def test_debug_it_adds_an_ephemeral_container_and_attaches_to_it(kubectl_ws, terminal):
    name = f"dbg-{kubectl_ws.suffix}"
    kubectl_ws("run", name, "--image=nginx")
    _running(kubectl_ws, name)
    t = terminal(kubectl_ws, "debug", "-it", name, "--image=busybox", f"--target={name}")
    t.expect("If you don't see a command prompt, try pressing enter.", timeout=40)
    t.send("\r")
    t.expect("/ # ")
    t.send("echo from-$((40+2))\r")
    t.expect("from-42\r\n")
    t.send("exit\r")
    assert t.wait(30) == 0
    pod = _pod(kubectl_ws, name)
    [debugger] = pod["spec"]["ephemeralContainers"]
    assert debugger["targetContainerName"] == name and debugger["name"].startswith("debugger-")
    [status] = pod["status"]["ephemeralContainerStatuses"]
    assert status["name"] == debugger["name"]
    assert pod["status"]["phase"] == "Running"


def test_a_busy_session_leaves_the_server_answering(kubectl_ws):
    name = f"busy-{kubectl_ws.suffix}"
    kubectl_ws("run", name, "--image=busybox", "--", "sleep", "3600")
    _running(kubectl_ws, name)
    busy = subprocess.Popen([kubectl_ws.binary, "exec", "-i", name, "--", "sh", "-c", "while :; do :; done"],
                            env=kubectl_ws.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        started = time.monotonic()
        assert kubectl_ws("get", "pod", name, "-o", "name", timeout=20).stdout == f"pod/{name}\n"
        assert kubectl_ws("exec", name, "--", "echo", "still-here", timeout=20).stdout == "still-here\n"
        assert time.monotonic() - started < 20
        assert busy.poll() is None                 # the loop goes on meanwhile
    finally:
        busy.kill()
        busy.wait(5)


OLD = [b for b in BINARIES if kubectl_minor(b) == "1.27"]


@pytest.mark.parametrize("binary", OLD or [None], ids=binary_id)
def test_an_spdy_only_kubectl_is_told_which_kubectl_to_use(binary, kube_env):
    kubectl = kubectl_runner(binary, kube_env)
    name = f"old-{kubectl.suffix}"
    kubectl("run", name, "--image=busybox", "--", "sleep", "3600")
    _running(kubectl, name)
    for args in (["exec", "-i", name, "--", "sh"], ["attach", "-i", name]):
        refused = subprocess.run([binary, *args], input="echo hi\n", env=kubectl.env, capture_output=True, text=True,
                                 timeout=30)
        assert refused.returncode != 0 and "use kubectl 1.30 or newer" in refused.stderr, refused.stderr


def test_ctrl_c_interrupts_a_command_and_ctrl_d_ends_the_shell_with_its_last_status(kubectl_ws, terminal):
    name = f"keys-{kubectl_ws.suffix}"
    kubectl_ws("run", name, "--image=busybox", "--", "sleep", "3600")
    _running(kubectl_ws, name)
    t = terminal(kubectl_ws, "exec", "-it", name, "--", "sh")
    t.expect("/ # ")
    t.send("sleep 1000; echo never\r")
    t.expect("sleep 1000; echo never\r\n")
    t.send("\x03")
    t.expect("^C\r\n/ # ")
    t.send("false\r")
    t.expect("false\r\n/ # ")
    t.send("\x04")
    assert t.wait() == 1
    assert t.output.decode().count("never") == 1        # only where it was typed: `echo` never ran
    assert "command terminated with exit code 1" in t.output.decode()
