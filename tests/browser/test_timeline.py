"""The timeline bar (static/js/timeline.js): scrubbing back shows the cluster as it was (a pod
created later is absent; frames that arrive meanwhile are not drawn; the controls are inert),
"Back to live" follows the cluster again, and "Fork from here" makes a cluster of that moment."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import open_dashboard, wait_js
from tests.conftest import make_cluster, wait_until

pytestmark = pytest.mark.services

SMALL = {"seed": 9, "nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "later"},
       "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}

HAS_POD = "(name) => !!document.querySelector(`#diagram .pod[data-name='${name}']`)"


@pytest.fixture(scope="module")
def history_cluster(browser_server):
    """A paused two-node cluster with a moment at t>=20 s, then pod `later` created and run 10 s.
    Returns (name, the index of that moment on the slider, its frame)."""
    server = browser_server
    server.request("POST", "/clusters/demo/sim/v1/clock", {"paused": True})  # this module does not need it
    name = make_cluster(server, "timeline", spec=SMALL)
    assert server.request("POST", f"/clusters/{name}/sim/v1/clock", {"paused": True})[0] == 200
    assert server.request("POST", f"/clusters/{name}/sim/v1/clock", {"advance": "20s"})[0] == 200

    def moments():
        return server.request("GET", f"/clusters/{name}/sim/v1/history")[1]["moments"]
    wait_until(lambda: any(m["time"] >= 20 for m in moments()), timeout=10, message="a moment at t>=20s")
    index, before = next((i, m) for i, m in enumerate(moments()) if m["time"] >= 20)
    status, body = server.request("POST", f"/clusters/{name}/api/v1/namespaces/default/pods", POD)
    assert status == 201, body
    assert server.request("POST", f"/clusters/{name}/sim/v1/clock", {"advance": "10s"})[0] == 200
    wait_until(lambda: any(m["time"] >= 30 for m in moments()), timeout=10, message="a moment at t>=30s")
    return name, index, before["frame"]


def scrub_to(page, index: int) -> None:
    page.hover("#timeline")  # the bar fetches the moments when someone comes to use it
    wait_js(page, f"+document.getElementById('timeline').dataset.moments > {index}", 10,
            message="the timeline's moments")
    page.focus("#timeline-slider")
    page.eval_on_selector("#timeline-slider",
                          "(el, i) => { el.value = String(i); el.dispatchEvent(new Event('input', {bubbles: true})); }",
                          index)
    wait_js(page, "document.getElementById('timeline').dataset.mode === 'past'", 10, message="the past shown")


def test_scrubbing_back_shows_the_earlier_state_and_back_to_live_resumes(page, browser_server, history_cluster):
    name, index, frame = history_cluster
    open_dashboard(page, browser_server, name)
    wait_js(page, HAS_POD, 20, arg="later", message="pod later drawn (live)")

    scrub_to(page, index)
    assert page.get_attribute("#timeline", "data-frame") == str(frame)
    wait_js(page, f"!({HAS_POD})('later')", 10, message="pod later absent in the past")
    assert page.evaluate("[...new Set([...document.querySelectorAll('#diagram [data-node-name]')]"
                         ".map((n) => n.dataset.nodeName))].sort()") == ["cp-1", "worker-1"]
    banner = page.inner_text("#timeline-banner")
    assert page.is_visible("#timeline-banner") and "Viewing the past at t=2" in banner
    assert page.get_attribute("#create-pod-form", "inert") is not None
    assert page.is_visible("#timeline-live")

    # The cluster goes on meanwhile: frames arrive and are counted, but the past stays drawn.
    seen = int(page.get_attribute("#dashboard", "data-frame"))
    status, body = browser_server.request("POST", f"/clusters/{name}/api/v1/namespaces/default/pods",
                                          dict(POD, metadata={"name": "meanwhile"}))
    assert status == 201, body
    assert browser_server.request("POST", f"/clusters/{name}/sim/v1/clock", {"advance": "2s"})[0] == 200
    wait_js(page, f"+document.getElementById('dashboard').dataset.frame > {seen}", 10, message="live frames")
    assert not page.evaluate(HAS_POD, "later") and not page.evaluate(HAS_POD, "meanwhile")

    page.click("#timeline-live")
    wait_js(page, HAS_POD, 10, arg="meanwhile", message="pod meanwhile drawn once live again")
    assert page.evaluate(HAS_POD, "later")
    assert page.get_attribute("#timeline", "data-mode") == "live"
    assert not page.is_visible("#timeline-banner")
    assert page.get_attribute("#create-pod-form", "inert") is None
    # ... and it follows the live frames again.
    browser_server.request("POST", f"/clusters/{name}/sim/v1/nodes/worker-1/kill")
    wait_js(page, "document.querySelector(\"#diagram .node[data-node-name='worker-1']\")?.dataset.alive === 'false'",
            10, message="worker-1 drawn down")


def test_fork_from_here_and_export(page, browser_server, history_cluster):
    name, index, frame = history_cluster
    open_dashboard(page, browser_server, name)
    scrub_to(page, index)
    page.click("#timeline-fork")
    page.fill("#timeline-fork-name", "timeline-fork")
    page.click("#timeline-fork-form button[type=submit]")
    link = page.wait_for_selector("#timeline-result a", timeout=30_000)
    assert link.get_attribute("href") == "/clusters/timeline-fork/"
    api = f"{browser_server.base}/clusters/timeline-fork/api/v1/namespaces/default/pods/later"
    assert requests.get(api, timeout=10).status_code == 404  # the fork is the moment before it

    with page.expect_download(timeout=30_000) as download:
        page.click("#timeline-export")
    assert download.value.suggested_filename == f"{name}-run.json"
    export = json.loads(Path(download.value.path()).read_text())
    assert "exported:" in page.inner_text("#timeline-result")
    assert export["kind"] == "PilothouseRun"
    assert any(e["op"] == "api" and e["args"]["request"]["body"]["metadata"]["name"] == "later"
               for e in export["journal"] if e["op"] == "api" and e["args"]["request"].get("body"))
