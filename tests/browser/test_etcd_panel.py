"""The etcd panel (issue 3): a 3-member external etcd cluster, created through the control API,
watched and broken from the dashboard.  Stop the leader and see a new one with a higher term;
stop two of three members and see a pod creation from the form fail with etcd's timeout; the
architecture view shows the external etcd hosts."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_dashboard, submit, submit_ok, wait_js
from tests.conftest import wait_until

pytestmark = pytest.mark.services

CLUSTER = "raft-lab"

# The settled leader as the panel shows it: exactly one leader that every running member follows.
SETTLED = """(notName) => {
  const ms = [...document.querySelectorAll('#etcd-svg .etcd-member')];
  const lead = ms.filter(g => g.dataset.role === 'leader');
  if (ms.length !== 3 || lead.length !== 1 || lead[0].dataset.member === notName) return null;
  const name = lead[0].dataset.member;
  if (!ms.every(g => g.dataset.role === 'stopped' || g.dataset.leader === name)) return null;
  return {name, term: +lead[0].dataset.term};
}"""


@pytest.fixture(scope="module")
def lab(browser_server):
    status, body = browser_server.request("POST", "/sim/v1/clusters", {
        "name": CLUSTER, "seed": 5, "etcd": {"members": 3, "topology": "external"}})
    assert status == 201, body
    wait_until(lambda: browser_server.request("GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default")[0] == 200,
               timeout=20, interval=0.05, message=f"cluster {CLUSTER} bootstrapped")
    return browser_server


@pytest.fixture
def panel(page, lab):
    open_dashboard(page, lab, CLUSTER)
    return page


def test_panel_shows_members_and_external_hosts(panel):
    page = panel
    leader = wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader in the panel")
    rows = page.eval_on_selector_all("#etcd-table tbody tr", "rs => rs.map(r => r.dataset.member)")
    assert rows == ["etcd-1", "etcd-2", "etcd-3"]
    # The architecture view draws etcd on hosts of its own, the leader marked.
    hosts = page.eval_on_selector_all("#diagram .component.etcd-ext", "cs => cs.map(c => c.dataset.node)")
    assert hosts == ["etcd-1", "etcd-2", "etcd-3"]
    assert page.get_attribute("#etcd-hosts", "data-count") == "3"
    wait_js(page, f"""!!document.querySelector('#diagram .component.etcd-leader[data-addr="etcd@{leader['name']}"]')""",
            10, message="the leader marked in the architecture view")
    # Followers' election timers run down between frames (a ring, 0..1 left).
    follower = page.eval_on_selector("#etcd-svg .etcd-member[data-role=follower]", "g => g.dataset.member")
    left = float(page.get_attribute(f'#etcd-svg .etcd-member[data-member="{follower}"]', "data-timer-left"))
    assert 0 <= left <= 1
    # Heartbeats travel between members (grouped, so the panel stays calm).
    wait_js(page, "(window.pilothouse.etcd.drawn['heartbeat'] || 0) > 0", 10, message="heartbeats drawn")
    assert page.evaluate("window.pilothouse.etcd.active.length") <= 18


def test_stop_the_leader_from_the_panel_elects_a_new_one_with_a_higher_term(panel):
    page = panel
    old = wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader")
    # Pick the leader by clicking its circle, then Stop.
    page.click(f'#etcd-svg .etcd-member[data-member="{old["name"]}"] .member-body')
    assert page.input_value("#etcd-member-select") == old["name"]
    text = submit_ok(page, "#etcd-form", "#btn-etcd-kill")
    assert old["name"] in text and "stopped" in text
    wait_js(page, f"""document.querySelector('#etcd-svg .etcd-member[data-member="{old['name']}"]').dataset.role === 'stopped'""",
            10, message=f"{old['name']} drawn as stopped")
    new = wait_js(page, SETTLED, 30, arg=old["name"], message="a new leader")
    assert new["name"] != old["name"] and new["term"] > old["term"]
    summary = page.inner_text("#etcd-summary")
    assert f"leader {new['name']}, term {new['term']}" in summary
    # A vote was drawn on the way (RequestVote or PreVote between the survivors).
    assert page.evaluate("(window.pilothouse.etcd.drawn['RequestVote'] || 0) + (window.pilothouse.etcd.drawn['PreVote'] || 0)") > 0
    # Restart it: it comes back as a follower of the new term.
    page.select_option("#etcd-member-select", old["name"])
    submit_ok(page, "#etcd-form", "#btn-etcd-restore")
    wait_js(page, f"""(() => {{ const g = document.querySelector('#etcd-svg .etcd-member[data-member="{old['name']}"]');
                       return g.dataset.role === 'follower' && +g.dataset.term >= {new['term']}; }})()""",
            30, message=f"{old['name']} back as a follower")


def test_time_out_now_on_a_healthy_cluster_is_refused_by_pre_vote(panel):
    page = panel
    lead = wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader")
    follower = page.eval_on_selector("#etcd-svg .etcd-member[data-role=follower]", "g => g.dataset.member")
    page.select_option("#etcd-member-select", follower)
    text = submit_ok(page, "#etcd-form", "#btn-etcd-timeout")
    assert "pre-vote" in text
    # Make it leader instead: a transfer does win.
    text = submit_ok(page, "#etcd-form", "#btn-etcd-transfer")
    assert follower in text
    new = wait_js(page, SETTLED, 30, arg=lead["name"], message=f"{follower} to lead")
    assert new["name"] == follower and new["term"] > lead["term"]


def test_isolate_and_heal_from_the_panel(panel):
    page = panel
    lead = wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader")
    page.select_option("#etcd-member-select", lead["name"])
    submit_ok(page, "#etcd-form", "#btn-etcd-isolate")
    wait_js(page, f"""document.querySelector('#etcd-svg .etcd-member[data-member="{lead['name']}"]').dataset.isolated === 'true'""",
            10, message=f"{lead['name']} drawn as cut off")
    # The majority elects a new leader; the isolated one steps down (check-quorum).
    wait_js(page, f"""(() => {{ const ms = [...document.querySelectorAll('#etcd-svg .etcd-member')];
              const old = ms.find(g => g.dataset.member === '{lead['name']}');
              return old.dataset.role !== 'leader' &&
                     ms.some(g => g.dataset.role === 'leader' && +g.dataset.term > {lead['term']}); }})()""",
            30, message="a new leader and the isolated one stepped down")
    submit_ok(page, "#etcd-form", "#btn-heal")
    wait_js(page, "[...document.querySelectorAll('#etcd-svg .etcd-member')].every(g => g.dataset.isolated === 'false')",
            10, message="the partition healed")
    wait_js(page, SETTLED, 30, arg="", message="one settled leader after healing")


def test_without_quorum_a_pod_creation_fails_with_the_error_shown(panel):
    page = panel
    page.expected_errors.append("status of 504")  # the failed requests, logged by the browser
    lead = wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader")
    others = [n for n in ("etcd-1", "etcd-2", "etcd-3") if n != lead["name"]]
    for name in others:
        page.select_option("#etcd-member-select", name)
        submit_ok(page, "#etcd-form", "#btn-etcd-kill")
    wait_js(page, "document.querySelectorAll('#etcd-svg .etcd-member[data-role=stopped]').length === 2", 10,
            message="two members drawn as stopped")

    page.fill("#create-pod-form [name=name]", "no-quorum")
    kind, text = submit(page, "#create-pod-form")
    assert kind == "error", text
    assert page.get_attribute("#create-pod-form .result", "data-code") == "504"
    assert "timeout" in text.lower() or "timed out" in text.lower(), text
    # A client write to etcd itself times out the same way.
    kind, text = submit(page, "#etcd-put-form")
    assert kind == "error" and "request timed out" in text, text
    assert page.get_attribute("#etcd-put-form .result", "data-code") == "504"
    # The panel says why: no leader.
    wait_js(page, "document.getElementById('etcd-summary').textContent.includes('no leader')", 30,
            message="the summary to say there is no leader")

    # Restart both: quorum is back, a leader is elected and a creation succeeds.  (Both, because
    # kube-apiserver may have failed over to a stopped member's endpoint meanwhile; with only one
    # back, its next request can still wait out etcd's timeout there before it moves on.)
    for name in others:
        page.select_option("#etcd-member-select", name)
        submit_ok(page, "#etcd-form", "#btn-etcd-restore")
    wait_js(page, SETTLED, 30, arg="", message="a settled leader with quorum restored")
    page.fill("#create-pod-form [name=name]", "with-quorum")
    submit_ok(page, "#create-pod-form")
    wait_js(page, """!!document.querySelector('#diagram .pod[data-name="with-quorum"]')""", 30,
            message="the pod drawn")
