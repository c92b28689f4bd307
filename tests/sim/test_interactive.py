"""Interactive containers in the engine: the shell reading commands from stdin (with a terminal:
a prompt, errors that do not end it), the pty's line discipline (sim/runtime/stdio.py), and
exec -i/-t and attach sessions on the runtime's streaming server (sim/kubelet/streaming.py)
driven as the HTTP front end drives them (Cluster.stream)."""
from __future__ import annotations

import copy

from sim.kubelet import streaming
from sim.runtime.process import FileSystem, ProcessContext, Read, run_capture, step
from sim.runtime.shell import shell_program
from sim.runtime.stdio import WOULD_BLOCK, Stdio
from tests.sim.conftest import ok
from tests.sim.test_containers import advance_until, container_of, run_pod, status_of


def interactive(stdin: str, argv=("sh",), tty=True, hostname="pod-1"):
    """A shell reading `stdin` (then end of file): (exit code, everything it wrote)."""
    context = ProcessContext(argv=list(argv), env={"HOME": "/root"}, hostname=hostname,
                             fs=FileSystem({"/etc/hosts": "x"}), stdin=True, tty=tty)
    code, out, _, _ = run_capture(shell_program(context), max_steps=10_000, merged=True, stdin=stdin)
    return code, out


# -- the shell reading stdin --------------------------------------------------------------------

def test_an_interactive_shell_prompts_runs_each_line_and_exits_with_exit_n():
    code, out = interactive("echo hi\ncd /etc\nexit 3\necho never\n")
    assert out == "/ # hi\n/ # /etc # "
    assert code == 3


def test_a_command_left_open_continues_on_the_next_line_with_ps2():
    code, out = interactive("if true; then\necho yes\nfi\necho 'two\nlines'\n")
    assert out == "/ # > > yes\n/ # > two\nlines\n/ # "
    assert code == 0


def test_errors_do_not_end_an_interactive_shell_and_end_of_file_exits_with_the_last_status():
    code, out = interactive("nope\necho )\nfalse\n")
    assert "sh: nope: not found\n" in out and 'sh: syntax error: unexpected ")"\n' in out
    assert out.endswith("/ # ")
    assert code == 1  # `false` was last


def test_without_a_terminal_there_is_no_prompt_and_a_syntax_error_ends_the_shell():
    assert interactive("echo hi\nexit 3\n", tty=False) == (3, "hi\n")
    code, out = interactive("echo a\necho )\necho b\n", tty=False)
    assert code == 2 and out == 'a\nsh: syntax error: unexpected ")"\n'


def test_bash_prompts_as_debian_images_do_and_says_exit():
    code, out = interactive("echo hi\n", argv=("bash",), hostname="web")
    assert out == "root@web:/# hi\nroot@web:/# exit\n" and code == 0


def test_read_takes_the_next_line_of_the_shells_stdin():
    code, out = interactive("read name\nworld\necho \"hello $name\"\n", tty=False)
    assert out == "hello world\n" and code == 0


def test_a_plain_sh_without_stdin_still_exits_at_once():
    context = ProcessContext(argv=["sh"], fs=FileSystem({}))
    gen = shell_program(context)
    try:
        call = next(gen)
    except StopIteration as stop:
        assert stop.value == 0
    else:
        raise AssertionError(f"sh without stdin did {call}")


# -- the terminal's line discipline -------------------------------------------------------------

def test_the_terminal_echoes_edits_and_ends_lines_on_enter():
    io = Stdio(stdin=True, tty=True)
    io.feed("ecko\x7f\x7fho hi\r")
    assert io.read_line() == "echo hi\n"
    assert io.read_line() is WOULD_BLOCK
    echoed = "".join(text for _, _, text in io.chunks)
    assert echoed == "ecko\b \b\b \bho hi\r\n"


def test_ctrl_c_drops_the_line_ctrl_u_erases_it_and_ctrl_d_on_an_empty_line_is_end_of_file():
    io = Stdio(stdin=True, tty=True)
    io.feed("sleep 9\x03")
    assert io.read_line() == "\n"           # the shell prompts again
    io.feed("abc\x15ls\x04")                # ^D mid-line hands over what was typed
    assert io.read_line() == "ls"
    io.feed("\x04")
    assert io.read_line() is None
    io.write("a\nb")
    assert list(io.chunks)[-1][2] == "a\r\nb"  # ONLCR


