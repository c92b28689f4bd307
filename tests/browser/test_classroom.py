"""The classroom in a real browser (issue 13): a viewer's page follows the presenter's view and
selection live and cannot change anything; a sandbox made from the index page hands out a
kubeconfig (and its students theirs) that the real kubectl uses; hostile strings stay text.

One server for the module; one small owned cluster; the open demo for the hostile strings."""
from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from cluster.console.kubeconfig import kubectl_binary
from tests.browser.conftest import new_context, open_dashboard, wait_js
from tests.browser.test_console import run
from tests.conftest import wait_nodes_ready, wait_until

CLASS = "classroom"
SMALL = [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]
pytestmark = pytest.mark.services
HOSTILE_IMAGE = '"><img src=x onerror="document.body.dataset.pwned=1">'
HOSTILE_NOTE = "<script>document.body.dataset.pwned=2</script><img src=x onerror=alert(1)>"
HOSTILE_OWNER = '"><img src=x onerror=alert(2)>'   # an owner's name is at most 63 characters


@pytest.fixture(scope="module")
def owned(browser_server):
    """The owned cluster and its presenter's token (the creation's answer)."""
    status, body = browser_server.request("POST", "/sim/v1/clusters", {"name": CLASS, "nodes": SMALL,
                                                                       "access": "owned"})
    assert status == 201, body
    token = body["token"]
    status, _ = browser_server.request("POST", f"/clusters/{CLASS}/sim/v1/clock", {"speed": 5}, token=token)
    assert status == 200
    wait_until(lambda: browser_server.request("GET", f"/clusters/{CLASS}/api/v1/namespaces/default/serviceaccounts/"
                                                     "default", token=token)[0] == 200,
               timeout=30, interval=0.1, message="the owned cluster's default ServiceAccount")
    return token


@pytest.fixture
def presenter(browser, browser_server, owned):
    """A second browser (its own cookies) that opened the presenter link."""
    context = new_context(browser)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{browser_server.base}/clusters/{CLASS}/?token={owned}")
    wait_js(pg, "document.getElementById('dashboard')?.dataset.ws === 'open'", 20, message="the presenter's socket")
    assert pg.url == f"{browser_server.base}/clusters/{CLASS}/"   # the token left the address bar
    yield pg
    context.close()
    assert not errors, errors


