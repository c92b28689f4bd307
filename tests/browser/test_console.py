"""The kubectl console (cluster/console/, static/js/console.js) in a real browser: opened by URL
and by the key `k`; `kubectl get nodes` shows the nodes; `kubectl run` then `kubectl get pods -w`
streams until Ctrl-C; YAML pasted as input is applied; ANSI colours become spans; hostile text
in kubectl's output and in the command line stays text."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_dashboard, wait_js

pytestmark = pytest.mark.services

OUTPUT_EXPR = "document.getElementById('console-output').textContent"
OUTPUT_JS = f"() => {OUTPUT_EXPR}"


def _commands(page) -> int:
    return int(page.evaluate("() => document.getElementById('console-panel').dataset.commands || '0'"))


def run(page, line: str, *, wait: bool = True, timeout: float = 60) -> str:
    """Type `line`, press Enter; with wait, until its exit line; return the output so far."""
    before = _commands(page)
    page.fill("#console-input", line)
    page.press("#console-input", "Enter")
    if wait:
        wait_js(page, f"() => +(document.getElementById('console-panel').dataset.commands || 0) > {before}",
                timeout, message=f"`{line}` to end")
    return page.evaluate(OUTPUT_JS)


def test_opened_by_url_and_key_then_get_nodes_shows_the_nodes(page, browser_server):
    page.goto(f"{browser_server.base}/clusters/demo/console")
    wait_js(page, "() => !document.getElementById('console-panel').hidden", 10, message="the console open")
    text = run(page, "kubectl get nodes")
    assert "NAME" in text and "STATUS" in text and "Ready" in text
    assert "exit code 0" in text
    # k outside the command line closes it, and opens it again; the URL follows.
    page.click("#dashboard")
    page.keyboard.press("k")
    wait_js(page, "() => document.getElementById('console-panel').hidden", 5, message="the console closed")
    assert page.evaluate("() => location.pathname") == "/clusters/demo/"
    page.keyboard.press("k")
    wait_js(page, "() => !document.getElementById('console-panel').hidden", 5, message="the console open again")
    assert page.evaluate("() => location.pathname") == "/clusters/demo/console"
    # History: up brings back the last command.
    page.press("#console-input", "ArrowUp")
    assert page.input_value("#console-input") == "kubectl get nodes"


def test_a_watch_streams_until_ctrl_c(page, browser_server):
    open_dashboard(page, browser_server)
    page.keyboard.press("k")
    assert "created" in run(page, "kubectl run console-web --image=nginx")
    run(page, "kubectl get pods -w", wait=False)
    # The watch's own output: after its command line (`kubectl run`'s output names the pod too).
    wait_js(page, """() => { const t = document.getElementById('console-output').textContent;
                             return t.slice(t.lastIndexOf('kubectl get pods -w')).includes('console-web'); }""", 30,
            message="the watch to list the pod")
    assert page.evaluate("() => document.getElementById('console-panel').dataset.state") == "running"
    page.press("#console-input", "Control+c")
    # A bounded wait that allows for a loaded machine: SIGINT, kubectl's exit, the streams' end.
    wait_js(page, "() => document.getElementById('console-panel').dataset.state === 'idle'", 30,
            message="Ctrl-C to end the watch")
    assert "^C" in page.evaluate(OUTPUT_JS)
    run(page, "kubectl delete pod console-web --wait=false")


def test_yaml_pasted_as_input_is_applied(page, browser_server):
    open_dashboard(page, browser_server)
    page.keyboard.press("k")
    page.click(".console-stdin summary")
    page.fill("#console-stdin", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pasted\ndata:\n  a: b\n")
    assert "configmap/pasted created" in run(page, "kubectl apply -f -")


def test_refusals_are_shown(page, browser_server):
    open_dashboard(page, browser_server)
    page.keyboard.press("k")
    text = run(page, "kubectl config view")
    assert "refused: `kubectl config` is not available" in text
    text = run(page, "cat /etc/passwd")
    assert "only kubectl runs here" in text and "root:" not in text


def test_colours_become_spans(page, browser_server):
    open_dashboard(page, browser_server)
    page.keyboard.press("k")
    spans = page.evaluate("""() => {
      const c = window.pilothouse.kubectlConsole;
      c.onMessage({type: 'output', stream: 'stdout', data: '\\x1b[1;31mred\\x1b[0m plain \\x1b[38;5;196mx\\x1b[38;2;1;2;3my\\x1b[2Jz'});
      return [...document.querySelectorAll('#console-output .console-out')].slice(-5).map(s =>
        [s.textContent, s.className, s.style.color]);
    }""")
    assert spans == [["red", "console-out stdout ansi-bold ansi-fg-1", ""], [" plain ", "console-out stdout", ""],
                     ["x", "console-out stdout", "rgb(255, 0, 0)"], ["y", "console-out stdout", "rgb(1, 2, 3)"],
                     ["z", "console-out stdout", "rgb(1, 2, 3)"]]


def test_hostile_output_stays_text(page, browser_server):
    open_dashboard(page, browser_server)
    page.keyboard.press("k")
    evil = "<img src=x onerror=window.__pwned=1>"
    run(page, f"kubectl create configmap hostile --from-literal=k='{evil}'")
    text = run(page, "kubectl get configmap hostile -o jsonpath={.data.k}")
    assert evil in text
    text = run(page, f"kubectl get pod '{evil}'")
    assert "exit code 1" in text
    page.evaluate("() => window.pilothouse.kubectlConsole.onMessage({type: 'output', stream: 'stderr', "
                  "data: '<script>window.__pwned=2</script><b>bold?</b>'})")
    assert page.evaluate("() => document.querySelectorAll('#console-output img, #console-output script, "
                         "#console-output b').length") == 0
    assert page.evaluate("() => window.__pwned") is None


@pytest.mark.motion
def test_the_console_s_requests_travel_from_its_box_in_the_diagram(page, browser_server):
    """A command typed in the console is seen leaving the diagram's console box (console@client)
    towards the API server, in the console's own colour; other clients' stay kubectl@client."""
    open_dashboard(page, browser_server)
    assert page.locator('#diagram [data-addr="console@client"]').count() == 1
    # Dots live about a second: note every one that appears.
    page.evaluate("""() => {
      window.__consoleHops = [];
      new MutationObserver(() => {
        for (const m of document.querySelectorAll('#diagram .msg-console')) {
          const hop = m.dataset.src + ' -> ' + m.dataset.dst + ' ' + m.dataset.type;
          if (!window.__consoleHops.includes(hop)) window.__consoleHops.push(hop);
        }
      }).observe(document.getElementById('diagram'), {childList: true, subtree: true});
    }""")
    page.keyboard.press("k")
    run(page, "kubectl create configmap travelled --from-literal=k=v")
    wait_js(page, "() => window.__consoleHops.some(h => h.startsWith('console@client -> kube-apiserver@') "
                  "&& h.endsWith('create configmaps'))", 20, message="the console's create to travel")


def test_exec_it_takes_typed_lines_until_exit(page, browser_server):
    """`kubectl exec -it <pod> -- sh`: the pane becomes the container's terminal: a typed line
    goes to its shell, which echoes it and answers; `exit` ends the session with exit code 0."""
    open_dashboard(page, browser_server)
    page.keyboard.press("k")
    assert "exit code 0" in run(page, "kubectl run it-pane --image=busybox:1.36 --restart=Never -- sleep 3600")
    assert "exit code 0" in run(page, "kubectl wait --for=condition=Ready pod/it-pane --timeout=90s", timeout=100)
    before = _commands(page)
    run(page, "kubectl exec -it it-pane -- sh", wait=False)
    wait_js(page, "() => document.getElementById('console-panel').dataset.session === 'tty'", 30,
            message="the terminal session to start")
    page.fill("#console-input", "echo from-$HOSTNAME")
    page.press("#console-input", "Enter")
    wait_js(page, f"() => {OUTPUT_EXPR}.includes('\\nfrom-it-pane\\n')", 20, message="the shell's answer")
    page.fill("#console-input", "exit")
    page.press("#console-input", "Enter")
    wait_js(page, f"() => +(document.getElementById('console-panel').dataset.commands || 0) > {before}", 30,
            message="the session to end")
    assert page.evaluate(OUTPUT_JS).rstrip().endswith("exit code 0")
    assert page.evaluate("() => document.getElementById('console-panel').dataset.session") == ""
