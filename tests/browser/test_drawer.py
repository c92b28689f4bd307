"""The object drawer (issue 13: "one object drawer" shared by every view), in a real browser: opened
from the Architecture diagram, the Workloads, Network, Scheduler and Objects views (Enter on a
focused object, a double-click, the pod's Details button), showing what the cluster's API says
(describe, the object's Events by field selector, its YAML), editing a label and saving it, an
owner reference followed, Escape closing it with the focus given back; a viewer's drawer is
read-only and opens with the presenter's; hostile strings stay text.

One server and one small owned cluster for the module: the presenter's page and the viewer's
page are each opened once."""
from __future__ import annotations

import pytest

from tests.browser.conftest import new_context, wait_js
from tests.conftest import wait_nodes_ready, wait_until

pytestmark = pytest.mark.services

CLUSTER = "drawer"
SMALL = [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]
HOSTILE_IMAGE = '"><img src=x onerror="document.body.dataset.pwned=1">'
HOSTILE_NOTE = "<script>document.body.dataset.pwned=2</script><img src=x onerror=alert(1)>"
DRAWER = "document.getElementById('object-drawer')"
EXPECTED = ["status of 4", "Response Status Error"]


def _page(browser, url: str):
    context = new_context(browser)
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(f"pageerror: {e}"))
    pg.on("console", lambda m: pg.errors.append(f"console.{m.type}: {m.text}")
          if m.type == "error" and not any(x in m.text for x in EXPECTED) else None)
    pg.goto(url)
    wait_js(pg, "document.getElementById('dashboard')?.dataset.ws === 'open'", 20, message="the page's socket")
    return context, pg


@pytest.fixture(scope="module")
def lab(browser_server):
    """The owned cluster, its presenter's token, and what the tests open: a Deployment of 2, a
    ConfigMap, a Service, a pod no node can take, and a pod with hostile strings."""
    server = browser_server
    status, body = server.request("POST", "/sim/v1/clusters", {"name": CLUSTER, "nodes": SMALL, "access": "owned"})
    assert status == 201, body
    token = body["token"]
    assert server.request("POST", f"/clusters/{CLUSTER}/sim/v1/clock", {"speed": 5}, token=token)[0] == 200
    wait_until(lambda: server.request("GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/serviceaccounts/default",
                                      token=token)[0] == 200, timeout=30, interval=0.1, message="the default ServiceAccount")
    wait_nodes_ready(server, CLUSTER, token=token)

    def create(path, obj):
        status, body = server.request("POST", f"/clusters/{CLUSTER}{path}", obj, token=token)
        assert status == 201, body

    labels = {"app": "web"}
    create("/apis/apps/v1/namespaces/default/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}})
    create("/api/v1/namespaces/default/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": labels, "ports": [{"port": 80}]}})
    create("/api/v1/namespaces/default/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "labels": {"tier": "a"}},
        "data": {"k": "v"}})
    create("/api/v1/namespaces/default/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck"},
        "spec": {"nodeSelector": {"disk": "none-has-it"}, "containers": [{"name": "c", "image": "nginx:1.27"}]}})
    create("/api/v1/namespaces/default/pods", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "hostile", "labels": {"app": "x"}, "annotations": {"note": HOSTILE_NOTE}},
        "spec": {"containers": [{"name": "c", "image": HOSTILE_IMAGE}]}})
    create("/api/v1/namespaces/default/events", {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "hostile.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "hostile", "namespace": "default"},
        "reason": "Hostile", "message": HOSTILE_NOTE, "type": "Warning"})
    return server, token


@pytest.fixture(scope="module")
def presenter(browser, lab):
    server, token = lab
    context, pg = _page(browser, f"{server.base}/clusters/{CLUSTER}/?token={token}")
    assert pg.get_attribute("#access", "data-role") == "presenter"
    wait_js(pg, "document.querySelectorAll('#diagram .pod[data-owner^=\"ReplicaSet/web\"]').length === 2", 60,
            message="the Deployment's two pods")
    yield pg
    context.close()
    assert not pg.errors, "JavaScript errors on the presenter's page:\n" + "\n".join(pg.errors)