def test_without_a_terminal_stdin_is_lines_as_they_come_then_end_of_file_on_close():
    io = Stdio(stdin=True)
    io.feed("one\ntw")
    assert io.read_line() == "one\n" and io.read_line() is WOULD_BLOCK
    io.close_stdin()
    assert io.read_line() == "tw" and io.read_line() is None
    assert Stdio().read_line() is None      # no stdin: /dev/null


# -- exec -i / -t sessions -----------------------------------------------------------------------

def _sleeper(cluster, name="web"):
    run_pod(cluster, name, args=["sleep", "3600"])
    advance_until(cluster, lambda: status_of(cluster, name)["phase"] == "Running", 60)


def _open(cluster, name, subresource="exec", **query):
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "name": name,
                            "subresource": subresource, "query": query})
    assert resp["code"] == 200, resp
    return resp["stream"]


def _talk(cluster, session, text="", **kw):
    answer = cluster.stream(session["node"], session["token"], text, **kw)
    return answer, "".join(t for _, t in answer["output"]) if answer else ""


def test_exec_it_runs_a_shell_whose_sleeps_take_the_clusters_time(cluster):
    _sleeper(cluster)
    session = _open(cluster, "web", command=["sh"], stdin="true", tty="true")
    assert session["tty"] is True
    cluster.advance(0.1)
    assert _talk(cluster, session)[1] == "/ # "
    answer, out = _talk(cluster, session, "echo a; sleep 5; echo b\r")
    assert out == "echo a; sleep 5; echo b\r\na\r\n"   # the echo and what ran at once
    cluster.advance(4)
    assert _talk(cluster, session)[1] == ""
    cluster.advance(1.5)
    assert _talk(cluster, session)[1] == "b\r\n/ # "
    answer, out = _talk(cluster, session, "exit 3\r")
    assert answer["done"] and answer["exit_code"] == 3
    assert cluster.stream(session["node"], session["token"]) is None  # the session is over


def test_exec_i_reads_stdin_to_its_close_and_files_it_writes_stay_in_the_container(cluster):
    _sleeper(cluster)
    session = _open(cluster, "web", command=["sh"], stdin="true")
    first, _ = _talk(cluster, session, "echo kept > /tmp/f\necho out; echo err >&2\n")
    assert not first["done"]                              # stdin is still open: more may come
    answer, _ = _talk(cluster, session, close_stdin=True)
    assert answer["done"] and answer["exit_code"] == 0
    assert first["output"] + answer["output"] == [("stdout", "out\n"), ("stderr", "err\n")]
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "name": "web",
                            "subresource": "exec", "query": {"command": ["cat", "/tmp/f"]}})
    assert resp["exec"]["stdout"] == "kept\n"
    cat = _open(cluster, "web", command=["cat"], stdin="true")
    answer, out = _talk(cluster, cat, "a\nb\n", close_stdin=True)
    assert out == "a\nb\n" and answer["exit_code"] == 0


def test_a_busy_session_never_holds_the_engine(cluster):
    _sleeper(cluster)
    session = _open(cluster, "web", command=["sh", "-c", "while :; do :; done"], stdin="true")
    start = cluster.now
    cluster.advance(2)                                    # returns: the loop runs in slices
    assert cluster.now >= start + 2
    assert ok(cluster.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "web"}))
    answer, _ = _talk(cluster, session)
    assert not answer["done"]
    cluster.stream(session["node"], session["token"], close=True)   # the client went: hung up
    assert cluster.stream(session["node"], session["token"]) is None


def test_an_abandoned_session_is_closed_and_its_process_killed(cluster):
    _sleeper(cluster)
    session = _open(cluster, "web", command=["sh"], stdin="true", tty="true")
    server = cluster.node_components[session["node"]][0].streaming
    s = server.sessions[session["token"]]
    cluster.advance(streaming.ABANDONED_SECONDS * 2)
    assert session["token"] not in server.sessions
    assert s.gen is None and s.exit_code == streaming.SIGHUP_EXIT


