"""etcd membership from the etcd panel: a presenter adds a learner (etcdctl member add
--learner), sees it labelled as one - in words, not only a colour - in the circle, the table and
the member picker, and promotes it once in sync; etcd's refusal of a second learner is shown.
Plus the panel fed by hand: a learner and an unstarted member drawn and listed as such."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_dashboard, submit, submit_ok, wait_js

pytestmark = pytest.mark.services

CLUSTER = "raft-members"

SETTLED_3 = """() => {
  const ms = [...document.querySelectorAll('#etcd-svg .etcd-member')];
  const lead = ms.filter(g => g.dataset.role === 'leader');
  return ms.length === 3 && lead.length === 1 && ms.every(g => g.dataset.leader === lead[0].dataset.member);
}"""

# etcd-4 drawn as a learner that applied as far as the leader: {role, text} or null.
LEARNER_IN_SYNC = """() => {
  const g = document.querySelector('#etcd-svg .etcd-member[data-member="etcd-4"]');
  const lead = document.querySelector('#etcd-svg .etcd-member[data-role=leader]');
  if (!g || !lead || g.dataset.learner !== 'true' || g.dataset.role !== 'follower') return null;
  if (+g.dataset.applied < +lead.dataset.applied) return null;
  return {text: g.querySelector('.member-role').textContent, ring: !!g.querySelector('.learner-ring')};
}"""


@pytest.fixture(scope="module")
def lab(browser_server):
    from tests.conftest import wait_until

    status, body = browser_server.request("POST", "/sim/v1/clusters", {
        "name": CLUSTER, "seed": 9, "etcd": {"members": 3, "topology": "external"}})
    assert status == 201, body
    wait_until(lambda: browser_server.request(
        "GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
        timeout=20, interval=0.05, message=f"cluster {CLUSTER} bootstrapped")
    return browser_server


def test_add_a_learner_see_it_labelled_and_promote_it(page, lab):
    open_dashboard(page, lab, CLUSTER, "etcd")
    wait_js(page, SETTLED_3, 30, message="three members and a leader")
    # etcd wants every voter connected for 5 s before a change (--strict-reconfig-check).
    wait_js(page, "+document.getElementById('dashboard').dataset.time >= 8", 30,
            message="the cluster a few seconds old")
    hosts = page.eval_on_selector_all("#etcd-member-hosts option", "os => os.map(o => o.value)")
    assert hosts[0] == "etcd-4" and "worker-1" in hosts  # the next external host, and the nodes
    page.fill("#etcd-member-host", "etcd-4")
    assert page.is_checked("#etcd-member-learner")
    text = submit_ok(page, "#etcd-member-form", "#btn-etcd-add")
    assert "etcd-4" in text and "learner" in text

    seen = wait_js(page, LEARNER_IN_SYNC, 30, message="etcd-4 drawn as a learner, caught up")
    assert seen["text"].startswith("LEARNER") and seen["ring"]
    row = page.inner_text('#etcd-table tr[data-member="etcd-4"] th')
    assert "learner" in row and page.get_attribute('#etcd-table tr[data-member="etcd-4"]', "data-learner") == "true"
    option = page.eval_on_selector('#etcd-member-select option[value="etcd-4"]', "o => o.textContent")
    assert option == "etcd-4 (learner, follower)"
    assert "(1 learner; quorum 2 of 3 voters)" in page.inner_text("#etcd-summary")

    # A second learner: etcd allows one (the refusal is the API's, shown as it is).
    page.fill("#etcd-member-host", "etcd-5")
    kind, text = submit(page, "#etcd-member-form", "#btn-etcd-add")
    assert kind == "error" and "too many learner members in cluster" in text, text

    page.select_option("#etcd-member-select", "etcd-4")
    text = submit_ok(page, "#etcd-form", "#btn-etcd-promote")
    assert "etcd-4 promoted" in text
    wait_js(page, """(() => { const g = document.querySelector('#etcd-svg .etcd-member[data-member="etcd-4"]');
                      return g && g.dataset.learner === 'false' && !g.querySelector('.learner-ring') &&
                             !g.querySelector('.member-role').textContent.includes('LEARNER'); })()""",
            20, message="etcd-4 drawn as a voter")
    assert "learner" not in page.inner_text('#etcd-table tr[data-member="etcd-4"] th')


def test_the_panel_draws_learners_and_unstarted_members_in_words(page, lab):
    page.goto(lab.base + "/static/js/etcd.js")
    out = page.evaluate("""async () => {
      const mod = await import('/static/js/etcd.js');
      document.body.innerHTML = '<svg id="s"></svg><table id="t"><tbody></tbody></table><select id="sel"></select>' +
                                '<datalist id="h"></datalist>';
      const panel = new mod.EtcdPanel(document.getElementById('s'), document.getElementById('t'),
                                      document.getElementById('sel'), null, document.getElementById('h'));
      const m = (i, role, extra) => ({name: 'etcd-' + i, address: 'etcd@etcd-' + i, host: 'etcd-' + i, role,
        term: 2, vote: 'etcd-1', leader: 'etcd-1', commitIndex: 5, appliedIndex: 5, raftIndex: 5,
        electionElapsed: 0, randomizedElectionTimeout: 10, ...(extra || {})});
      panel.render({etcd: [m(1, 'leader'), m(2, 'follower'), m(3, 'follower'),
                           m(4, 'follower', {isLearner: true}), m(5, 'stopped', {started: false})],
                    nodes: [{name: 'cp-1'}, {name: 'worker-1'}], network: {partition: []}},
                   {speed: 1, paused: true, tick: 0.1});
      const g = (n) => document.querySelector(`#s .etcd-member[data-member="etcd-${n}"]`);
      return {learner: [g(4).dataset.learner, g(4).querySelector('.member-role').textContent],
              voter: [g(2).dataset.learner, g(2).querySelector('.member-role').textContent],
              unstarted: [g(5).dataset.started, g(5).querySelector('.member-role').textContent],
              rows: [...document.querySelectorAll('#t tbody tr th')].map(th => th.textContent),
              options: [...document.getElementById('sel').options].map(o => o.textContent),
              hosts: [...document.querySelectorAll('#h option')].map(o => o.value)};
    }""")
    assert out["learner"][0] == "true" and out["learner"][1].startswith("LEARNER · follower")
    assert out["voter"][0] == "false" and out["voter"][1].startswith("follower")
    assert out["unstarted"] == ["false", "UNSTARTED"]
    assert out["rows"][3] == "etcd-4 learner" and out["rows"][4] == "etcd-5 unstarted"
    assert out["options"][3:] == ["etcd-4 (learner, follower)", "etcd-5 (unstarted)"]
    assert out["hosts"] == ["etcd-6", "cp-1", "worker-1"]
