"""A pod's details on the page show each container's CPU and memory use against its requests
and limits (metrics.k8s.io), and buttons that inject faults into its application: the crash
button sends the pod's chip to CrashLoopBackOff."""
from __future__ import annotations

import pytest

from tests.browser.conftest import wait_js
from tests.browser.test_containers import CHIP_TEXT

pytestmark = pytest.mark.services


def test_the_crash_button_leads_to_crash_loop_back_off(dashboard, browser_server):
    page = dashboard
    assert browser_server.request("POST", "/clusters/demo/sim/v1/clock", {"speed": 10})[0] == 200
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "victim"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                     "resources": {"requests": {"cpu": "100m"},
                                                   "limits": {"cpu": "200m", "memory": "64Mi"}}}]}}
    code, resp = browser_server.request("POST", "/clusters/demo/api/v1/namespaces/default/pods", body)
    assert code == 201, resp
    wait_js(page, "document.querySelector(`#diagram .pod[data-name='victim'][data-phase='Running']`) !== null", 60,
            message="victim Running")
    page.click("#diagram .pod[data-name='victim']")
    usage = "(document.querySelector('#pod-details .container[data-container=web] .container-usage')?.textContent || '')"
    wait_js(page, f"{usage}.includes('request 100m, limit 200m') && {usage}.includes('limit 64Mi')", 20,
            message="the container's requests and limits in the pod's details")
    # metrics-server has the pod's use from its second scrape (15 virtual seconds apart).
    wait_js(page, "document.querySelector('#pod-details .container[data-container=web] .usage-cpu')?.textContent === '2m'",
            30, message="nginx's idle CPU use in the pod's details")
    page.click("#pod-details .fault-buttons[data-container=web] button[data-fault=crash]")
    wait_js(page, "(document.querySelector('#pod-details .fault-result')?.textContent || '').startsWith('crash → web')",
            10, message="the control API's answer to the crash button")
    wait_js(page, f"({CHIP_TEXT})('victim').startsWith('CrashLoopBackOff')", 60,
            message="victim shown as CrashLoopBackOff")
    page.click("#pod-details .fault-buttons[data-container=web] button[data-fault=recover]")
    wait_js(page, "(document.querySelector('#pod-details .fault-result')?.textContent || '') === 'recover → web (no faults)'",
            10, message="recovered")
