"""The etcd panel (issue 3): a 3-member external etcd cluster, created through the control API,
watched and broken from the dashboard.  Stop the leader and see a new one with a higher term;
stop two of three members and see a pod creation from the form fail with etcd's timeout; the
architecture view shows the external etcd hosts.  Each member's Raft log is drawn as RaftScope's
entry boxes, a client write appears committed on every running member; a snapshot saved from
the panel and restored from the file takes back what was made after the save, and a bad file is
refused with the API's error shown."""
from __future__ import annotations

import json

import pytest
import requests

from tests.builders import MakePod
from tests.browser.conftest import open_dashboard, show_view, submit, submit_ok, wait_js
from tests.conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.motion]  # the panel is its Raft messages and timers

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
    wait_until(lambda: browser_server.request("GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
               timeout=20, interval=0.05, message=f"cluster {CLUSTER} bootstrapped")
    return browser_server


@pytest.fixture
def panel(page, lab):
    """The page on its etcd view (/clusters/<c>/etcd)."""
    open_dashboard(page, lab, CLUSTER, "etcd")
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
    wait_js(page, "(window.pilothouse.etcd.drawn['heartbeat'] || 0) > 0", 30, message="heartbeats drawn")
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
    votes = page.evaluate("(window.pilothouse.etcd.drawn['RequestVote'] || 0) + (window.pilothouse.etcd.drawn['PreVote'] || 0)")
    # Restart it: it comes back as a follower of the new term.  (Before the assertions below,
    # so that a failure leaves the next tests three members.)
    page.select_option("#etcd-member-select", old["name"])
    submit_ok(page, "#etcd-form", "#btn-etcd-restore")
    wait_js(page, f"""(() => {{ const g = document.querySelector('#etcd-svg .etcd-member[data-member="{old['name']}"]');
                       return g.dataset.role === 'follower' && +g.dataset.term >= {new['term']}; }})()""",
            30, message=f"{old['name']} back as a follower")
    # A vote was drawn on the way (RequestVote or PreVote between the survivors).
    assert votes > 0


def test_time_out_now_on_a_healthy_cluster_is_refused_by_pre_vote(panel, lab):
    page = panel
    lead = wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader")
    follower = page.eval_on_selector("#etcd-svg .etcd-member[data-role=follower]", "g => g.dataset.member")
    page.select_option("#etcd-member-select", follower)
    text = submit_ok(page, "#etcd-form", "#btn-etcd-timeout")
    assert "pre-vote" in text
    # The refused pre-candidate becomes a follower again at the leader's next heartbeat; until
    # then etcd's raft ignores a MsgTimeoutNow (stepCandidate), and a transfer to it times out.
    def role() -> str:
        members = lab.request("GET", f"/clusters/{CLUSTER}/sim/v1/etcd")[1]["members"]
        return next(m["role"] for m in members if m["name"] == follower)
    wait_until(lambda: role() == "follower", timeout=10, message=f"{follower} a follower again")
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

    show_view(page, "architecture")  # the pod form
    page.fill("#create-pod-form [name=name]", "no-quorum")
    kind, text = submit(page, "#create-pod-form")
    assert kind == "error", text
    assert page.get_attribute("#create-pod-form .result", "data-code") == "504"
    assert "timeout" in text.lower() or "timed out" in text.lower(), text
    # A client write to etcd itself times out the same way.
    show_view(page, "etcd")
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
    show_view(page, "architecture")
    page.fill("#create-pod-form [name=name]", "with-quorum")
    submit_ok(page, "#create-pod-form")
    wait_js(page, """!!document.querySelector('#diagram .pod[data-name="with-quorum"]')""", 30,
            message="the pod drawn")


# Each member's log as the panel draws it: its boxes (index, term, the text in the box, the
# fill, committed, dashed, greyed) and its commit bar.
LOG_ROWS = """async () => {
  const mod = await import('/static/js/etcd.js');
  return [...document.querySelectorAll('#etcd-logs .log-row')].map(r => ({
    member: r.dataset.member, role: r.dataset.role, commit: +r.dataset.commit,
    bar: r.querySelector('.commit-mark') ? +r.querySelector('.commit-mark').dataset.commit : null,
    entries: [...r.querySelectorAll('.log-entry')].map(e => {
      const rect = e.querySelector('rect');
      return {index: +e.dataset.index, term: +e.dataset.term, kind: e.dataset.kind, key: e.dataset.key,
              text: e.querySelector('text').textContent, fill: rect.getAttribute('fill'),
              termColor: mod.termColor(+e.dataset.term), committed: e.dataset.committed === 'true',
              dashed: rect.hasAttribute('stroke-dasharray'), greyed: e.dataset.greyed === 'true'};
    })}));
}"""

# Every running member has the entry for `key`, committed; a stopped one does not.
WRITE_COMMITTED = """(key) => {
  const rows = [...document.querySelectorAll('#etcd-logs .log-row')];
  return rows.length === 3 && rows.every(r => {
    const e = r.querySelector(`.log-entry[data-key="${key}"]`);
    if (r.dataset.role === 'stopped') return !e;
    return e && e.dataset.committed === 'true' && +r.dataset.commit >= +e.dataset.index;
  });
}"""


def snapshot_action(page, button: str, files=None) -> tuple[str, str]:
    """Click Save or Restore snapshot (after choosing `files`) and wait for this answer:
    ("ok" | "error", its text).  The result is emptied first, so an earlier answer is never
    mistaken for this one."""
    page.eval_on_selector("#etcd-snapshot-result", "el => { el.className = 'result'; el.textContent = ''; }")
    if files is not None:
        page.set_input_files("#snapshot-file", files=files)
    page.click(button)
    page.wait_for_selector("#etcd-snapshot-result.ok, #etcd-snapshot-result.error")
    kind = "ok" if page.eval_on_selector("#etcd-snapshot-result", "el => el.classList.contains('ok')") else "error"
    return kind, page.inner_text("#etcd-snapshot-result")


def test_log_boxes_show_terms_and_a_write_is_committed_on_every_running_member(panel):
    page = panel
    lead = wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader")
    wait_js(page, "document.querySelectorAll('#etcd-logs .log-row .log-entry').length > 0", 10,
            message="log boxes drawn")
    rows = page.evaluate(LOG_ROWS)
    assert [r["member"] for r in rows] == ["etcd-1", "etcd-2", "etcd-3"]
    for r in rows:
        assert 0 < len(r["entries"]) <= 16, r
        for e in r["entries"]:
            # RaftScope's box: the term written in it, the colour picked by term, dashed until committed.
            assert e["text"] == str(e["term"]) and e["fill"] == e["termColor"], e
            assert e["committed"] == (e["index"] <= r["commit"]) and e["dashed"] == (not e["committed"]), (r, e)
        assert r["bar"] == r["commit"], r
    assert any(e["term"] == lead["term"] for r in rows for e in r["entries"])

    # Stop a follower: its log stays on its disk, drawn greyed.
    follower = next(r["member"] for r in rows if r["member"] != lead["name"])
    page.select_option("#etcd-member-select", follower)
    submit_ok(page, "#etcd-form", "#btn-etcd-kill")
    wait_js(page, f"""(() => {{ const r = document.querySelector('#etcd-logs .log-row[data-member="{follower}"]');
                       const es = [...r.querySelectorAll('.log-entry')];
                       return r.dataset.role === 'stopped' && es.length > 0 && es.every(e => e.dataset.greyed === 'true'); }})()""",
            10, message=f"{follower}'s log kept, greyed")

    # A client write: a new box on every running member, committed; none on the stopped one.
    key = "/lesson/log-boxes"
    page.fill("#etcd-put-form [name=key]", key)
    text = submit_ok(page, "#etcd-put-form")
    assert "committed" in text
    wait_js(page, WRITE_COMMITTED, 10, arg=key, message=f"{key} committed on the running members")
    rows = {r["member"]: r for r in page.evaluate(LOG_ROWS)}
    entry = next(e for e in rows[lead["name"]]["entries"] if e["key"] == key)
    assert entry["kind"] == "put" and entry["term"] == lead["term"] and not entry["greyed"]

    page.select_option("#etcd-member-select", follower)
    submit_ok(page, "#etcd-form", "#btn-etcd-restore")
    wait_js(page, SETTLED, 30, arg="", message="every member following the leader again")
    wait_js(page, f"""!!document.querySelector('#etcd-logs .log-row[data-member="{follower}"][data-role="follower"]')""",
            10, message=f"{follower}'s log drawn as a follower's again")


def test_a_bad_snapshot_file_shows_the_error_and_changes_nothing(panel):
    page = panel
    lead = wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader")
    log_before = {m: int(page.get_attribute(f'#etcd-svg .etcd-member[data-member="{m}"]', "data-log"))
                  for m in ("etcd-1", "etcd-2", "etcd-3")}
    kind, text = snapshot_action(page, "#btn-snapshot-restore", [{
        "name": "broken.json", "mimeType": "application/json",
        "buffer": b'{"revision": 40, "kvs": [["/registry/pods/default/x", "not an object", 12]]}'}])
    assert kind == "error", text
    assert "Restore refused: 422 Invalid" in text and "kvs[0][1]" in text and "metadata.name" in text, text
    assert page.get_attribute("#etcd-snapshot-result", "data-code") == "422"

    kind, text = snapshot_action(page, "#btn-snapshot-restore", [{"name": "notes.txt", "mimeType": "text/plain",
                                                                  "buffer": b"this is not a snapshot"}])
    assert kind == "error" and page.get_attribute("#etcd-snapshot-result", "data-code") == "400", text
    assert "400 BadRequest" in text and "not valid JSON" in text, text

    # Nothing changed: the same leader and term, and no member's Raft log was reset.
    now = wait_js(page, SETTLED, 10, arg="", message="the leader still settled")
    assert (now["name"], now["term"]) == (lead["name"], lead["term"])
    for m, before in log_before.items():
        assert int(page.get_attribute(f'#etcd-svg .etcd-member[data-member="{m}"]', "data-log")) >= before


def test_save_and_restore_a_snapshot_from_the_panel(panel, tmp_path):
    page = panel
    wait_js(page, SETTLED, 20, arg="", message="a settled etcd leader")
    with page.expect_download() as download:
        kind, text = snapshot_action(page, "#btn-snapshot-save")
    assert kind == "ok" and "Snapshot saved" in text, text
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith(f"etcd-snapshot-{CLUSTER}-rev") and saved.suffix == ".json"
    snap = json.loads(saved.read_text())
    assert snap["revision"] > 1 and snap["kvs"]

    # A pod made after the save...
    base = f"{panel.url.split('/clusters/')[0]}/clusters/{CLUSTER}"
    pod = MakePod().name("made-after-save").container("nginx:1.27", name="app").manifest()
    r = requests.post(f"{base}/api/v1/namespaces/default/pods", json=pod, timeout=60)
    assert r.status_code == 201, r.text
    wait_js(page, """!!document.querySelector('#diagram .pod[data-name="made-after-save"]')""", 30,
            message="the pod drawn")

    # ... is gone once the snapshot is restored from the file.
    kind, text = snapshot_action(page, "#btn-snapshot-restore", str(saved))
    assert kind == "ok" and f"revision {snap['revision']}" in text and "Restored" in text, text
    wait_js(page, """!document.querySelector('#diagram .pod[data-name="made-after-save"]')""", 30,
            message="the pod gone from the diagram")
    assert requests.get(f"{base}/api/v1/namespaces/default/pods/made-after-save", timeout=60).status_code == 404
    # The members restarted as a new cluster: a leader again, and fresh logs that fill up live.
    wait_js(page, SETTLED, 30, arg="", message="a leader after the restore")
    wait_js(page, "[...document.querySelectorAll('#etcd-logs .log-row')].every(r => r.querySelector('.log-entry'))",
            20, message="the new logs drawn")


def test_log_layout_aligns_indexes_and_shows_a_member_far_behind(page, lab):
    page.goto(lab.base + "/static/js/etcd.js")  # same origin, no page scripts
    out = page.evaluate("""async () => {
      const {logLayout} = await import('/static/js/etcd.js');
      const log = (from, to, term) => Array.from({length: to - from + 1},
                                                 (_, i) => ({index: from + i, term, kind: 'put', key: '/k'}));
      return logLayout([
        {name: 'a', role: 'leader', commitIndex: 40, log: log(25, 40, 3)},
        {name: 'b', role: 'follower', commitIndex: 30, log: log(23, 38, 3)},
        {name: 'c', role: 'stopped', commitIndex: 12, log: log(1, 12, 2)},
        {name: 'd', role: 'follower', commitIndex: 0, log: []},
      ]);
    }""")
    assert (out["lo"], out["hi"]) == (25, 40)
    a, b, c, d = out["rows"]
    # Columns are log indexes shared by every row; the bar goes after the commit index.
    assert [e["col"] for e in a["entries"]] == list(range(16)) and a["commitCol"] == 16
    assert [e["index"] for e in b["entries"]] == list(range(25, 39)) and b["entries"][0]["col"] == 0
    assert b["commitCol"] == 6 and not b["behind"]
    # More than 16 entries behind: its own last entries, in order, marked behind.
    assert c["behind"] and [e["index"] for e in c["entries"]] == list(range(1, 13))
    assert [e["col"] for e in c["entries"]] == list(range(12)) and c["commitCol"] == 12
    assert d["entries"] == [] and d["commitCol"] is None and not d["behind"]