@pytest.fixture(scope="module")
def viewer(browser, lab):
    server, _ = lab
    context, pg = _page(browser, f"{server.base}/clusters/{CLUSTER}/")
    assert pg.get_attribute("#access", "data-role") == "viewer"
    yield pg
    context.close()
    assert not pg.errors, "JavaScript errors on the viewer's page:\n" + "\n".join(pg.errors)


def opened(page, ref: str, timeout: float = 20):
    """Until the drawer shows `ref`, read (describe and events)."""
    wait_js(page, f"{DRAWER}.dataset.ref === {ref!r} && {DRAWER}.dataset.state === 'loaded' && !{DRAWER}.hidden",
            timeout, message=f"the drawer on {ref}")


def yaml_loaded(page, kind: str):
    wait_js(page, f"(document.getElementById('drawer-yaml')?.value || '').includes('kind: {kind}')", 20,
            message=f"the drawer's YAML of a {kind}")


def close_with_escape(page, opener_js: str):
    page.keyboard.press("Escape")
    wait_js(page, f"{DRAWER}.hidden", 5, message="Escape to close the drawer")
    assert page.evaluate(f"document.activeElement === ({opener_js})"), "the focus went back to the opener"


def lab_get(page, path: str):
    """The presenter page's own read of the cluster's API (its cookie is the presenter's token)."""
    return page.evaluate("""async (path) => (await fetch(`/clusters/drawer${path}`)).json()""", path)


def key(page, k: str):
    page.evaluate("document.activeElement?.blur()")
    page.keyboard.press(k)


def double_click_open(page, view_key: str, selector: str, ref: str, corner: int):
    """Switch to the view of `view_key`, double-click the object at `selector` (`corner` pixels
    in from its top left, clear of its buttons) and wait until the drawer shows `ref`."""
    key(page, view_key)
    page.wait_for_selector(selector)
    page.dblclick(selector, position={"x": corner, "y": corner})
    opened(page, ref)


def test_a_pod_in_the_diagram_by_enter_its_events_and_yaml_then_escape(presenter):
    pg = presenter
    key(pg, "a")
    pod = pg.evaluate("document.querySelector('#diagram .pod[data-owner^=\"ReplicaSet/web\"]').dataset.pod")
    sel = f'#diagram .pod[data-pod="{pod}"]'
    # Scheduled, so that it has Events.
    wait_js(pg, f"document.querySelector('{sel}').dataset.node", 30, message="the pod scheduled")
    pg.focus(sel)
    pg.keyboard.press("Enter")
    opened(pg, f"pods:{pod}")
    # The focus moved into the drawer, with a ring to show it.
    assert pg.evaluate(f"{DRAWER}.contains(document.activeElement)")
    outline = pg.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    assert pg.inner_text("#drawer-kind") == "Pod" and pg.inner_text("#drawer-name") == pod
    assert pg.inner_text("#drawer-age").startswith("age ")
    # describe: as the API has it.
    api = lab_get(pg, f"/api/v1/namespaces/{pod.replace('/', '/pods/')}")
    assert pg.inner_text('#drawer-describe dd[data-field="node"]') == api["spec"]["nodeName"]
    wait_js(pg, "document.querySelector('#drawer-describe dd[data-field=\"phase\"]')?.textContent === 'Running'", 30,
            message="the pod's phase, read again as it changes")
    assert "app=web" in pg.inner_text("#drawer-describe .drawer-labels")
    assert pg.locator("#drawer-describe li.container[data-container=c]").count() == 1
    # Its Events (Scheduled at least), read by field selector.
    wait_js(pg, f"Number({DRAWER}.dataset.events) > 0", 20, message="the pod's events")
    assert pg.locator('#drawer-events li.event[data-reason="Scheduled"]').count() >= 1
    yaml_loaded(pg, "Pod")
    # The owner is a button: it opens the ReplicaSet.
    pg.click("#drawer-describe button.drawer-owner[data-owner-kind=ReplicaSet]")
    wait_js(pg, f"({DRAWER}.dataset.ref || '').startsWith('replicasets.apps:default/web-') && "
                f"{DRAWER}.dataset.state === 'loaded'", 20, message="the owner in the drawer")
    assert pg.inner_text('#drawer-describe dd[data-field="desired"]') == "2"
    close_with_escape(pg, f"document.querySelector('{sel}')")
    # The pod's Details button opens it too.
    pg.click(sel)
    pg.click("#pod-details button.pod-drawer")
    opened(pg, f"pods:{pod}")
    pg.click("#drawer-close")
    wait_js(pg, f"{DRAWER}.hidden", 5, message="the close button")


