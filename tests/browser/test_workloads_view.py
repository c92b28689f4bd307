"""The Workloads view (issue 11), in a real browser: a Deployment's rolling update watched from
start to finish (the new ReplicaSet's pods rising while the old one's fall to 0, the pods never
beyond replicas + maxSurge), a rollback to a chosen revision, and an HorizontalPodAutoscaler
scaling its Deployment up under the load the page sets.  Every action goes through the page's
own forms; the page is followed on its DOM (static/js/workloads.js documents the attributes)."""
from __future__ import annotations

import pytest

from tests.browser.conftest import submit, wait_js
from tests.conftest import make_cluster

pytestmark = pytest.mark.services

CLUSTER = "wl"
SPEED = 10  # virtual seconds a wall second: a 4-replica rollout takes a few wall seconds

CARD = "#wl-body .wl-card[data-kind='{kind}'][data-name='{name}']"

# Samples of one Deployment's card, every 50 ms, into window.__samples: its ReplicaSets
# (revision, hash, image, pods, Ready chips) and its bounds.
RECORD_JS = """(name) => {
  window.__samples = [];
  const take = () => {
    const card = document.querySelector(`#wl-body .wl-card[data-kind=Deployment][data-name="${name}"]`);
    if (!card) return;
    const b = card.querySelector('.wl-bounds');
    window.__samples.push({
      rss: [...card.querySelectorAll('.wl-rs')].map((li) => ({
        rev: Number(li.dataset.revision), hash: li.dataset.hash, image: li.dataset.image,
        pods: Number(li.dataset.pods), ready: li.querySelectorAll('.wl-pod[data-state=Ready]').length})),
      pods: Number(b?.dataset.pods), maxPods: Number(b?.dataset.maxPods),
      available: Number(b?.dataset.available), minAvailable: Number(b?.dataset.minAvailable)});
  };
  take();
  window.__take = take;
  window.__recorder = setInterval(take, 50);
}"""

# The Deployment's ReplicaSet of that revision has `ready` Ready pods and every other one none.
SETTLED_JS = """([name, rev, ready]) => {
  const card = document.querySelector(`#wl-body .wl-card[data-kind=Deployment][data-name="${name}"]`);
  if (!card) return false;
  const rss = [...card.querySelectorAll('.wl-rs')];
  const mine = rss.find((li) => li.dataset.revision === String(rev));
  return !!mine && mine.querySelectorAll('.wl-pod[data-state=Ready]').length === ready
    && Number(mine.dataset.pods) === ready
    && rss.every((li) => li === mine || Number(li.dataset.pods) === 0);
}"""


@pytest.fixture(scope="module")
def cluster(browser_server):
    make_cluster(browser_server, CLUSTER, speed=SPEED)
    return browser_server


@pytest.fixture
def view(page, cluster):
    """The page opened on its Workloads view, by URL."""
    page.goto(f"{cluster.base}/clusters/{CLUSTER}/workloads")
    wait_js(page, "document.getElementById('dashboard')?.dataset.ws === 'open'", 20, message="the WebSocket")
    assert page.evaluate("document.getElementById('dashboard').dataset.view") == "workloads"
    assert page.is_visible("#workloads-panel") and not page.is_visible("#diagram")
    return page


def _create_deployment(page, name: str, replicas: int = 4, image: str = "nginx:1.26", cpu: str = "100m"):
    page.select_option("#wl-create-kind", "Deployment")
    form = "#wl-create-form"
    # The fields of other kinds (a Job's command, an HPA's target) are not sent.
    assert page.is_disabled(f"{form} [name=command]") and page.is_disabled(f"{form} [name=target]")
    page.fill(f"{form} [name=name]", name)
    page.fill(f"{form} [name=image]", image)
    page.fill(f"{form} [name=replicas]", str(replicas))
    page.fill(f"{form} [name=cpu]", cpu)
    kind, text = submit(page, form, "#btn-wl-create", "#wl-create-result")
    assert kind == "ok", text
    assert f"deployment.apps/{name} created" in text
    wait_js(page, SETTLED_JS, 60, arg=[name, 1, replicas], message=f"{name}: revision 1 with {replicas} Ready pods")


def _act(page, button: str) -> str:
    kind, text = submit(page, "#wl-actions-form", button, "#wl-action-result")
    assert kind == "ok", text
    return text


def _pick(page, kind: str, name: str):
    page.click(CARD.format(kind=kind, name=name) + " header")
    wait_js(page, f"document.getElementById('wl-name').value === '{name}'", 5, message=f"{name} picked")


