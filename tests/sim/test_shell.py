"""The container shell (sim/runtime/shell.py) and its utilities, driven with no runtime."""
from __future__ import annotations

import dataclasses

import pytest

from sim.runtime import shell
from sim.runtime.process import (NOT_FOUND_EXIT, FileSystem, ProcessContext, Sleep, Write,
                                 run_to_exit)
from sim.runtime.shell import (BUSY_SLEEP, UTILITIES, YIELD_EVERY, run_command, run_script,
                               shell_program)

JAN_1_2026 = 1767225600.0   # Thu Jan  1 00:00:00 UTC 2026


def ctx(argv=None, env=None, files=None, read_only=(), clock=JAN_1_2026, resolve=None, cwd="/", binaries=frozenset()):
    return ProcessContext(argv=argv or ["sh"], env=dict(env or {}), hostname="pod-1",
                          fs=FileSystem(files or {}, read_only=read_only),
                          clock=lambda: clock, resolve=resolve or (lambda host: None), cwd=cwd, binaries=binaries)


def sh(script, *extra, **kw):
    """`sh -c script extra...`: (exit code, stdout+stderr, seconds slept)."""
    return run_to_exit(shell_program(ctx(["sh", "-c", script, *extra], **kw)), max_steps=1000)


def split(script, **kw):
    """`sh -c script` with stdout and stderr apart: (code, stdout, stderr)."""
    gen = shell_program(ctx(["sh", "-c", script], **kw))
    out, err = [], []
    try:
        for _ in range(1000):
            call = next(gen)
            if isinstance(call, Write):
                (out if call.stream == "stdout" else err).append(call.text)
        raise AssertionError("did not exit")
    except StopIteration as stop:
        return stop.value or 0, "".join(out), "".join(err)


def step(gen, n):
    """Step a program n system calls: the calls in order (for programs that never exit)."""
    calls = []
    for _ in range(n):
        try:
            calls.append(next(gen))
        except StopIteration:
            break
    return calls


# -- the docs' examples ---------------------------------------------------------------------

def test_app_is_running_then_sleeps():
    assert sh("echo The app is running! && sleep 3600") == (0, "The app is running!\n", 3600.0)


def test_counter_loop_prints_each_second_forever():
    c = ctx(["sh", "-c", 'i=0; while true; do echo "$i: $(date)"; i=$((i+1)); sleep 1; done'])
    calls = step(shell_program(c), 10)
    assert len(calls) == 10                    # it never exits: stepping is bounded by us
    assert calls[0] == Write("0: Thu Jan  1 00:00:00 UTC 2026\n")
    assert calls[1] == Sleep(1.0)
    assert calls[2] == Write("1: Thu Jan  1 00:00:00 UTC 2026\n")
    assert [c for c in calls if isinstance(c, Sleep)] == [Sleep(1.0)] * 5
    assert calls[8] == Write("4: Thu Jan  1 00:00:00 UTC 2026\n")


def test_liveness_exec_script_and_probe():
    c = ctx(["sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"])
    gen = shell_program(c)
    assert next(gen) == Sleep(30.0)
    assert run_to_exit(run_command(c, ["cat", "/tmp/healthy"]))[0] == 0      # probe succeeds
    assert next(gen) == Sleep(600.0)
    code, out, _ = run_to_exit(run_command(c, ["cat", "/tmp/healthy"]))     # then fails
    assert (code, out) == (1, "cat: can't open '/tmp/healthy': No such file or directory\n")


def test_for_loop_and_printenv():
    assert sh("for i in 1 2 3; do echo $i; done") == (0, "1\n2\n3\n", 0.0)
    assert sh("printenv DEMO_GREETING", env={"DEMO_GREETING": "Hello from the environment"}) == \
        (0, "Hello from the environment\n", 0.0)
    assert sh("printenv NOPE")[0] == 1


def test_dollar_paren_of_an_unexpanded_kubernetes_variable_is_a_command_substitution():
    code, out, err = split('echo "$(MESSAGE)"')
    assert (code, out, err) == (0, "\n", "sh: MESSAGE: not found\n")


# -- the sh program itself ------------------------------------------------------------------

def test_sh_alone_exits_at_once_without_stdin():
    assert run_to_exit(shell_program(ctx(["sh"]))) == (0, "", 0.0)


def test_sh_file_runs_the_file_or_fails_with_2():
    files = {"/scripts/run.sh": "echo from file $1\nexit 4\n"}
    assert run_to_exit(shell_program(ctx(["/bin/sh", "/scripts/run.sh", "x"], files=files))) == \
        (4, "from file x\n", 0.0)
    assert run_to_exit(shell_program(ctx(["sh", "/nope.sh"]))) == \
        (2, "sh: can't open '/nope.sh': No such file or directory\n", 0.0)


