"""Kill the node that holds a pod of a ReplicaSet, skip ahead, and watch the cluster heal, live:
Ready=Unknown after the node-monitor grace period, eviction after the 300 s toleration, and the
replacement Running on another node, all without reloading the page."""
from __future__ import annotations

import pytest

from tests.browser.conftest import submit_ok, pods, wait_js

pytestmark = pytest.mark.services

RUNNING_HEAL = """(victim) => {
  const ps = [...document.querySelectorAll('#diagram .pod[data-owner="ReplicaSet/heal"][data-phase=Running]')];
  return ps.length === 3 && ps.every(p => p.dataset.node && p.dataset.node !== victim);
}"""


def test_killed_node_is_noticed_and_its_pod_replaced(dashboard):
    page = dashboard
    page.evaluate("window.__sameDocument = 'yes'")  # gone if the page reloads

    page.fill("#create-rs-form [name=name]", "heal")
    page.fill("#create-rs-form [name=replicas]", "3")
    submit_ok(page, "#create-rs-form")
    wait_js(page, """document.querySelectorAll('#diagram .pod[data-owner="ReplicaSet/heal"][data-phase=Running]').length === 3""",
            60, message="3 Running pods of ReplicaSet heal")
    victim_pod = pods(page, '[data-owner="ReplicaSet/heal"]')[0]
    victim = victim_pod["node"]
    assert victim.startswith("worker-")

    # Kill it from the page: pick the node by clicking its box, then "Kill node".
    page.click(f'#diagram .node[data-node-name="{victim}"] .node-title')
    assert page.input_value("#node-select") == victim
    submit_ok(page, "#node-form", "#btn-kill")
    wait_js(page, f"""document.querySelector('#diagram .node[data-node-name="{victim}"]').dataset.alive === 'false'""",
            10, message=f"{victim} drawn as down")

    # Speed up: skip past node-monitor-grace-period and the 300 s not-ready toleration.
    t0 = float(page.get_attribute("#dashboard", "data-time"))
    page.click(".btn-advance:has-text('+5m')")
    wait_js(page, f"+document.getElementById('dashboard').dataset.time >= {t0 + 299}", 30,
            message="the first 5 minutes to pass")
    wait_js(page, f"""document.querySelector('#diagram .node[data-node-name="{victim}"]').dataset.ready !== 'True'""",
            10, message=f"{victim} to be NotReady/Unknown")
    page.click(".btn-advance:has-text('+5m')")
    wait_js(page, f"+document.getElementById('dashboard').dataset.time >= {t0 + 599}", 30,
            message="the next 5 minutes to pass")

    # The replacement runs elsewhere; the page never reloaded.
    wait_js(page, RUNNING_HEAL, 60, arg=victim,
            message=f"3 Running heal pods, none on {victim}")
    assert page.evaluate("window.__sameDocument") == "yes"
    log = page.inner_text("#event-log")
    assert victim in log

    # Restore it: it registers again and becomes Ready.
    page.select_option("#speed-select", "10")
    page.select_option("#node-select", victim)
    submit_ok(page, "#node-form", "#btn-restore")
    wait_js(page, f"""(() => {{ const n = document.querySelector('#diagram .node[data-node-name="{victim}"]');
                       return n.dataset.alive === 'true' && n.dataset.ready === 'True'; }})()""",
            60, message=f"{victim} Ready again")
    page.select_option("#speed-select", "1")
