"""The Lessons panel in a real browser: the list by chapter, a lesson started on the cluster,
its first step's components highlighted in the diagram, the presenter's "n" key running a step's
action (the pod it creates appears in the API) and moving on once its check holds, and a
question's answer revealed on click.  The panel is followed on its DOM (static/js/lessons.js
documents the attributes); every wait is on a condition with a bound."""
from __future__ import annotations

import pytest

from tests.browser.conftest import wait_js
from tests.conftest import wait_until

pytestmark = pytest.mark.services

CLUSTER = "lessonsb"
SPEC = {"etcd": {"members": 1}, "nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]}


@pytest.fixture(scope="module")
def server(browser_server):
    status, body = browser_server.request("POST", "/sim/v1/clusters", {"name": CLUSTER, **SPEC})
    assert status in (201, 409), body
    wait_until(lambda: browser_server.request("GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/serviceaccounts/default")[0]
               == 200, timeout=30, interval=0.05, message=f"cluster {CLUSTER} bootstrapped")
    assert browser_server.request("POST", f"/clusters/{CLUSTER}/sim/v1/clock", {"speed": 5})[0] == 200
    return browser_server


def test_a_lesson_plays_a_step_and_highlights_its_components(page, server):
    page.goto(f"{server.base}/clusters/{CLUSTER}/lessons")
    wait_js(page, "document.getElementById('dashboard')?.dataset.ws === 'open'", 20, message="the WebSocket")
    assert page.evaluate("document.getElementById('dashboard').dataset.view") == "lessons"
    page.wait_for_selector("#lesson-list .lesson-chapter[data-chapter='etcd'] .lesson-item[data-lesson='etcd-raft']",
                           timeout=20_000)
    chapters = page.eval_on_selector_all("#lesson-list .lesson-chapter", "els => els.map(e => e.dataset.chapter)")
    assert chapters[:5] == ["containers", "orchestration", "features", "architecture", "etcd"]

    page.click("[data-start='architecture-request-path']")
    wait_js(page, "document.getElementById('lessons-panel').dataset.lesson === 'architecture-request-path'", 20,
            message="the lesson to start")
    assert page.inner_text("#lesson-step-title") == "The control plane"
    assert "kube-apiserver" in page.inner_text("#lesson-narration")
    # The step's components carry the highlight in the diagram.
    wait_js(page, "document.querySelector('#diagram [data-addr=\"kube-apiserver@cp-1\"]')?.classList.contains('lesson-highlight')",
            20, message="kube-apiserver@cp-1 highlighted")
    assert page.evaluate("document.querySelector('#diagram [data-addr=\"kubelet@worker-1\"]')"
                         "?.classList.contains('lesson-highlight')") is False

    # Step 1 holds (worker-1 is Ready): "n" moves on; step 2's "n" runs its action.
    wait_js(page, "document.querySelector('#lesson-checks li')?.dataset.ok === 'true'", 30,
            message="step 1's check to hold")
    page.keyboard.press("n")
    wait_js(page, "document.getElementById('lessons-panel').dataset.step === '2'", 20, message="step 2")
    assert page.inner_text("#lesson-kubectl-line") == "$ kubectl run web --image=nginx"
    page.keyboard.press("n")
    wait_js(page, "document.getElementById('lessons-panel').dataset.step === '3'", 30,
            message="step 2's action to run and its check to hold")
    status, pod = server.request("GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/pods/web")
    assert status == 200 and pod["spec"]["containers"][0]["image"] == "nginx"
    assert page.get_attribute("#lesson-steps li:nth-child(2)", "data-state") == "done"
    # Step 3 asks a question; its answer shows on click.
    assert page.is_hidden("#lesson-answer")
    page.click("#lesson-reveal")
    assert page.is_visible("#lesson-answer") and "watch" in page.inner_text("#lesson-answer")
    # Leaving the lesson takes the highlight away.
    page.click("[data-lesson-action='stop']")
    wait_js(page, "document.getElementById('lessons-panel').dataset.state === 'idle'", 20, message="the lesson left")
    assert page.evaluate("document.querySelectorAll('.lesson-highlight').length") == 0


def test_a_lesson_from_a_saved_moment_starts_in_a_new_cluster_in_its_trouble(page, server):
    """"Start in a new cluster" on a lesson that starts from a saved moment: the server imports
    the moment, the page lands on the new cluster's Lessons view with the lesson loaded, paused,
    and the diagram shows the trouble its first step narrates (worker-2 down, not Ready)."""
    page.goto(f"{server.base}/clusters/{CLUSTER}/lessons")
    item = "#lesson-list .lesson-item[data-lesson='troubleshooting']"
    page.wait_for_selector(f"{item} [data-start-new='troubleshooting']", timeout=20_000)
    # It cannot rewind this cluster: no "Start here" for it (other lessons keep theirs).
    assert page.query_selector(f"{item} [data-start]") is None
    assert page.query_selector("[data-start='architecture-request-path']") is not None
    assert "starts from a saved moment" in page.inner_text(item)

    page.click(f"{item} [data-start-new='troubleshooting']")
    page.wait_for_url("**/clusters/troubleshooting-*/lessons", timeout=60_000)
    made = page.url.rstrip("/").split("/clusters/")[1].split("/")[0]
    try:
        wait_js(page, "document.getElementById('lessons-panel').dataset.lesson === 'troubleshooting'", 30,
                message="the lesson loaded in the new cluster")
        assert page.inner_text("#lesson-step-title") == "You are handed a cluster in trouble"
        assert page.evaluate("document.getElementById('lessons-panel').dataset.state") == "paused"
        wait_js(page, "(() => { const n = document.querySelector('#diagram .node[data-node-name=\"worker-2\"]');"
                      " return n && n.dataset.alive === 'false' && n.dataset.ready === 'Unknown'; })()", 30,
                message="worker-2 drawn down and not Ready")
        assert "DOWN" in page.evaluate("document.querySelector('#diagram .node[data-node-name=\"worker-2\"]').textContent")
        status, clock = server.request("GET", f"/clusters/{made}/sim/v1/clock")
        assert status == 200 and clock["paused"] is True and clock["time"] >= 100
    finally:
        server.request("DELETE", f"/sim/v1/clusters/{made}")