def kubectl(config: dict, tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    path = tmp_path / f"config-{abs(hash(json.dumps(config))) % 10**8}"
    path.write_text(json.dumps(config))
    out = subprocess.run([str(kubectl_binary()), "--kubeconfig", str(path), *args], capture_output=True, text=True,
                         timeout=60, env={"HOME": str(tmp_path), "PATH": "/nonexistent"})
    if check:
        assert out.returncode == 0, (args, out.stderr)
    return out


def test_a_viewer_follows_the_presenter_and_cannot_change_anything(page, presenter, browser_server, owned):
    assert presenter.get_attribute("#access", "data-role") == "presenter"
    assert presenter.locator("#create-pod-form").count() == 1
    open_dashboard(page, browser_server, CLASS)
    assert page.get_attribute("#access", "data-role") == "viewer"
    assert "viewer: you watch, read-only" in page.inner_text("#role-badge")
    # No control at all: no form or button that posts, no clock controls, no cluster menu.
    assert page.locator("[hx-post], form[method=post]").count() == 0
    assert page.locator("#btn-pause, #cluster-menu, #kubeconfig-link, #student-form, #command-bar, #btn-command").count() == 0
    assert page.is_checked("#follow-presenter")

    # The APIs refuse the viewer's writes with a Status, whatever the page's scripts try.
    refused = page.evaluate("""async (cluster) => {
        const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
        const a = await fetch(`/clusters/${cluster}/sim/v1/clock`, {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: '{"paused": true}'});
        const b = await fetch(`/clusters/${cluster}/dashboard/clock`, {method: 'POST',
            headers: {'X-CSRFToken': csrf, 'Content-Type': 'application/x-www-form-urlencoded'}, body: 'paused=true'});
        const c = await fetch(`/sim/v1/clusters/${cluster}/kubeconfig`);
        return [a.status, (await a.json()).kind, b.status, (await b.json()).reason, c.status];
    }""", CLASS)
    assert refused == [403, "Status", 403, "Forbidden", 403]
    assert browser_server.request("GET", f"/clusters/{CLASS}/sim/v1/clock")[1]["paused"] is False

    # The presenter's actions show live on the viewer's page ...
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lesson-1"},
           "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
    status, body = browser_server.request("POST", f"/clusters/{CLASS}/api/v1/namespaces/default/pods", pod,
                                          token=owned)
    assert status == 201, body
    for pg in (presenter, page):
        wait_js(pg, "document.querySelector('#diagram .pod[data-pod=\"default/lesson-1\"]')", 30,
                message="the presenter's pod on the page")
    # ... and so do their view and selection.
    presenter.keyboard.press("w")
    wait_js(page, "document.getElementById('dashboard').dataset.view === 'workloads'", 10,
            message="the viewer to follow to the Workloads view")
    assert page.url.endswith(f"/clusters/{CLASS}/workloads")
    presenter.keyboard.press("a")
    wait_js(page, "document.getElementById('dashboard').dataset.view === 'architecture'", 10,
            message="the viewer to follow back to the Architecture view")
    presenter.click('#diagram .pod[data-pod="default/lesson-1"]')
    wait_js(page, "document.getElementById('dashboard').dataset.followedSelection === 'pod:default/lesson-1'", 10,
            message="the viewer to follow the presenter's selection")
    assert page.get_attribute('#diagram .pod[data-pod="default/lesson-1"]', "class").split().count("selected") == 1

    # Unticked, the viewer stays where they are while the presenter moves on.
    page.uncheck("#follow-presenter")
    presenter.keyboard.press("t")   # the Network view's key
    wait_js(page, "document.getElementById('dashboard').dataset.presenterView === 'network'", 10,
            message="the presenter's next view to reach the viewer")
    assert page.get_attribute("#dashboard", "data-view") == "architecture"
    # Ticked again, it catches up.
    page.check("#follow-presenter")
    wait_js(page, "document.getElementById('dashboard').dataset.view === 'network'", 10,
            message="the viewer to catch up")


def test_a_viewer_s_objects_view_shows_what_rbac_lets_a_viewer_see(page, browser_server, owned):
    """The Objects view reads as the visitor: a viewer (impersonated as pilothouse:viewer, bound
    to `view`) browses ConfigMaps, and listing Secrets shows RBAC's refusal, as text."""
    for kind, body in (("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "notes"},
                                       "data": {"text": "visible"}}),
                       ("secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-pass"},
                                    "stringData": {"password": "hunter2"}})):
        status, out = browser_server.request("POST", f"/clusters/{CLASS}/api/v1/namespaces/default/{kind}", body,
                                             token=owned)
        assert status == 201, out
    open_dashboard(page, browser_server, CLASS)
    page.keyboard.press("o")
    wait_js(page, "!!document.querySelector('#kinds-table tr[data-resource=configmaps]')", 15, message="the kinds")
    page.click("#kinds-table tr[data-resource=configmaps]")
    row = "#objects-table tr[data-namespace=default][data-name=notes]"
    page.wait_for_selector(row, timeout=10_000)
    page.click(row)
    wait_js(page, "document.getElementById('obj-yaml')?.value.includes('text: visible')", 10, message="its YAML")
    page.click("#kinds-table tr[data-resource=secrets]")
    wait_js(page, "document.getElementById('objects-list-result')?.textContent.includes('forbidden')", 10,
            message="RBAC's refusal of the viewer's list of Secrets")
    text = page.inner_text("#objects-list-result")
    assert 'User "pilothouse:viewer" cannot list resource "secrets"' in text, text
    assert page.locator("#objects-table tr[data-name=db-pass]").count() == 0
    assert "hunter2" not in page.content()