def test_extra_args_after_script_are_dollar_zero_and_positionals():
    assert sh('echo "$0|$1|$2|$#"; for a in "$@"; do echo "<$a>"; done', "me", "a b", "c") == \
        (0, "me|a b|c|2\n<a b>\n<c>\n", 0.0)


def test_run_script_and_run_command():
    assert run_to_exit(run_script(ctx(), "echo hi; exit 5")) == (5, "hi\n", 0.0)
    assert run_to_exit(run_command(ctx(), ["echo", "a", "b"])) == (0, "a b\n", 0.0)
    assert run_to_exit(run_command(ctx(), ["/bin/sh", "-c", "echo in sh"])) == (0, "in sh\n", 0.0)
    assert run_to_exit(run_command(ctx(), ["nginx"])) == (NOT_FOUND_EXIT, "", 0.0)


# -- language --------------------------------------------------------------------------------

def test_unknown_command_is_127_and_the_script_goes_on():
    assert split("nope; echo status=$?") == (0, "status=127\n", "sh: nope: not found\n")
    assert sh("nope")[0] == 127


def test_exit_code():
    assert sh("exit 3") == (3, "", 0.0)
    assert sh("echo a; exit 300; echo b") == (44, "a\n", 0.0)
    assert sh("false")[0] == 1
    assert sh("false; exit")[0] == 1


def test_and_or_not():
    assert sh("false && echo no || echo yes") == (0, "yes\n", 0.0)
    assert sh("true && echo a && false || echo b") == (0, "a\nb\n", 0.0)
    assert sh("! false && echo negated") == (0, "negated\n", 0.0)


def test_quoting():
    code, out, _ = sh("""x='a  b'; echo "$x" $x '$x' "\\$x" "q\\"q" a\\ b 'it'"'"'s' "${x}c" """)
    assert out == "a  b a b $x $x q\"q a b it's a  bc\n"
    assert sh('echo "# not a comment" # a comment') == (0, "# not a comment\n", 0.0)
    assert sh('e=""; for w in "$e" $e x; do echo "[$w]"; done') == (0, "[]\n[x]\n", 0.0)


def test_arithmetic():
    assert sh("i=5; echo $((i+1)) $(( $i * 2 )) $((7 / 2)) $((-7 / 2)) $((7 % 3)) $((2 > 1)) $(( (1+2)*3 ))") \
        == (0, "6 10 3 -3 1 1 9\n", 0.0)
    assert sh("i=0; : $((i+=2)); echo $i $((i++)) $i")[1] == "2 2 3\n"
    assert split("echo $((1/0)); echo after") == (2, "", "sh: divide by zero\n")


def test_command_substitution_and_backticks():
    assert sh('x=$(echo hi; echo there); echo "$x"; echo `echo bt`') == (0, "hi\nthere\nbt\n", 0.0)
    assert sh('echo "$(echo "inner quotes")"') == (0, "inner quotes\n", 0.0)
    assert sh("x=$(exit 3); echo $?") == (0, "3\n", 0.0)


def test_parameter_expansion_forms():
    assert sh('echo ${U:-d} ${U-e} ${#HOME} ${HOME%/*}: ${F##*/} ${F%.*} ${S:+set}', env={
        "HOME": "/root", "F": "/a/b.tar.gz", "S": "1"})[1] == "d e 5 : b.tar.gz /a/b.tar set\n"


def test_if_while_until_case_break_continue():
    assert sh("if false; then echo a; elif true; then echo b; else echo c; fi")[1] == "b\n"
    assert sh("i=0; until [ $i -ge 3 ]; do echo $i; i=$((i+1)); done")[1] == "0\n1\n2\n"
    assert sh("for i in 1 2 3 4 5; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done")[1] == "1\n3\n"
    assert sh("for x in a b; do for y in 1 2; do [ $y = 2 ] && continue 2; echo $x$y; done; done")[1] == "a1\nb1\n"
    assert sh('case "$1" in st*) echo start;; stop|halt) echo stop;; *) echo other;; esac', "sh", "halt")[1] == "stop\n"


def test_assignments_export_and_prefix_assignment():
    assert sh("X=1; echo $X; env")[1] == "1\n"          # not exported: env prints nothing
    assert sh("export X=1 Y; Y=2; env")[1] == "X=1\nY=2\n"
    assert sh("G=hi printenv G; echo [$G]")[1] == "hi\n[]\n"


