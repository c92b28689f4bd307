"""kube-system on the page: the control-plane node draws its static pods' mirror pods, and
"Kill component" kills a component's process; the kubelet restarts its static pod's container."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_dashboard, submit, wait_js
from tests.conftest import make_cluster, wait_until

pytestmark = pytest.mark.services


def test_kill_component_from_the_page_restarts_its_static_pod(page, browser_server):
    make_cluster(browser_server, "kubesys")
    try:
        open_dashboard(page, browser_server, "kubesys")
        wait_js(page, """!!document.querySelector("#diagram .pod[data-name='kube-scheduler-cp-1']")""", 30,
                message="the kube-scheduler-cp-1 mirror pod drawn on cp-1")
        page.select_option("#node-select", "cp-1")
        page.select_option("#component-select", "kube-scheduler")
        kind, text = submit(page, "#node-form", "#btn-kill-component")
        assert kind == "ok" and "kube-scheduler on cp-1 killed" in text, text

        def restarted():
            code, pod = browser_server.request("GET", "/clusters/kubesys/api/v1/namespaces/kube-system/pods/kube-scheduler-cp-1")
            cs = ((pod.get("status") or {}).get("containerStatuses") or [{}])[0] if code == 200 else {}
            return cs.get("restartCount") == 1 and "running" in (cs.get("state") or {})
        wait_until(restarted, 30, 0.2, "kube-scheduler-cp-1 restarted once")
        page.select_option("#node-select", "worker-1")
        kind, text = submit(page, "#node-form", "#btn-kill-component")
        assert kind == "error" and "no static pod runs" in text, text
    finally:
        browser_server.request("DELETE", "/sim/v1/clusters/kubesys")