def test_a_sandbox_s_kubeconfig_and_its_student_s_work_with_kubectl(page, browser_server, tmp_path):
    page.goto(browser_server.base + "/")
    page.fill("#sandbox-form [name=owner]", "Ada")
    page.select_option("#sandbox-form [name=workers]", "1")
    page.select_option("#sandbox-form [name=topology]", "single")
    page.click("#btn-sandbox-create")
    page.wait_for_url(f"{browser_server.base}/clusters/ada-sandbox/", timeout=30_000)
    wait_js(page, "document.getElementById('dashboard')?.dataset.ws === 'open'", 20, message="the sandbox's socket")
    assert page.get_attribute("#access", "data-role") == "presenter"
    page.click("#access-menu summary")
    assert page.inner_text("#cluster-owner") == "Ada"

    # The owner's kubeconfig, as the page's link downloads it, drives the sandbox with kubectl.
    with page.expect_download() as download:
        page.click("#kubeconfig-link")
    config = json.loads(Path(download.value.path()).read_text())
    assert config["clusters"][0]["cluster"]["server"].startswith("https://")
    wait_until(lambda: "Ready" in kubectl(config, tmp_path, "get", "nodes", check=False).stdout, timeout=60,
               interval=0.5, message="the sandbox's nodes Ready through kubectl")
    assert "kubernetes-admin" in kubectl(config, tmp_path, "auth", "whoami").stdout

    # A student of the sandbox: their kubeconfig from the page is theirs, held to `edit` in
    # their own namespace.
    wait_until(lambda: "edit" in kubectl(config, tmp_path, "get", "clusterrole", "edit", check=False).stdout,
               timeout=30, interval=0.2, message="the default roles")
    page.fill("#student-form [name=student]", "bob")
    page.click("#btn-student")
    page.wait_for_selector("#student-result .student-kubeconfig", timeout=20_000)
    href = page.get_attribute("#student-result .student-kubeconfig", "href")
    student = json.loads(base64.b64decode(href.split(",", 1)[1]))
    page.wait_for_selector('#students li[data-student="bob"]', timeout=10_000)   # the list follows
    assert "system:serviceaccount:student-bob:bob" in kubectl(student, tmp_path, "auth", "whoami").stdout
    wait_until(lambda: kubectl(student, tmp_path, "auth", "can-i", "create", "pods", check=False).stdout.strip()
               == "yes", timeout=30, interval=0.3, message="edit's aggregated rules for the student")
    kubectl(student, tmp_path, "run", "mine", "--image=nginx")
    denied = kubectl(student, tmp_path, "run", "theirs", "--image=nginx", "-n", "default", check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr

    # The teacher's list shows the sandbox, its owner and state.
    page.goto(browser_server.base + "/")
    row = page.locator('#sandbox-list tr[data-row="ada-sandbox"]')
    assert "Ada" in row.inner_text() and row.get_attribute("data-state") in ("running", "paused")


def test_hostile_strings_stay_text(page, browser_server):
    wait_nodes_ready(browser_server, "demo")   # its default namespace and nodes, before the pod
    dialogs: list[str] = []

    def on_dialog(d):
        dialogs.append(d.message)
        d.dismiss()
    page.on("dialog", on_dialog)
    try:
        hostile_strings_stay_text(page, browser_server, dialogs)
    finally:
        page.remove_listener("dialog", on_dialog)  # the module's page goes on to other tests


def hostile_strings_stay_text(page, browser_server, dialogs: list[str]) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "hostile", "labels": {"app": "x"}, "annotations": {"note": HOSTILE_NOTE}},
           "spec": {"containers": [{"name": "c", "image": HOSTILE_IMAGE}]}}
    status, body = browser_server.request("POST", "/clusters/demo/api/v1/namespaces/default/pods", pod)
    assert status == 201, body
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "hostile.1", "namespace": "default"},
             "involvedObject": {"kind": "Pod", "name": "hostile", "namespace": "default"},
             "reason": "Hostile", "message": HOSTILE_NOTE, "type": "Warning"}
    status, body = browser_server.request("POST", "/clusters/demo/api/v1/namespaces/default/events", event)
    assert status == 201, body
    status, body = browser_server.request("POST", "/sim/v1/clusters", {"name": "hostile-sandbox", "owner": HOSTILE_OWNER,
                                                                       "nodes": SMALL, "access": "owned"})
    assert status == 201, body

    open_dashboard(page, browser_server, "demo")
    wait_js(page, "document.querySelector('#diagram .pod[data-pod=\"default/hostile\"]')", 30,
            message="the hostile pod on the page")
    page.click('#diagram .pod[data-pod="default/hostile"]')
    # The pod's details show its image as text.
    wait_js(page, "(s) => document.getElementById('pod-details').textContent.includes(s)", 20, arg=HOSTILE_IMAGE,
            message="the image in the pod's details")
    wait_js(page, "(s) => document.getElementById('event-log').textContent.includes(s)", 30, arg=HOSTILE_NOTE,
            message="the hostile event message in the log")
    assert_inert(page, dialogs)
    page.goto(browser_server.base + "/")
    assert HOSTILE_OWNER in page.inner_text('#sandbox-list tr[data-row="hostile-sandbox"]')
    assert_inert(page, dialogs)
    page.goto(browser_server.base + "/clusters/hostile-sandbox/")
    page.click("#access-menu summary")
    assert page.inner_text("#cluster-owner") == HOSTILE_OWNER
    assert_inert(page, dialogs)


def assert_inert(page, dialogs: list[str]) -> None:
    """No dialog opened, no injected script ran, no injected element exists."""
    assert dialogs == []
    assert page.evaluate("document.body.dataset.pwned") is None
    injected = page.evaluate("""() => [...document.querySelectorAll('img[src="x"]')].length +
        [...document.scripts].filter(s => s.type !== 'application/json' && s.textContent.includes('pwned')).length""")
    assert injected == 0


def test_the_console_runs_kubectl_as_whoever_opened_the_page(page, presenter, browser_server):
    presenter.goto(f"{browser_server.base}/clusters/{CLASS}/console")
    wait_js(presenter, "() => !document.getElementById('console-panel').hidden", 10, message="the console open")
    text = run(presenter, "kubectl auth whoami")
    assert "kubernetes-admin" in text and "exit code 0" in text
    # An anonymous watcher's kubectl is anonymous, which the owned cluster's API server refuses.
    page.goto(f"{browser_server.base}/clusters/{CLASS}/console")
    wait_js(page, "() => !document.getElementById('console-panel').hidden", 10, message="the console open")
    text = run(page, "kubectl get pods")
    assert "Error from server (Forbidden)" in text and "exit code 1" in text