def test_a_double_click_on_a_pod_at_1280x720_opens_it_without_moving_the_page(presenter):
    """The first click of a double-click picks the pod, and the pick moves the focus to the delete
    form's button: at 1280x720 that scrolled the page, and the second click landed elsewhere."""
    pg = presenter
    key(pg, "a")
    pg.set_viewport_size({"width": 1280, "height": 720})
    try:
        pod = pg.evaluate("document.querySelector('#diagram .pod[data-owner^=\"ReplicaSet/web\"]').dataset.pod")
        sel = f'#diagram .pod[data-pod="{pod}"]'
        pg.locator(sel).scroll_into_view_if_needed()
        before = pg.evaluate("window.scrollY")
        pg.dblclick(sel)
        opened(pg, f"pods:{pod}")
        assert pg.evaluate("window.scrollY") == before
        pg.click("#drawer-close")
        wait_js(pg, f"{DRAWER}.hidden", 5, message="the close button")
    finally:
        pg.set_viewport_size({"width": 1600, "height": 1000})


def test_a_deployment_in_workloads_by_double_click_and_show_in_objects(presenter):
    pg = presenter
    double_click_open(pg, "w", "#wl-body .wl-card[data-kind=Deployment][data-name=web]", "deployments.apps:default/web", 8)
    assert pg.inner_text("#drawer-kind") == "Deployment"
    assert pg.inner_text('#drawer-describe dd[data-field="desired"]') == "2"
    wait_js(pg, "document.querySelector('#drawer-describe dd[data-field=\"ready\"]')?.textContent === '2'", 30,
            message="the Deployment's ready replicas read again as they come")
    wait_js(pg, f"Number({DRAWER}.dataset.events) > 0", 20, message="the Deployment's ScalingReplicaSet event")
    assert pg.locator('#drawer-events li.event[data-reason="ScalingReplicaSet"]').count() >= 1
    yaml_loaded(pg, "Deployment")
    pg.click("#drawer-show-objects")
    wait_js(pg, "document.getElementById('dashboard').dataset.view === 'objects'", 5, message="the Objects view")
    wait_js(pg, "document.querySelector('#objects-table[data-resource=\"deployments.apps\"] "
                "tr[data-name=web][aria-selected=true]')", 10, message="the Deployment's row marked")
    pg.click("#drawer-close")


def test_an_objects_row_by_enter_edit_a_label_and_save(presenter, lab):
    server, token = lab
    pg = presenter
    key(pg, "o")
    pg.click('#kinds-table tr[data-resource="configmaps"]')
    row = '#objects-table tr[data-namespace=default][data-name=settings]'
    pg.wait_for_selector(row)
    pg.focus(row)
    pg.keyboard.press("Enter")
    opened(pg, "configmaps:default/settings")
    assert "tier=a" in pg.inner_text("#drawer-describe .drawer-labels")
    yaml_loaded(pg, "ConfigMap")
    text = pg.input_value("#drawer-yaml")
    assert "tier: a" in text
    pg.fill("#drawer-yaml", text.replace("tier: a", "tier: b"))
    pg.eval_on_selector("#drawer-result", "el => { el.className = 'result'; el.textContent = ''; }")
    pg.click("#drawer-save")
    pg.wait_for_selector("#drawer-result.ok, #drawer-result.error")
    assert "ok" in pg.get_attribute("#drawer-result", "class"), pg.inner_text("#drawer-result")
    status, body = server.request("GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/configmaps/settings",
                                  token=token)
    assert status == 200 and body["metadata"]["labels"] == {"tier": "b"}
    # The describe follows (read again on a later frame).
    wait_js(pg, "document.querySelector('#drawer-describe .drawer-labels')?.textContent.includes('tier=b')", 20,
            message="the new label in the describe")
    close_with_escape(pg, f"document.querySelector('{row}')")


