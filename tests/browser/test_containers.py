"""Containers on the page: a pod's chip says what `kubectl get pods` says in STATUS - a
crashing container goes CrashLoopBackOff, an image the registry lacks ImagePullBackOff, a
finished one Completed - live, without reloading."""
from __future__ import annotations

import pytest

from tests.browser.conftest import wait_js

pytestmark = pytest.mark.services

CHIP_TEXT = "(name) => document.querySelector(`#diagram .pod[data-name='${name}'] .pod-phase`)?.textContent || ''"


def _pod(server, name, container):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", **container}], "restartPolicy": container.pop("restart", "Always")}}
    code, resp = server.request("POST", "/clusters/demo/api/v1/namespaces/default/pods", body)
    assert code == 201, resp


def test_a_pod_s_chip_shows_crash_loop_back_off_image_pull_back_off_and_completed(dashboard, browser_server):
    page = dashboard
    page.evaluate("window.__sameDocument = 'yes'")
    _pod(browser_server, "crasher", {"image": "busybox", "command": ["sh", "-c", "echo boom; exit 1"]})
    _pod(browser_server, "typo", {"image": "nginxx:nope"})
    _pod(browser_server, "once", {"image": "busybox", "args": ["echo", "hi"], "restart": "Never"})
    for name, words in (("crasher", "CrashLoopBackOff"), ("typo", "ImagePullBackOff"), ("once", "Completed")):
        wait_js(page, f"({CHIP_TEXT})('{name}').startsWith('{words}')", 60, message=f"{name} shown as {words}")
    assert page.evaluate("window.__sameDocument") == "yes"
    # The colours stay the phase's: the crashing pod is Running (it will be restarted), the
    # typo Pending on its node, the finished one Succeeded.
    phases = page.evaluate("""Object.fromEntries([...document.querySelectorAll('#diagram .pod')]
        .map(p => [p.dataset.name, p.dataset.phase]))""")
    assert (phases["crasher"], phases["typo"], phases["once"]) == ("Running", "ContainerCreating", "Succeeded")


def test_a_new_node_runs_the_runtime_kubelet_and_labels_chosen_on_the_page(dashboard, browser_server):
    from tests.browser.conftest import submit_ok
    page = dashboard
    page.fill("#add-node-form [name=name]", "worker-crio")
    page.select_option("#add-node-form [name=runtime]", "cri-o")
    page.fill("#add-node-form [name=kubeletVersion]", "v1.35.2")
    page.fill("#add-node-form [name=labels]", "disk=ssd, zone=a")
    text = submit_ok(page, "#add-node-form")
    assert "cri-o" in text and "kubelet v1.35.2" in text
    wait_js(page, """!!document.querySelector('#diagram [data-component="crio"][data-node="worker-crio"]')""", 30,
            message="worker-crio drawn with CRI-O")
    from tests.conftest import wait_until
    wait_until(lambda: browser_server.request("GET", "/clusters/demo/api/v1/nodes/worker-crio")[0] == 200, 30, 0.2,
               "worker-crio registered")
    node = browser_server.request("GET", "/clusters/demo/api/v1/nodes/worker-crio")[1]
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "cri-o://1.33.2"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.35.2"
    assert node["metadata"]["labels"]["disk"] == "ssd" and node["metadata"]["labels"]["zone"] == "a"


def test_a_picked_pod_shows_its_containers_and_its_log(dashboard, browser_server):
    page = dashboard
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "talker"},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                                     "command": ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]}]}}
    code, resp = browser_server.request("POST", "/clusters/demo/api/v1/namespaces/default/pods", body)
    assert code == 201, resp
    wait_js(page, "document.querySelector(`#diagram .pod[data-name='talker'][data-phase='Running']`) !== null", 60,
            message="talker Running")
    page.click("#diagram .pod[data-name='talker']")
    wait_js(page, "(document.querySelector('#pod-details .container[data-container=c]')?.textContent || '')"
                  ".includes('Running')", 20, message="the container's state in the pod's details")
    wait_js(page, "(document.querySelector('#pod-details pre.pod-log')?.textContent || '').includes('tick 2')", 20,
            message="the log in the pod's details, growing")


def test_a_picked_pod_shows_its_probes_and_its_events_with_their_counts(dashboard, browser_server):
    page = dashboard
    _pod(browser_server, "flaky", {"image": "busybox", "command": ["sh", "-c", "echo boom; exit 1"],
                                   "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 5}})
    # (data-status: the chip's text may be shortened to fit, "CrashLoopBack…", once more nodes are drawn)
    wait_js(page, "document.querySelector(`#diagram .pod[data-name='flaky']`)?.dataset.status === 'CrashLoopBackOff'",
            90, message="flaky crash-looping")
    page.click("#diagram .pod[data-name='flaky']")
    wait_js(page, "(document.querySelector('#pod-details .container-probe')?.textContent || '')"
                  ".startsWith('Readiness: exec [true] delay=0s timeout=1s period=5s #success=1 #failure=3')", 20,
            message="the readiness probe as kubectl describe prints it")
    # The crash loop's repeated Events are one row each, counted as the recorder counts them.
    wait_js(page, "[...document.querySelectorAll('#pod-details .event[data-reason=Started]')]"
                  ".some((li) => /\\(x[2-9] since /.test(li.textContent))", 90,
            message="a counted Started event in the pod's details")
    assert page.evaluate("document.querySelectorAll('#pod-details .event[data-reason=Started]').length") == 1
    assert page.evaluate("document.querySelector('#pod-details .event[data-reason=BackOff]').dataset.type") == "Warning"
    # The CRI calls that started it, in order (the simulator's control API).
    wait_js(page, "[...document.querySelectorAll('#pod-details .cri-call')].map((li) => li.dataset.method)"
                  ".slice(0, 4).join(' ') === 'RunPodSandbox PullImage CreateContainer StartContainer'", 20,
            message="the pod's CRI calls")
    # Waiting to restart, the log is the last run's.
    wait_js(page, "(document.querySelector('#pod-details pre.pod-log')?.textContent || '').includes('boom')", 20,
            message="the last run's log")


def test_a_picked_pod_shows_the_ephemeral_container_kubectl_debug_added(dashboard, browser_server):
    page = dashboard
    _pod(browser_server, "patient", {"image": "busybox", "command": ["sleep", "3600"]})
    wait_js(page, "document.querySelector(`#diagram .pod[data-name='patient'][data-phase='Running']`) !== null", 60,
            message="patient Running")
    path = "/clusters/demo/api/v1/namespaces/default/pods/patient"
    code, pod = browser_server.request("GET", path)
    assert code == 200, pod
    pod["spec"]["ephemeralContainers"] = [{"name": "debugger-x1", "image": "busybox", "stdin": True, "tty": True,
                                           "targetContainerName": "c"}]
    code, resp = browser_server.request("PUT", path + "/ephemeralcontainers", pod)   # what kubectl debug does
    assert code == 200, resp
    page.click("#diagram .pod[data-name='patient']")
    wait_js(page, "(document.querySelector('#pod-details .container[data-container=debugger-x1]')?.textContent || '')"
                  ".includes('ephemeral')", 30, message="the ephemeral container in the pod's details")
    wait_js(page, "document.querySelector('#pod-details .container[data-container=debugger-x1]')?.dataset.state "
                  "=== 'running'", 30, message="the ephemeral container running")