def test_exec_with_a_missing_binary_and_exec_into_a_missing_container_are_errors(cluster):
    _sleeper(cluster)
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "name": "web",
                            "subresource": "exec", "query": {"command": ["nope"], "stdin": "true", "tty": "true"}})
    assert resp["code"] == 500 and 'exec: "nope": executable file not found in $PATH' in resp["body"]["message"]
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "name": "web",
                            "subresource": "attach", "query": {"container": "other", "stdin": "true"}})
    assert resp["code"] == 400 and resp["body"]["message"] == "container other is not valid for pod web"


# -- attach ---------------------------------------------------------------------------------------

def test_a_shell_container_with_stdin_waits_for_commands_and_attach_gives_them(cluster):
    run_pod(cluster, "box", command=["sh"], restart="Never", node="worker-1")  # no stdin: exits at once
    run_pod(cluster, "tty", restart="Never", node="worker-2",
            containers=[{"name": "tty", "image": "busybox", "command": ["sh"], "stdin": True, "stdinOnce": True,
                         "tty": True}])
    advance_until(cluster, lambda: status_of(cluster, "box")["phase"] == "Succeeded", 60)
    advance_until(cluster, lambda: status_of(cluster, "tty")["phase"] == "Running", 60)
    cluster.advance(30)
    assert status_of(cluster, "tty")["phase"] == "Running"   # blocked reading its terminal
    session = _open(cluster, "tty", "attach", stdin="true", tty="true")
    assert _talk(cluster, session)[1] == ""                   # the first prompt went before attach
    _, out = _talk(cluster, session, "\r")
    assert out == "\r\n/ # "
    _, out = _talk(cluster, session, "echo $((6*7))\r")
    assert out == "echo $((6*7))\r\n42\r\n/ # "
    answer, out = _talk(cluster, session, "exit 5\r")
    assert answer["done"] and out == "exit 5\r\n"          # the container ended: so does the attach
    advance_until(cluster, lambda: status_of(cluster, "tty")["phase"] == "Failed", 30)
    assert container_of(cluster, "tty")["state"]["terminated"]["exitCode"] == 5
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "name": "tty",
                            "subresource": "attach", "query": {"stdin": "true"}})
    assert resp["code"] == 400
    assert resp["body"]["message"] == "cannot attach a container in a completed pod; current phase is Failed"


def test_with_stdin_once_the_end_of_the_first_attach_closes_the_containers_stdin(cluster):
    run_pod(cluster, "once", restart="Never",
            containers=[{"name": "once", "image": "busybox", "command": ["sh"], "stdin": True, "stdinOnce": True}])
    advance_until(cluster, lambda: status_of(cluster, "once")["phase"] == "Running", 60)
    watcher = _open(cluster, "once", "attach", stdin="false")           # output only: stdin stays open
    cluster.stream(watcher["node"], watcher["token"], close=True)
    cluster.advance(5)
    assert status_of(cluster, "once")["phase"] == "Running"
    session = _open(cluster, "once", "attach", stdin="true")
    _talk(cluster, session, "false\n")
    cluster.advance(5)
    assert status_of(cluster, "once")["phase"] == "Running"            # still reading
    cluster.stream(session["node"], session["token"], close=True)      # kubectl went away
    advance_until(cluster, lambda: status_of(cluster, "once")["phase"] == "Failed", 30)
    assert container_of(cluster, "once")["state"]["terminated"]["exitCode"] == 1  # end of file: `false`'s status


def test_the_read_system_call_without_stdin_is_end_of_file():
    def program(ctx):
        line = yield Read()
        return 0 if line is None else 1
    assert run_capture(program(ProcessContext(argv=["x"])))[0] == 0


def test_ctrl_c_interrupts_the_running_command_and_the_shell_prompts_again(cluster):
    _sleeper(cluster)
    session = _open(cluster, "web", command=["sh"], stdin="true", tty="true")
    cluster.advance(0.1)
    _talk(cluster, session, "sleep 100; echo never\r")
    cluster.advance(3)
    answer, out = _talk(cluster, session, "\x03")
    assert out == "^C\r\n/ # " and not answer["done"]
    _, out = _talk(cluster, session, "echo $?\r")
    assert out == "echo $?\r\n130\r\n/ # "
    cluster.advance(200)
    assert "never" not in _talk(cluster, session)[1]
    # A program that is not a shell dies of SIGINT.
    sleeper = _open(cluster, "web", command=["sleep", "100"], stdin="true", tty="true")
    answer, _ = _talk(cluster, sleeper, "\x03")
    assert answer["done"] and answer["exit_code"] == 130