def test_a_service_in_network_and_a_pending_pod_in_scheduler(presenter):
    pg = presenter
    double_click_open(pg, "t", '#network-panel .nv-svc[data-service="default/web"]', "services:default/web", 6)
    assert "app=web" in pg.inner_text("#drawer-describe")
    pg.click("#drawer-close")
    key(pg, "s")
    queued = '#sched-queue li[data-pod="default/stuck"]'
    pg.wait_for_selector(queued, timeout=30000)
    pg.focus(queued)
    pg.keyboard.press("Enter")
    opened(pg, "pods:default/stuck")
    assert pg.inner_text('#drawer-describe dd[data-field="node"]') == "<none>"
    wait_js(pg, "document.querySelector('#drawer-events li.event[data-reason=\"FailedScheduling\"]')", 20,
            message="the pending pod's FailedScheduling event")
    close_with_escape(pg, f"document.querySelector('{queued}')")


def test_hostile_strings_in_the_drawer_stay_text(presenter):
    pg = presenter
    pg.evaluate("window.pilothouse.drawer.open('pods:default/hostile')")
    opened(pg, "pods:default/hostile")
    wait_js(pg, f"Number({DRAWER}.dataset.events) > 0", 20, message="the hostile event")
    yaml_loaded(pg, "Pod")
    assert HOSTILE_NOTE in pg.inner_text("#drawer-describe .drawer-annotations")
    assert HOSTILE_NOTE in pg.inner_text("#drawer-events")
    wait_js(pg, "document.querySelector('#drawer-describe li.container')", 20, message="the container")
    assert HOSTILE_IMAGE in pg.inner_text("#drawer-describe li.container")
    assert pg.locator("#object-drawer img, #object-drawer script").count() == 0
    assert pg.evaluate("document.body.dataset.pwned") is None
    pg.click("#drawer-close")


def test_delete_from_the_drawer(presenter, lab):
    server, token = lab
    pg = presenter
    pg.evaluate("window.pilothouse.drawer.open('pods:default/stuck')")
    opened(pg, "pods:default/stuck")
    pg.click("#drawer-delete")   # arms it
    assert "sure?" in pg.inner_text("#drawer-delete")
    pg.click("#drawer-delete")
    pg.wait_for_selector("#drawer-delete-result.ok, #drawer-delete-result.error")
    assert pg.inner_text("#drawer-delete-result") == 'pod "stuck" deleted'
    wait_until(lambda: server.request("GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/pods/stuck",
                                      token=token)[0] == 404, timeout=30, message="the pod gone")
    # Once more: the API's refusal, its Status message shown as text.
    pg.eval_on_selector("#drawer-delete-result", "el => { el.className = 'result'; el.textContent = ''; }")
    pg.click("#drawer-delete")
    pg.click("#drawer-delete")
    pg.wait_for_selector("#drawer-delete-result.error")
    assert pg.inner_text("#drawer-delete-result") == 'pods "stuck" not found'
    pg.click("#drawer-close")


def test_the_viewer_drawer_is_read_only_and_follows_the_presenter(presenter, viewer):
    # Read-only: no Save, no Delete, the YAML not editable.
    viewer.evaluate("window.pilothouse.drawer.open('configmaps:default/settings')")
    opened(viewer, "configmaps:default/settings")
    yaml_loaded(viewer, "ConfigMap")
    assert viewer.locator("#drawer-save, #drawer-delete").count() == 0
    assert viewer.evaluate("document.getElementById('drawer-yaml').readOnly")
    viewer.click("#drawer-close")
    # The presenter opens a drawer: the viewer's opens on the same object, and closes with it.
    assert viewer.is_checked("#follow-presenter")
    key(presenter, "w")
    card = "#wl-body .wl-card[data-kind=Deployment][data-name=web]"
    presenter.focus(card)
    presenter.keyboard.press("Enter")
    opened(presenter, "deployments.apps:default/web")
    wait_js(viewer, "document.getElementById('dashboard').dataset.followedSelection === "
                    "'drawer:deployments.apps:default/web'", 15, message="the presenter's drawer to reach the viewer")
    opened(viewer, "deployments.apps:default/web")
    assert viewer.get_attribute("#dashboard", "data-view") == "workloads"
    presenter.keyboard.press("Escape")
    wait_js(viewer, f"{DRAWER}.hidden", 15, message="the viewer's drawer to close with the presenter's")