def test_functions_groups_subshells():
    assert sh('f() { echo "f $1"; return 3; }; f x; echo $?')[1] == "f x\n3\n"
    assert sh("x=1; (x=2; echo $x); echo $x; { x=3; }; echo $x")[1] == "2\n1\n3\n"


def test_set_e_stops_at_the_first_failure_not_at_tested_ones():
    assert sh("set -e; if false; then :; fi; false || true; echo a; false; echo b") == (1, "a\n", 0.0)
    assert run_to_exit(shell_program(ctx(["sh", "-ec", "false; echo no"]))) == (1, "", 0.0)


def test_trap_and_background_are_accepted():
    assert sh("trap 'echo bye' TERM; echo a & echo b; wait") == (0, "a\nb\n", 0.0)


# -- redirections and pipes ----------------------------------------------------------------

def test_redirection_to_a_file_then_cat():
    c = ctx(["sh", "-c", "echo one > /data/f; echo two >> /data/f; cat /data/f; echo x >/dev/null"])
    assert run_to_exit(shell_program(c)) == (0, "one\ntwo\n", 0.0)
    assert c.fs.read("/data/f") == "one\ntwo\n"


def test_stderr_redirections():
    assert split("nope 2>/dev/null; echo $?") == (0, "127\n", "")
    assert split("nope 2>&1") == (127, "sh: nope: not found\n", "")
    assert split("{ echo out; nope; } >/dev/null 2>&1; echo done") == (0, "done\n", "")
    c = ctx(["sh", "-c", "cat /missing > /log 2>&1"])
    run_to_exit(shell_program(c))
    assert c.fs.read("/log") == "cat: can't open '/missing': No such file or directory\n"


def test_redirection_to_a_read_only_mount_fails():
    assert sh("echo x > /etc/config/a; echo $?", read_only=("/etc/config",)) == \
        (0, "sh: can't create /etc/config/a: Read-only file system\n1\n", 0.0)


def test_here_document():
    assert sh("cat <<EOF\nhello $N\nEOF\ncat <<'EOF'\n$N\nEOF", env={"N": "n"})[1] == "hello n\n$N\n"


def test_pipes():
    assert sh("seq 1 5 | grep 3") == (0, "3\n", 0.0)
    assert sh("seq 10 | tail -n 2 | wc -l")[1] == "2\n"
    assert sh("printf 'b\\na\\nc\\n' | sort | head -n 2")[1] == "a\nb\n"
    assert sh("echo hi | cat")[1] == "hi\n"
    assert sh("echo x | grep -q y; echo $?")[1] == "1\n"
    assert sh('printf "1\\n2\\n" | while read n; do echo "n=$n"; done')[1] == "n=1\nn=2\n"


def test_pipe_reader_stopping_bounds_the_writer():
    assert sh("seq 100000000 | head -n 1") == (0, "1\n", 0.0)


# -- never hang the caller ------------------------------------------------------------------

def test_busy_loop_yields_a_sleep_within_a_bounded_number_of_steps():
    calls = step(shell_program(ctx(["sh", "-c", "while true; do :; done"])), 3)
    assert calls == [Sleep(BUSY_SLEEP)] * 3


def test_busy_loop_with_output_still_yields():
    calls = step(shell_program(ctx(["sh", "-c", "while :; do echo hi > /dev/null; done"])), 2)
    assert calls == [Sleep(BUSY_SLEEP)] * 2
    assert YIELD_EVERY <= 1000


def test_sleep_infinity_never_ends():
    calls = step(shell_program(ctx(["sh", "-c", "sleep infinity"])), 5)
    assert len(calls) == 5 and all(isinstance(c, Sleep) and c.seconds >= 1e6 for c in calls)
    calls = step(shell_program(ctx(["sh", "-c", "tail -f /dev/null"])), 3)
    assert len(calls) == 3 and all(isinstance(c, Sleep) for c in calls)


def test_values_are_bounded():
    code, out, _ = sh('x=a; i=0; while [ $i -lt 22 ]; do x="$x$x"; i=$((i+1)); done; echo ${#x}')
    assert out == f"{shell.MAX_VALUE_CHARS}\n"


# -- syntax errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("script,message", [
    ("done", 'unexpected "done"'),
    ("while true; do echo", 'unexpected end of file (expecting "done")'),
    ("if true; then echo", 'unexpected end of file (expecting "fi")'),
    ('echo "open', "unterminated quoted string"),
    ("echo a;; echo b", 'unexpected ";;"'),
])
def test_syntax_errors_exit_2(script, message):
    assert sh(script) == (2, f"sh: syntax error: {message}\n", 0.0)