def test_a_rolling_update_watched_from_start_to_finish(view):
    page = view
    _create_deployment(page, "web", replicas=4)
    card = CARD.format(kind="Deployment", name="web")
    # 4 replicas at the 25 % defaults: maxSurge 1 (rounded up), maxUnavailable 1 (rounded down).
    bounds = page.eval_on_selector(f"{card} .wl-bounds", "b => ({...b.dataset})")
    assert (bounds["maxPods"], bounds["minAvailable"]) == ("5", "3")
    old_hash = page.get_attribute(f"{card} .wl-rs[data-revision='1']", "data-hash")

    page.evaluate(RECORD_JS, "web")
    _pick(page, "Deployment", "web")
    page.fill("#wl-container", "")
    page.fill("#wl-image", "nginx:1.27")
    assert "image updated: nginx=nginx:1.27" in _act(page, "#btn-wl-image")
    wait_js(page, SETTLED_JS, 90, arg=["web", 2, 4], message="revision 2 with 4 Ready pods, revision 1 with none")
    # The settled state as the last sample (the interval's last may have come just before it).
    samples = page.evaluate("clearInterval(window.__recorder), window.__take(), window.__samples")

    def rs(sample, rev):
        return next((r for r in sample["rss"] if r["rev"] == rev), None)

    # The new ReplicaSet (a new template hash, the new image) rose while the old one fell.
    new = next(r for r in samples[-1]["rss"] if r["rev"] == 2)
    assert new["hash"] != old_hash and new["image"] == "nginx:1.27"
    rising = [rs(s, 2)["ready"] for s in samples if rs(s, 2)]
    falling = [rs(s, 1)["pods"] for s in samples if rs(s, 1)]
    assert rising[-1] == 4 and any(0 < n < 4 for n in rising), rising
    assert falling[0] == 4 and falling[-1] == 0 and any(0 < n < 4 for n in falling), falling
    # Both at once, mid-rollout: new pods up while old ones are still there.
    assert any(rs(s, 1) and rs(s, 2) and rs(s, 1)["pods"] and rs(s, 2)["ready"] for s in samples)
    # Never more pods than replicas + maxSurge, at any frame the page drew.
    assert all(s["pods"] <= s["maxPods"] for s in samples), [(s["pods"], s["maxPods"]) for s in samples]
    assert page.get_attribute(card, "data-revision") == "2"


def test_a_rollback_to_a_chosen_revision(view):
    page = view
    _create_deployment(page, "shop", replicas=3)
    card = CARD.format(kind="Deployment", name="shop")
    first_hash = page.get_attribute(f"{card} .wl-rs[data-revision='1']", "data-hash")
    _pick(page, "Deployment", "shop")
    page.fill("#wl-image", "nginx:1.27")
    _act(page, "#btn-wl-image")
    wait_js(page, SETTLED_JS, 90, arg=["shop", 2, 3], message="shop's revision 2 rolled out")

    # Pick revision 1 by clicking its ReplicaSet: the rollback form offers it.
    page.click(f"{card} .wl-rs[data-revision='1'] .wl-rs-head")
    assert page.input_value("#wl-revision") == "1"
    assert "rolled back to revision 1" in _act(page, "#btn-wl-rollback")
    # As upstream numbers it: the old template comes back under a new revision, 3, in its own
    # ReplicaSet (same template hash), and revision 1 is no more.
    wait_js(page, SETTLED_JS, 90, arg=["shop", 3, 3], message="the old template back as revision 3")
    rev3 = page.eval_on_selector(f"{card} .wl-rs[data-revision='3']", "li => ({...li.dataset})")
    assert rev3["hash"] == first_hash and rev3["image"] == "nginx:1.26"
    assert not page.query_selector(f"{card} .wl-rs[data-revision='1']")
    assert page.get_attribute(card, "data-revision") == "3"
    # Rolling back to what runs is skipped, in kubectl's words.
    page.select_option("#wl-revision", "3")
    assert "skipped rollback (current template already matches revision 3)" in _act(page, "#btn-wl-rollback")


def test_an_hpa_scales_its_deployment_up_under_load(view):
    """The HPA (autoscaling/v2, made by the Create form as `kubectl autoscale` makes it) reads
    the CPU the load generator's requests cost the pods (metrics-server) and scales up."""
    page = view
    _create_deployment(page, "busy", replicas=1, cpu="100m")
    page.select_option("#wl-create-kind", "HorizontalPodAutoscaler")
    form = "#wl-create-form"
    page.fill(f"{form} [name=name]", "busy")
    page.select_option(f"{form} [name=target_kind]", "Deployment")
    page.fill(f"{form} [name=target]", "busy")
    page.fill(f"{form} [name=min]", "1")
    page.fill(f"{form} [name=max]", "5")
    page.fill(f"{form} [name=cpu_percent]", "50")
    kind, text = submit(page, form, "#btn-wl-create", "#wl-create-result")
    assert kind == "ok", text
    hpa = CARD.format(kind="HorizontalPodAutoscaler", name="busy")
    page.wait_for_selector(hpa)

    _pick(page, "Deployment", "busy")
    page.fill("#wl-rps", "400")
    assert "load set to 400 requests/s" in _act(page, "#btn-wl-load")
    busy = CARD.format(kind="Deployment", name="busy")
    wait_js(page, f"document.querySelector(\"{busy}\")?.dataset.load === '400'", 10,
            message="the card showing the load it gets")
    # The HPA sees the CPU above its target and scales the Deployment up: the card's replicas
    # rise, its graph grows a step, and the Deployment's new pods come up.
    wait_js(page, f"Number(document.querySelector(\"{hpa}\")?.dataset.current) > 1", 90,
            message="the HPA scaling busy above 1 replica")
    metric = page.eval_on_selector(f"{hpa} .wl-metric[data-metric=cpu]", "m => ({...m.dataset})")
    assert metric["target"] == "50" and metric["current"] and float(metric["current"]) > 50, metric
    assert int(page.get_attribute(f"{hpa} .wl-graph", "data-points")) >= 2
    wait_js(page, f"Number(document.querySelector(\"{CARD.format(kind='Deployment', name='busy')}\")?.dataset.replicas) > 1",
            30, message="the Deployment's replicas raised by the HPA")