# -- ephemeral containers (kubectl debug) ---------------------------------------------------------

def _patch_ephemeral(cluster, name, containers, patch_type="application/strategic-merge-patch+json"):
    return cluster.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": name,
                            "subresource": "ephemeralcontainers", "patch_type": patch_type,
                            "body": {"spec": {"ephemeralContainers": containers}}})


def test_an_ephemeral_container_is_started_in_the_running_pod_and_can_be_attached_to(cluster):
    _sleeper(cluster)
    debugger = {"name": "debugger-abcde", "image": "busybox", "stdin": True, "tty": True,
                "targetContainerName": "web", "terminationMessagePolicy": "File"}
    generation = ok(cluster.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "web"})
                    )["metadata"]["generation"]
    pod = ok(_patch_ephemeral(cluster, "web", [debugger]))
    assert pod["spec"]["ephemeralContainers"][0]["imagePullPolicy"] == "Always"
    assert pod["metadata"]["generation"] == generation + 1
    advance_until(cluster, lambda: ((status_of(cluster, "web").get("ephemeralContainerStatuses") or [{}])[0]
                                    .get("state") or {}).get("running"), 30, 0.2)
    assert status_of(cluster, "web")["containerStatuses"][0]["state"].get("running")
    session = _open(cluster, "web", "attach", container="debugger-abcde", stdin="true", tty="true")
    _, out = _talk(cluster, session, "echo debug\r")
    assert out == "echo debug\r\ndebug\r\n/ # "
    answer, _ = _talk(cluster, session, "exit\r")
    assert answer["done"]
    advance_until(cluster, lambda: (status_of(cluster, "web")["ephemeralContainerStatuses"][0]["state"]
                                    .get("terminated") or {}).get("exitCode") == 0, 30, 0.2)
    assert status_of(cluster, "web")["phase"] == "Running"      # the pod goes on; never restarted


def test_ephemeral_containers_may_only_be_added_and_are_validated(cluster):
    _sleeper(cluster)
    ok(_patch_ephemeral(cluster, "web", [{"name": "dbg", "image": "busybox"}]))
    changed = _patch_ephemeral(cluster, "web", [{"name": "dbg", "image": "alpine"}])
    assert changed["code"] == 422
    assert 'existing ephemeral containers "dbg" may not be changed' in changed["body"]["message"]
    bad = _patch_ephemeral(cluster, "web", [{"name": "web", "image": "busybox", "ports": [{"containerPort": 80}],
                                             "targetContainerName": "nope"}])
    assert bad["code"] == 422
    message = bad["body"]["message"]
    assert 'spec.ephemeralContainers[1].name: Duplicate value: "web"' in message
    assert "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container" in message
    assert 'spec.ephemeralContainers[1].targetContainerName: Not found: "nope"' in message
    # The pod itself cannot gain one through a plain update.
    pod = copy.deepcopy(ok(cluster.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "web"})))
    pod["spec"]["ephemeralContainers"].append({"name": "other", "image": "busybox"})
    assert cluster.request({"verb": "update", "resource": "pods", "namespace": "default", "name": "web",
                            "body": pod})["code"] == 422


def test_attach_without_stdin_streams_what_the_main_process_writes_from_then_on(cluster):
    run_pod(cluster, "ticker", command=["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"])
    advance_until(cluster, lambda: status_of(cluster, "ticker")["phase"] == "Running", 60)
    cluster.advance(5)
    session = _open(cluster, "ticker", "attach", stdin="true")   # no stdin in the spec: output only
    cluster.advance(2.5)
    answer, out = _talk(cluster, session, "ignored\n")
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.startswith("tick ") for line in lines) and lines[0] != "tick 0"
    assert answer["output"][0][0] == "stdout" and not answer["done"]
    cluster.stream(session["node"], session["token"], close=True)
    runtime = cluster.node_components[session["node"]][0]
    [c] = [c for c in runtime.containers.values() if c.name == "ticker"]
    assert not c.stdio.recording and not c.stdio.chunks      # no one attached: the log alone keeps it


