"""The cluster page's views (issue 13), in a real browser, on one page shared by the module: each
view by URL and by key (never while typing), the tabs by keyboard with a visible focus, the
presenter's keys (space, ArrowRight, digits), the Objects view (a kind's objects, one as YAML,
edited and saved, a refused edit's 422 shown), the large-screen mode, phase marks that do not
rely on colour, a node with many pods drawn as counts that a click zooms into, and a long
scheduling queue drawn as its count and first pods."""
from __future__ import annotations

import pytest

from tests.browser.conftest import VIEWPORT, new_context, open_dashboard, show_view, wait_js
from tests.conftest import make_cluster, wait_nodes_ready

pytestmark = pytest.mark.services

CLUSTER = "views"
VIEWS = {"architecture": "a", "workloads": "w", "network": "t", "etcd": "e", "scheduler": "s",
         "objects": "o", "lessons": "l"}
VIEW = "document.getElementById('dashboard').dataset.view"


@pytest.fixture(scope="module")
def lab(browser_server):
    # Small, so that it starts fast: one control-plane node, two workers.
    make_cluster(browser_server, CLUSTER, speed=10, spec={"nodes": [
        {"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}, {"name": "worker-2"}]})
    wait_nodes_ready(browser_server, CLUSTER)
    return browser_server


@pytest.fixture(scope="module")
def page(browser, lab):
    """One page for the module (its console errors fail the module at the end)."""
    context = new_context(browser)
    pg = context.new_page()
    errors: list[str] = []
    expected = ["status of 4", "Response Status Error"]  # a refused edit's 422 is logged by the browser
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    pg.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
          if m.type == "error" and not any(x in m.text for x in expected) else None)
    open_dashboard(pg, lab, CLUSTER)
    yield pg
    context.close()
    assert not errors, "JavaScript errors on the page:\n" + "\n".join(errors)


def blur(page):
    page.evaluate("document.activeElement?.blur()")


def save(page) -> tuple[str, str]:
    """Click the Objects view's Save and wait for its answer: ("ok" | "error", text).  The
    answer slot is emptied first, so the Load's answer is not mistaken for it."""
    page.eval_on_selector("#obj-result", "el => { el.className = 'result'; el.textContent = ''; }")
    page.click("#btn-obj-save")
    page.wait_for_selector("#obj-result.ok, #obj-result.error")
    kind = page.get_attribute("#obj-result", "class").split()[-1]
    return kind, page.inner_text("#obj-result")


def api(lab, method: str, path: str, body: dict | None = None):
    return lab.request(method, f"/clusters/{CLUSTER}{path}", body)


def test_each_view_by_key_and_by_url_and_never_while_typing(page, lab):
    blur(page)
    for view, key in VIEWS.items():
        page.keyboard.press(key)
        wait_js(page, f"{VIEW} === '{view}'", 5, message=f"the key {key}")
        assert page.evaluate("location.pathname") == f"/clusters/{CLUSTER}/" + ("" if view == "architecture" else view)
        assert page.get_attribute(f"#view-nav a[data-view={view}]", "aria-current") == "page"
        assert page.is_visible(f"#view-{view}")
        assert [v for v in VIEWS if page.is_visible(f"#view-{v}")] == [view]
    # Back goes to the view before.
    page.go_back()
    wait_js(page, f"{VIEW} === 'objects'", 5, message="back to the Objects view")
    # By URL: the page opens on that view.
    for view in ("etcd", "scheduler"):
        open_dashboard(page, lab, CLUSTER, view)
        assert page.evaluate(VIEW) == view and page.is_visible(f"#view-{view}")
        assert not page.is_visible("#view-architecture")
    # A key typed into a field is the field's.
    open_dashboard(page, lab, CLUSTER)
    page.click("#create-pod-form [name=name]")
    page.keyboard.type("seo")
    assert page.input_value("#create-pod-form [name=name]") == "seo"
    assert page.evaluate(VIEW) == "architecture"
    page.fill("#create-pod-form [name=name]", "")


def test_the_tabs_by_keyboard_with_a_visible_focus(page):
    page.focus("#view-nav a[data-view=architecture]")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.view") == "workloads"
    outline = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return {style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")
    assert outline["style"] != "none" and outline["width"] >= 2, outline
    page.keyboard.press("Enter")
    wait_js(page, f"{VIEW} === 'workloads'", 5, message="Enter on the Workloads tab")
    # Tab reaches the next control, and its focus is drawn too.
    page.keyboard.press("Tab")
    outline = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return {tag: document.activeElement.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")
    assert outline["style"] != "none" and outline["width"] >= 2, outline
    blur(page)
    page.keyboard.press("a")
    wait_js(page, f"{VIEW} === 'architecture'", 5, message="the key a")


def test_presenter_keys_pause_step_and_speed(page):
    blur(page)
    speeds = page.eval_on_selector_all("#speed-select option", "os => os.map(o => o.value)")
    if page.get_attribute("#dashboard", "data-paused") == "true":
        page.keyboard.press("Space")
        wait_js(page, "document.getElementById('dashboard').dataset.paused === 'false'", 10, message="resumed")
    page.keyboard.press("Space")
    wait_js(page, "document.getElementById('dashboard').dataset.paused === 'true'", 10, message="space pauses")
    t = float(page.get_attribute("#dashboard", "data-time"))
    page.keyboard.press("ArrowRight")
    wait_js(page, f"+document.getElementById('dashboard').dataset.time >= {t + 0.99}", 10,
            message="ArrowRight steps one second")
    assert page.get_attribute("#dashboard", "data-paused") == "true"
    page.keyboard.press("3")
    wait_js(page, f"+document.getElementById('dashboard').dataset.speed === {float(speeds[2])}", 10,
            message=f"3 picks the third speed ({speeds[2]})")
    # Typing in a field: no shortcut.
    page.click("#create-pod-form [name=name]")
    page.keyboard.type(" 9")
    assert page.get_attribute("#dashboard", "data-paused") == "true"
    assert float(page.get_attribute("#dashboard", "data-speed")) == float(speeds[2])
    page.fill("#create-pod-form [name=name]", "")
    blur(page)
    page.keyboard.press("9")
    wait_js(page, f"+document.getElementById('dashboard').dataset.speed === {float(speeds[8])}", 10,
            message=f"9 picks the ninth speed ({speeds[8]})")
    page.keyboard.press("Space")
    wait_js(page, "document.getElementById('dashboard').dataset.paused === 'false'", 10, message="space resumes")
    page.keyboard.press("8")  # back to 10x for the tests after this one
    wait_js(page, f"+document.getElementById('dashboard').dataset.speed === {float(speeds[7])}", 10)


def test_objects_view_lists_a_kind_and_edits_an_object_as_yaml(page, lab):
    status, body = api(lab, "POST", "/api/v1/namespaces/default/configmaps",
                       {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "greeting"},
                        "data": {"text": "hello"}})
    assert status == 201, body
    show_view(page, "objects")
    wait_js(page, "!!document.querySelector('#kinds-table tr[data-resource=configmaps]')", 10, message="the ConfigMap kind")
    assert page.get_attribute("#kinds-table tr[data-resource='deployments.apps']", "data-kind") == "Deployment"
    page.click("#kinds-table tr[data-resource=configmaps]")
    row = "#objects-table tr[data-namespace=default][data-name=greeting]"
    page.wait_for_selector(row, timeout=10_000)
    cells = page.eval_on_selector(row, "tr => [...tr.cells].map(c => c.textContent)")
    assert cells[:2] == ["default", "greeting"] and cells[2].endswith(("s", "m")), cells
    assert page.get_attribute("#kinds-table tr[data-resource=configmaps]", "aria-selected") == "true"

    # Pick it: its YAML, as the API server stores it.
    page.click(row)
    wait_js(page, "document.getElementById('obj-yaml').value.includes('name: greeting')", 10, message="the YAML")
    text = page.input_value("#obj-yaml")
    assert "kind: ConfigMap" in text and "text: hello" in text and "resourceVersion" in text
    # Edit and save: a PUT; the API has the new value.
    page.fill("#obj-yaml", text.replace("text: hello", "text: bonjour"))
    kind, msg = save(page)
    assert kind == "ok" and "edited" in msg, msg
    assert api(lab, "GET", "/api/v1/namespaces/default/configmaps/greeting")[1]["data"] == {"text": "bonjour"}

    # A change the API server refuses: its 422 Status, readable, the text kept for fixing.
    bad = page.input_value("#obj-yaml").replace("name: greeting", "name: greeting\n  labels: {'bad label!': x}", 1)
    page.fill("#obj-yaml", bad)
    kind, msg = save(page)
    assert kind == "error" and page.get_attribute("#obj-result", "data-code") == "422", msg
    assert 'ConfigMap "greeting" is invalid' in msg and "metadata.labels" in msg, msg
    assert "bad label!" in page.input_value("#obj-yaml")

    # An object made elsewhere shows up in the list (the kind's count changed).
    status, _ = api(lab, "POST", "/api/v1/namespaces/default/configmaps",
                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second"}})
    assert status == 201
    page.wait_for_selector("#objects-table tr[data-name=second]", timeout=15_000)


def test_the_scheduler_view_explains_a_pod_picked_by_name(page):
    key = wait_js(page, """(() => { const p = document.querySelector('#diagram .pod[data-owner^="ReplicaSet/coredns"][data-phase=Running]');
        return p && p.dataset.pod; })()""", 20, message="a Running CoreDNS pod")
    show_view(page, "scheduler")
    assert page.locator(f'#sched-pick-list option[value="{key}"]').count() == 1
    page.fill("#sched-pick", key)
    page.press("#sched-pick", "Enter")
    wait_js(page, f"""(() => {{ const e = document.getElementById('sched-explain');
        return e.dataset.pod === '{key}' && e.dataset.state === 'loaded' && e.dataset.result === 'Scheduled'; }})()""",
            15, message=f"the scheduler's decision about {key}")
    assert page.locator("#sched-table tr[data-chosen=true]").count() == 1


def test_phase_marks_and_legend_do_not_rely_on_colour(page):
    show_view(page, "architecture")
    wait_js(page, "document.querySelectorAll('#diagram .pod[data-phase=Running]').length > 0", 20, message="Running pods")
    marks = page.evaluate("""[...document.querySelectorAll('#diagram .pod')].map(p =>
        [p.dataset.phase, p.dataset.ready, p.querySelector('.pod-mark')?.textContent])""")
    for phase, ready, mark in marks:
        assert mark == {"Running": "✓" if ready == "true" else "○", "Pending": "…", "ContainerCreating": "◔",
                        "Terminating": "⊘", "Failed": "✗", "Succeeded": "★"}.get(phase, "?"), (phase, ready, mark)
    before = page.evaluate("""[...document.querySelectorAll('.legend .chip')].map(c =>
        getComputedStyle(c, '::before').content)""")
    assert all(b not in ("none", "normal", '""') for b in before), before
    assert len(set(before)) == len(before)  # each phase its own mark


def test_large_screen_mode_by_toggle_and_url_remembered(page, lab):
    page.set_viewport_size({"width": 1280, "height": 720})
    try:
        blur(page)
        assert page.get_attribute("#btn-big", "aria-pressed") == "false"
        small = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        page.click("#btn-big")
        assert page.evaluate("document.body.classList.contains('big')")
        assert page.get_attribute("#btn-big", "aria-pressed") == "true"
        big = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert big >= small * 1.25, (small, big)
        # Fewer details: the hints and the message legend go; the diagram takes the full width.
        assert not page.is_visible("#view-nav a[data-view=workloads] .key-hint")
        assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#diagram .node .node-box')).strokeWidth)") >= 4
        width = page.evaluate("document.getElementById('diagram').getBoundingClientRect().width")
        assert width >= 1150, width
        # Remembered: a reload keeps it; ?big=0 leaves it, ?big=1 comes back to it.
        open_dashboard(page, lab, CLUSTER)
        assert page.evaluate("document.body.classList.contains('big')")
        open_dashboard(page, lab, CLUSTER, "?big=0")
        assert not page.evaluate("document.body.classList.contains('big')")
        open_dashboard(page, lab, CLUSTER, "?big=1")
        assert page.evaluate("document.body.classList.contains('big')")
        page.click("#btn-big")
        assert not page.evaluate("document.body.classList.contains('big')")
        assert page.evaluate("localStorage.getItem('pilothouse.big')") == "0"
    finally:
        page.set_viewport_size(VIEWPORT)


def test_a_node_with_many_pods_is_drawn_as_counts_and_a_click_zooms_in(page, lab):
    show_view(page, "architecture")
    node = page.eval_on_selector("#diagram .node.worker", "n => n.dataset.nodeName")
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "many"},
          "spec": {"replicas": 32, "selector": {"matchLabels": {"app": "many"}},
                   "template": {"metadata": {"labels": {"app": "many"}},
                                "spec": {"nodeSelector": {"kubernetes.io/hostname": node},
                                         "containers": [{"name": "app", "image": "nginx:1.27",
                                                         "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]}}}}
    status, body = api(lab, "POST", "/apis/apps/v1/namespaces/default/replicasets", rs)
    assert status == 201, body
    counts = f'#diagram .pod-counts[data-node="{node}"]'
    wait_js(page, f"""(() => {{ const c = document.querySelector('{counts}');
        return c && +c.dataset.total >= 32; }})()""", 30, message=f"{node}'s pods drawn as counts")
    assert node in page.get_attribute("#diagram", "data-aggregated").split(",")
    assert page.locator(f'#diagram .pod[data-node="{node}"]').count() == 0
    assert "click it to zoom in" in page.inner_text("#diagram-note")

    page.click(counts)
    wait_js(page, f"document.getElementById('diagram').dataset.zoom === '{node}'", 5, message="zoomed in")
    wait_js(page, f"""document.querySelectorAll('#diagram .pod[data-owner="ReplicaSet/many"]').length === 32""", 10,
            message="the node's pods one by one")
    # The other workers are hidden; the control plane stays, its pods counted.
    assert page.evaluate("[...document.querySelectorAll('#diagram g.node.worker')].map(n => n.dataset.nodeName)") == [node]
    assert page.locator("#diagram g.node.control-plane").count() >= 1
    assert page.is_visible("#diagram-zoom")
    blur(page)
    page.keyboard.press("Escape")
    wait_js(page, "document.getElementById('diagram').dataset.zoom === ''", 5, message="zoomed out")
    assert page.locator("#diagram g.node.worker").count() > 1
    api(lab, "DELETE", "/apis/apps/v1/namespaces/default/replicasets/many")


def test_a_long_scheduling_queue_shows_its_count_and_first_pods(page, lab):
    # Paused, so that no snapshot of the server's replaces the one fed here: 80 pods waiting.
    assert api(lab, "POST", "/sim/v1/clock", {"paused": True})[0] == 200
    wait_js(page, "document.getElementById('dashboard').dataset.paused === 'true'", 10, message="paused")
    page.evaluate("""() => {
      const p = window.pilothouse;
      const snapshot = structuredClone(p.diagram.snapshot);
      snapshot.pending = Array.from({length: 80}, (_, i) => ({name: `waiting-${i}`, namespace: 'default', phase: 'Pending'}));
      p.stream.receive({type: 'cluster.frame', frame: p.stream.last + 1, time: +document.getElementById('dashboard').dataset.time,
                        speed: 10, paused: true, pace: 1, events: [], omitted: 0, omittedLog: 0, snapshot});
    }""")
    assert page.get_attribute("#pending-queue", "data-count") == "80"
    assert page.get_attribute("#pending-queue", "data-shown") == "50"
    assert page.locator('#diagram .pod[data-node=""]').count() == 50
    assert "first 50 of 80 shown" in page.text_content("#pending-queue .queue-title")
    assert api(lab, "POST", "/sim/v1/clock", {"paused": False})[0] == 200


def test_aggregate_counts_every_node_of_a_large_cluster_and_uses_the_servers_counts(page):
    """static/js/aggregate.js on its own: past 30 nodes every node is counted; a node the server
    already counted keeps its counts; a zoom shows one worker with its chips and the control plane."""
    out = page.evaluate("""async () => {
      const { aggregate } = await import('/static/js/aggregate.js');
      const pod = (i, phase) => ({name: `p-${i}`, namespace: 'default', phase});
      const nodes = Array.from({length: 31}, (_, i) => ({name: `w-${i}`, role: 'worker', pods: [pod(i, 'Running')]}));
      nodes.push({name: 'cp', role: 'control-plane', pods: [pod('cp', 'Running')]});
      const big = aggregate({nodes, pending: []});
      const small = aggregate({nodes: [{name: 'w', role: 'worker', pods: [pod(1, 'Running'), {...pod(2, 'Running'), terminating: true}]},
                                       {name: 's', role: 'worker', podCounts: {Running: 700}, podTotal: 700}], pending: []});
      const zoomed = aggregate({nodes, pending: []}, {zoom: 'w-3'});
      return {bigCounted: big.aggregated.length, bigPods: big.snap.nodes.every((n) => n.pods.length === 0),
              firstCounts: big.snap.nodes[0].podCounts, smallAggregated: small.aggregated,
              smallPods: small.snap.nodes[0].pods.length, zoomNodes: zoomed.snap.nodes.map((n) => n.name),
              zoomPods: zoomed.snap.nodes.find((n) => n.name === 'w-3').pods.length, zoomed: zoomed.zoomed};
    }""")
    assert out["bigCounted"] == 32 and out["bigPods"] and out["firstCounts"] == {"Running": 1}
    assert out["smallAggregated"] == ["s"] and out["smallPods"] == 2
    assert out["zoomNodes"] == ["w-3", "cp"] and out["zoomPods"] == 1 and out["zoomed"] == "w-3"


def test_a_cluster_installed_by_hand_with_the_kubeadm_panel(browser, lab):
    """A cluster created with "install": "kubeadm": its hosts say they have no Node yet; the
    panel's buttons run kubeadm init (its output shown as it comes), apply the pod network and
    run kubeadm join with the token init printed, and the worker ends Ready in the diagram; with
    --upload-certs, a second host joins as a control-plane node with the certificate key init
    printed."""
    status, body = lab.request("POST", "/sim/v1/clusters", {"name": "by-hand", "install": "kubeadm", "nodes": [
        {"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}, {"name": "cp-2"}]})
    assert status == 201, body
    lab.request("POST", "/clusters/by-hand/sim/v1/clock", {"speed": 20})
    # A page of its own: until kubeadm init there is no API server, and the page's reads of it
    # are answered 503, which the browser logs (the module's page counts those as errors).
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_dashboard(page, lab, "by-hand")
    wait_js(page, "() => !document.getElementById('kubeadm-panel').hidden", 20, message="the kubeadm panel")
    assert "no Node" in page.evaluate(
        "() => document.querySelector('#diagram .node[data-node-name=\"worker-1\"]').textContent")
    page.check("#kubeadm-upload-certs")
    page.click('#kubeadm-panel [data-kubeadm="init"][data-node="cp-1"]')
    wait_js(page, "() => document.getElementById('kubeadm-output').textContent"
                  ".includes('Your Kubernetes control-plane has initialized successfully!')", 60,
            message="kubeadm init's output")
    assert "[bootstrap-token] Using token:" in page.inner_text("#kubeadm-output")
    wait_js(page, "() => !document.getElementById('btn-kubeadm-network').disabled", 20, message="the network step")
    page.click("#btn-kubeadm-network")
    wait_js(page, "() => document.getElementById('kubeadm-token').value.length === 23", 20, message="the token")
    wait_js(page, "() => !document.querySelector('[data-kubeadm=\"join\"][data-node=\"worker-1\"]').disabled", 20,
            message="the join button")
    page.click('#kubeadm-panel [data-kubeadm="join"][data-node="worker-1"]')
    wait_js(page, "() => document.querySelector('#diagram .node[data-node-name=\"worker-1\"]')?.dataset.ready === 'True'",
            90, message="worker-1 Ready after kubeadm join")
    assert "This node has joined the cluster:" in page.inner_text("#kubeadm-output")
    # kubeadm join --control-plane on cp-2, with the certificate key filled in from init's output.
    assert "--control-plane --certificate-key" in page.inner_text("#kubeadm-join-command")
    assert page.evaluate("() => document.getElementById('kubeadm-certificate-key').value.length") == 64
    page.check("#kubeadm-control-plane")
    page.click('#kubeadm-panel [data-kubeadm="join"][data-node="cp-2"]')
    wait_js(page, "() => document.getElementById('kubeadm-output').textContent"
                  ".includes('a new control plane instance was created')", 120, message="cp-2 joined the control plane")
    wait_js(page, "() => document.querySelector('#diagram .node[data-node-name=\"cp-2\"]')?.dataset.ready === 'True'",
            90, message="cp-2 Ready")
    context.close()
    assert not errors, errors


def run_command(page, line: str) -> tuple[str, str]:
    """Type `line` into the command bar (opened by ":") and wait for its answer: (outcome, text)."""
    if not page.is_visible("#command-bar"):
        blur(page)
        page.keyboard.press(":")
    wait_js(page, "document.activeElement?.id === 'command-input'", 5, message="the command bar open, its input focused")
    page.eval_on_selector("#command-bar", "el => { delete el.dataset.outcome; }")
    page.fill("#command-input", line)
    page.keyboard.press("Enter")
    wait_js(page, "['ok', 'error'].includes(document.getElementById('command-bar').dataset.outcome)", 15,
            message=f"the command bar's answer to {line!r}")
    return page.get_attribute("#command-bar", "data-outcome"), page.inner_text("#command-result")


def test_the_command_bar_acts_through_the_control_api_and_says_what_went_wrong(page, lab):
    status, clock = api(lab, "GET", "/sim/v1/clock")
    assert status == 200 and clock["paused"] is False
    assert run_command(page, "pause") == ("ok", "pause: done")
    assert api(lab, "GET", "/sim/v1/clock")[1]["paused"] is True
    assert run_command(page, "speed 4")[0] == "ok"
    assert api(lab, "GET", "/sim/v1/clock")[1]["speed"] == 4.0

    assert run_command(page, "kill node worker-2") == ("ok", "kill node worker-2: done")
    wait_js(page, "document.querySelector('#diagram [data-node-name=\"worker-2\"]')?.dataset.alive === 'false'", 10,
            message="worker-2 drawn powered off")
    assert run_command(page, "restore node worker-2")[0] == "ok"

    # Refusals in words: the API's Status message, or the bar's own for a line it cannot read.
    outcome, text = run_command(page, "kill node worker-9")
    assert outcome == "error" and 'node "worker-9" not found' in text, text
    outcome, text = run_command(page, "frobnicate now")
    assert outcome == "error" and 'unknown command "frobnicate"' in text
    outcome, text = run_command(page, '<img src=x onerror="document.body.dataset.pwned=1">')
    assert outcome == "error" and "<img" in text and page.evaluate("document.body.dataset.pwned") is None
    assert run_command(page, "help")[0] == "ok" and page.is_visible("#command-help")
    assert "kill node <node>" in page.inner_text("#command-help")

    # A view, and a kubectl line for the console.
    assert run_command(page, "view etcd")[0] == "ok"
    wait_js(page, f"{VIEW} === 'etcd'", 5, message="the etcd view")
    assert page.evaluate("location.pathname") == f"/clusters/{CLUSTER}/etcd"
    assert run_command(page, "kubectl get nodes")[0] == "ok"
    wait_js(page, "document.getElementById('console-output').textContent.includes('worker-2')", 30,
            message="kubectl's output in the console")
    page.click("#console-close")
    # Escape closes the bar; the clock goes on.
    page.focus("#command-input")
    page.keyboard.press("Escape")
    assert not page.is_visible("#command-bar")
    assert run_command(page, "resume")[0] == "ok"
    page.keyboard.press("Escape")
    show_view(page, "architecture")