RS_YAML = """apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: plain
spec:
  replicas: 2
  selector: {matchLabels: {app: plain}}
  template:
    metadata: {labels: {app: plain}}
    spec: {containers: [{name: c, image: nginx}]}
"""


def test_views_by_key_yaml_create_and_edit_with_the_apis_errors(view):
    page = view
    # The keys switch views (and the URL follows); not while typing in a field.
    page.keyboard.press("a")
    wait_js(page, "document.getElementById('dashboard').dataset.view === 'architecture'", 5, message="key a")
    assert page.is_visible("#diagram") and not page.is_visible("#workloads-panel")
    assert page.evaluate("location.pathname") == f"/clusters/{CLUSTER}/"
    page.keyboard.press("w")
    wait_js(page, "document.getElementById('dashboard').dataset.view === 'workloads'", 5, message="key w")
    assert page.evaluate("location.pathname") == f"/clusters/{CLUSTER}/workloads"

    page.click("summary:has-text('Create from YAML')")
    page.fill("#wl-yaml", RS_YAML)
    kind, text = submit(page, "#wl-yaml-form", "#btn-wl-yaml", "#wl-yaml-result")
    assert kind == "ok" and "replicaset.apps/plain created" in text, text
    assert page.evaluate("document.getElementById('dashboard').dataset.view") == "workloads"
    rs = CARD.format(kind="ReplicaSet", name="plain")
    wait_js(page, f"document.querySelectorAll(\"{rs} .wl-pod[data-state=Ready]\").length === 2", 60,
            message="the bare ReplicaSet's 2 pods Ready")

    # Edit: picking the card fills the edit form; Load GETs it as YAML; an invalid change comes
    # back with the API's Status, one line per cause; a valid one is PUT.
    _pick(page, "ReplicaSet", "plain")
    page.click("summary:has-text('Edit any object')")
    assert page.input_value("#edit-kind") == "ReplicaSet" and page.input_value("#edit-name") == "plain"
    kind, text = submit(page, "#edit-form", "#btn-edit-load", "#edit-result")
    assert kind == "ok", text
    loaded = page.input_value("#edit-yaml")
    assert "kind: ReplicaSet" in loaded and "replicas: 2" in loaded and "managedFields" not in loaded
    page.fill("#edit-yaml", loaded.replace("replicas: 2", "replicas: -1", 1))
    kind, text = submit(page, "#edit-form", "#btn-edit-save", "#edit-result")
    assert kind == "error" and 'ReplicaSet.apps "plain" is invalid' in text, text
    assert page.get_attribute("#edit-result", "data-code") == "422"
    assert "spec.replicas" in page.inner_text("#edit-result .causes")
    page.fill("#edit-yaml", loaded.replace("replicas: 2", "replicas: 1", 1))
    kind, text = submit(page, "#edit-form", "#btn-edit-save", "#edit-result")
    assert kind == "ok" and "replicaset.apps/plain edited" in text, text
    wait_js(page, f"document.querySelector(\"{rs} .wl-rs\")?.dataset.pods === '1'", 60, message="scaled to 1 by the edit")

    # Drain the node of its pod: cordoned, the pod evicted (the eviction API), the ReplicaSet
    # makes another elsewhere; the node list says "cordoned" until Uncordon.
    node = page.get_attribute(f"{rs} .wl-pod[data-state=Ready]", "data-node")
    page.select_option("#wl-node-select", node)
    kind, text = submit(page, "#wl-node-form", "#btn-drain", "#wl-node-result")
    assert kind == "ok", text
    assert text.splitlines()[0] == f"node/{node} cordoned" and text.splitlines()[-1] == f"node/{node} drained"
    assert "evicting pod default/plain-" in text
    wait_js(page, f"[...document.querySelectorAll(\"{rs} .wl-pod[data-state=Ready]\")].some((p) => p.dataset.node !== '{node}')",
            60, message="the pod replaced on another node")
    wait_js(page, f"document.querySelector('#wl-node-select option[value=\"{node}\"]').textContent.includes('cordoned')", 10,
            message="the node listed as cordoned")
    kind, text = submit(page, "#wl-node-form", "#btn-uncordon", "#wl-node-result")
    assert kind == "ok" and text == f"node/{node} uncordoned", text

    # Delete with a cascade choice: Orphan keeps the pod, released by the garbage collector.
    page.select_option("#wl-cascade", "Orphan")
    assert "cascade Orphan" in _act(page, "#btn-wl-delete")
    wait_js(page, f"!document.querySelector(\"{rs}\")", 30, message="the ReplicaSet gone from the view")