def test_a_flood_of_output_comes_in_bounded_reads(cluster):
    _sleeper(cluster)
    line = "0123456789" * 13                            # 131 characters with its newline
    script = f"i=0; while [ $i -lt 3000 ]; do echo {line}; i=$((i+1)); done"
    session = _open(cluster, "web", command=["sh", "-c", script], stdin="true")
    sizes, done = [], False
    for _ in range(20):
        cluster.advance(1)                  # the writer waits while its output is unread
        answer, out = _talk(cluster, session)
        sizes.append(len(out))
        if answer["done"]:
            done = True
            break
    assert done and sum(sizes) == 3000 * 131          # nothing lost
    assert max(sizes) <= 256 * 1024 + 131 and len(sizes) >= 2


def test_sh_in_a_debian_based_image_is_dash_with_its_prompt():
    context = ProcessContext(argv=["sh"], fs=FileSystem({"/etc/os-release": "NAME=Ubuntu\nID=ubuntu\nID_LIKE=debian\n"}),
                             stdin=True, tty=True)
    assert run_capture(shell_program(context), merged=True, stdin="echo hi\n")[1] == "# hi\n# "


def test_ps1_is_expanded_as_the_shells_do():
    code, out = interactive("PS1='\\u@\\h \\w\\$ '\ncd /etc\n")
    assert out == "/ # root@pod-1 /# root@pod-1 /etc# "


def test_cat_typed_at_the_prompt_reads_the_terminal_to_ctrl_d_and_the_shell_goes_on():
    context = ProcessContext(argv=["sh"], env={"HOME": "/root"}, fs=FileSystem({}), stdin=True, tty=True)
    io = Stdio(stdin=True, tty=True)
    gen = shell_program(context)
    assert step(gen, io.read_line, io.write, 1000, would_block=WOULD_BLOCK)[0] == "read"
    io.feed("cat > /tmp/notes\rline one\rline two\r\x04cat /tmp/notes\r")
    outcome, _ = step(gen, io.read_line, io.write, 1000, reading=True, would_block=WOULD_BLOCK)
    assert outcome == "read"
    shown = "".join(text for _, _, text in io.chunks)
    # All was typed ahead, so the terminal echoed it at once; then cat's file, then a prompt.
    assert shown == ("/ # cat > /tmp/notes\r\nline one\r\nline two\r\ncat /tmp/notes\r\n"
                     "/ # line one\r\nline two\r\n/ # ")
    assert context.fs.read("/tmp/notes") == "line one\nline two\n"


def test_a_session_without_traffic_for_the_idle_timeout_is_closed(cluster, monkeypatch):
    monkeypatch.setattr(streaming, "STREAMING_IDLE_TIMEOUT", 600.0)  # 4 h upstream; the same rule, sooner
    _sleeper(cluster)
    session = _open(cluster, "web", command=["sh"], stdin="true", tty="true")
    cluster.advance(0.1)
    _talk(cluster, session)                       # the prompt: traffic
    for _ in range(8):                            # the client keeps asking, but nothing flows
        cluster.advance(60)
        assert _talk(cluster, session)[0] is not None
    for _ in range(6):
        cluster.advance(60)
        if cluster.stream(session["node"], session["token"]) is None:
            break
    assert cluster.stream(session["node"], session["token"]) is None


def test_a_session_ends_when_its_node_goes_down(cluster):
    _sleeper(cluster)
    session = _open(cluster, "web", command=["sh"], stdin="true", tty="true")
    cluster.kill_node(session["node"])
    assert cluster.stream(session["node"], session["token"], "echo hi\r") is None
    assert cluster.stream("no-such-node", session["token"]) is None


def test_exec_it_cat_answers_each_line_as_it_is_entered(cluster):
    _sleeper(cluster)
    session = _open(cluster, "web", command=["cat"], stdin="true", tty="true")
    answer, out = _talk(cluster, session, "hello\r")
    assert out == "hello\r\nhello\r\n" and not answer["done"]      # the echo, then cat's copy
    answer, out = _talk(cluster, session, "\x04")
    assert answer["done"] and answer["exit_code"] == 0