def test_a_syntax_error_on_a_later_line_runs_the_earlier_ones():
    assert sh("echo first\nfi") == (2, 'first\nsh: syntax error: unexpected "fi"\n', 0.0)


# -- utilities ------------------------------------------------------------------------------

def test_echo_and_printf():
    assert sh("echo -n a; echo -e 'b\\tc\\nd'; echo 'no\\nescape'")[1] == "ab\tc\nd\nno\\nescape\n"
    assert sh("printf '%s=%d %5s|%-3s|%%\\n' a 5 r l")[1] == "a=5     r|l  |%\n"
    assert sh("printf '%s\\n' x y")[1] == "x\ny\n"


def test_cat_errors_as_busybox_words_them():
    assert sh("cat /nope") == (1, "cat: can't open '/nope': No such file or directory\n", 0.0)
    assert sh("cat /etc", files={"/etc/hosts": "x"}) == (1, "cat: read error: Is a directory\n", 0.0)


def test_ls():
    files = {"/app/a.txt": "12345", "/app/.hidden": "", "/app/sub/x": ""}
    assert sh("ls /app", files=files)[1] == "a.txt\nsub\n"
    assert sh("ls -a /app", files=files)[1] == ".\n..\n.hidden\na.txt\nsub\n"
    code, out, _ = sh("ls -l /app", files=files)
    assert out.splitlines()[0].startswith("-rw-r--r--") and out.splitlines()[0].endswith(" 5 Jan  1 00:00 a.txt")
    assert sh("ls /nope") == (1, "ls: /nope: No such file or directory\n", 0.0)
    assert sh("cd /app && ls *.txt; echo /app/*", files=files)[1] == "a.txt\n/app/a.txt /app/sub\n"


def test_sleep_forms():
    assert sh("sleep 0.5; sleep 1m")[2] == 60.5
    assert sh("sleep x") == (1, "sleep: invalid number 'x'\n", 0.0)


def test_date():
    assert sh("date; date +%s; date +%Y-%m-%d")[1] == "Thu Jan  1 00:00:00 UTC 2026\n1767225600\n2026-01-01\n"


def test_identity_utilities():
    assert sh("hostname; whoami; id; uname; pwd")[1] == \
        "pod-1\nroot\nuid=0(root) gid=0(root) groups=0(root)\nLinux\n/\n"
    assert sh("uname -a")[1].startswith("Linux pod-1 ")


def test_touch_rm_mkdir_on_the_fs():
    c = ctx(["sh", "-c", "mkdir -p /a/b && touch /a/b/f && ls /a/b && rm /a/b/f && ls /a/b; rm /a/b/f"])
    assert run_to_exit(shell_program(c)) == (1, "f\nrm: can't remove '/a/b/f': No such file or directory\n", 0.0)
    assert c.fs.is_dir("/a/b") and not c.fs.exists("/a/b/f")
    assert sh("rm -f /nothing; echo $?")[1] == "0\n"
    assert sh("mkdir /x; mkdir /x")[1] == "mkdir: can't create directory '/x': File exists\n"
    c = ctx(["sh", "-c", "rm -r /d"], files={"/d/e/f": "1"})
    assert run_to_exit(shell_program(c))[0] == 0 and not c.fs.exists("/d")


def test_touch_on_a_read_only_path_refuses():
    c = ctx(["sh", "-c", "touch /etc/config/new"], read_only=("/etc/config",))
    assert run_to_exit(shell_program(c)) == (1, "touch: /etc/config/new: Read-only file system\n", 0.0)
    assert not c.fs.exists("/etc/config/new")


def test_seq_expr_test():
    assert sh("seq 3; seq 2 4; seq 1 2 5")[1] == "1\n2\n3\n2\n3\n4\n1\n3\n5\n"
    assert sh("expr 3 + 4; expr 3 \\* 4; expr 7 / 2; expr 1 = 1")[1] == "7\n12\n3\n1\n"
    assert sh("expr 1 - 1; echo $?")[1] == "0\n1\n"
    assert sh("[ -f /x ] && echo f; [ -d / ] && echo d; [ -z '' ] && echo z; [ -n a ] && echo n",
              files={"/x": ""})[1] == "f\nd\nz\nn\n"
    assert sh("[ 2 -lt 10 ] && [ a != b ] && [ ! 1 -eq 2 ] && test 3 -ge 3 && echo ok")[1] == "ok\n"
    assert sh("[ 1 = 1")[0] == 2


