"""The server restarts under an open dashboard: the page says it lost the connection, the htmx
WebSocket extension reconnects, and the page follows the restored cluster (whose frames are
numbered afresh) without a reload."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_dashboard, pods, submit_ok, wait_js
from tests.conftest import require_service

pytestmark = pytest.mark.services


def test_dashboard_follows_a_server_restart(page, browser_server):
    require_service("a server this test started", browser_server.proc is not None,
                    "PILOTHOUSE_BROWSER_SERVER points at someone else's server, which this test cannot restart")
    open_dashboard(page, browser_server)
    page.evaluate("window.__sameDocument = 'yes'")
    page.fill("#create-rs-form [name=name]", "keep")
    page.fill("#create-rs-form [name=replicas]", "2")
    submit_ok(page, "#create-rs-form")
    wait_js(page, """document.querySelectorAll('#diagram .pod[data-owner="ReplicaSet/keep"][data-phase=Running]').length === 2""",
            60, message="ReplicaSet keep running")
    before = sorted(p["name"] for p in pods(page, '[data-owner="ReplicaSet/keep"]'))
    frame_before = int(page.get_attribute("#dashboard", "data-frame"))

    # While it is down the browser logs the refused reconnection attempts.
    page.expected_errors += ["ERR_CONNECTION_REFUSED", "[object Event]", "WebSocket connection to"]
    browser_server.stop()
    wait_js(page, "document.getElementById('dashboard').dataset.ws === 'closed'", 10,
            message="the page to notice the server is gone")
    assert page.is_visible("#ws-state")

    browser_server.start()
    wait_js(page, "document.getElementById('dashboard').dataset.ws === 'open'", 60,
            message="the WebSocket to reconnect")
    # The restarted worker numbers frames from 0 again.  If the page reconnects while that count
    # is still below its own, it must adopt it (a "restart"); if the count already passed it,
    # the new state is simply newer.  Either way frames must flow again.
    wait_js(page, f"""(() => {{ const d = document.getElementById('dashboard').dataset;
                        return +d.restarts >= 1 || +d.frame > {frame_before}; }})()""", 10,
            message="the page to adopt the restarted server's state")
    restarted = int(page.get_attribute("#dashboard", "data-restarts")) >= 1
    f = int(page.get_attribute("#dashboard", "data-frame"))
    wait_js(page, f"+document.getElementById('dashboard').dataset.frame > {f}", 10,
            message="frames to flow again")
    assert not page.is_visible("#ws-state")
    # The same cluster came back, pods included, and the page never reloaded.
    wait_js(page, """document.querySelectorAll('#diagram .pod[data-owner="ReplicaSet/keep"][data-phase=Running]').length === 2""",
            60, message="ReplicaSet keep running after the restart")
    assert sorted(p["name"] for p in pods(page, '[data-owner="ReplicaSet/keep"]')) == before
    assert page.evaluate("window.__sameDocument") == "yes"
    assert page.locator("#event-log li.separator").count() == (1 if restarted else 0)
    ids = page.evaluate("[...document.querySelectorAll('#event-log li[id]')].map(l => l.id).filter(Boolean)")
    assert len(ids) == len(set(ids))