def test_kill_true_false():
    assert sh("kill 1; true; echo $?; false; echo $?")[1] == "0\n1\n"


# -- network ----------------------------------------------------------------------------------

def test_unresolved_names():
    assert sh("wget http://my-svc/") == (1, "wget: bad address 'my-svc'\n", 0.0)
    assert sh("curl my-svc") == (6, "curl: (6) Could not resolve host: my-svc\n", 0.0)
    code, out, _ = sh("nslookup my-svc")
    assert code == 1 and "** server can't find my-svc: NXDOMAIN" in out


def test_resolved_but_refused():
    resolve = {"my-svc": "10.96.0.20"}.get
    assert split("wget -q my-svc", resolve=resolve) == \
        (1, "", "wget: can't connect to remote host (10.96.0.20): Connection refused\n")
    code, _, err = split("curl http://my-svc:8080/x", resolve=resolve)
    assert code == 7 and err.startswith("curl: (7) Failed to connect to my-svc port 8080")
    code, out, _ = split("nslookup my-svc", resolve=resolve)
    assert code == 0 and "Name:\tmy-svc\nAddress: 10.96.0.20\n" in out and out.startswith("Server:")


def test_http_hook(monkeypatch):
    seen = []

    def get(c, url):
        seen.append(url)
        return (404, "nope") if url.endswith("/missing") else (200, "<h1>hi</h1>\n")

    monkeypatch.setattr(shell, "HTTP_GET", get)
    resolve = {"web": "10.0.0.5"}.get
    assert split("curl -s web", resolve=resolve) == (0, "<h1>hi</h1>\n", "")
    assert split("wget -qO- http://web/", resolve=resolve) == (0, "<h1>hi</h1>\n", "")
    assert split("curl -sf web/missing", resolve=resolve)[0] == 22
    c = ctx(["sh", "-c", "cd /tmp && wget -q web"], files={"/tmp/.keep": ""}, resolve=resolve)
    assert run_to_exit(shell_program(c))[0] == 0 and c.fs.read("/tmp/index.html") == "<h1>hi</h1>\n"
    assert seen[0] == "http://web:80/"


def test_utilities_table_has_the_briefs_commands():
    for name in ("echo printf env printenv cat ls sleep date hostname true false touch rm mkdir pwd "
                 "whoami id uname wget curl nslookup seq expr test [ kill grep wc head tail").split():
        assert name in UTILITIES, name


def test_double_brackets_test_as_busybox_ash_does_for_the_docs_downward_api_example():
    script = ("if [[ -e /etc/podinfo/labels ]]; then echo -en '\\n\\n'; cat /etc/podinfo/labels; fi; "
              "if [[ -e /etc/podinfo/nope ]]; then echo no; fi")
    code, out, _ = sh(script, files={"/etc/podinfo/labels": 'zone="us-est-coast"'})
    assert (code, out) == (0, '\n\nzone="us-est-coast"')
    assert sh("[[ a == a ]] && [[ 1 -lt 2 ]] && echo yes")[:2] == (0, "yes\n")
    code, _, err = split("[[ -e /x")
    assert code == 2 and "[[: missing ]]" in err



def test_a_shell_execs_the_lone_command_of_its_script_so_a_server_started_by_sh_c_listens():
    from sim.runtime.programs import program_for
    binaries = frozenset({"sh", "node", "sleep"})
    execed = program_for(["/bin/sh", "-c", "node server.js"], binaries)
    assert execed.name == "node" and 8080 in execed.ports(ctx(["/bin/sh", "-c", "node server.js"]))
    assert program_for(["/bin/sh", "-c", "echo hi; node server.js"], binaries).name == "sh"
    assert program_for(["/bin/sh", "-c", "sleep 5"], binaries).name == "sh"       # a utility: the shell runs it
    assert program_for(["/bin/sh", "-c", "node server.js"], frozenset({"sh"})).name == "sh"  # not in the image


def test_a_shell_runs_the_other_programs_of_its_image():
    binaries = frozenset({"sh", "nginx"})
    code, out, err = split("nginx -v && nginx -t", binaries=binaries)
    assert code == 0 and err.startswith("nginx version: nginx/") and "test is successful" in err
    quit_codes = []
    c = dataclasses.replace(ctx(["sh", "-c", "nginx -s quit"]), binaries=binaries, signal_main=quit_codes.append)
    assert run_to_exit(shell_program(c), max_steps=100)[0] == 0 and quit_codes == [0]
    assert split("redis-cli ping", binaries=binaries)[0] == 127   # not in this image
