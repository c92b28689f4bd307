"""WatchList (KEP-3157), as the newest kubectl uses it to wait for a deletion: a watch with
sendInitialEvents=true sends the current objects as ADDED events, then a BOOKMARK annotated
k8s.io/initial-events-end with the list's resourceVersion, then the changes."""
from __future__ import annotations

import json
import urllib.request

from tests.builders import MakePod


def test_watch_with_send_initial_events_ends_them_with_a_bookmark(pilothouse_server, module_cluster):
    name = module_cluster("watchlist")
    pods = f"/clusters/{name}/api/v1/namespaces/default/pods"
    pod = MakePod().name("w").container("nginx", name="c").manifest()
    status, body = pilothouse_server.request("POST", pods, pod)
    assert status == 201, body
    url = (pilothouse_server.base + pods + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
           "&resourceVersionMatch=NotOlderThan&resourceVersion=1&fieldSelector=metadata.name%3Dw&timeoutSeconds=2")
    with urllib.request.urlopen(url, timeout=30) as r:
        events = [json.loads(line) for line in r.read().splitlines() if line.strip()]
    assert [e["type"] for e in events[:2]] == ["ADDED", "BOOKMARK"], events
    assert events[0]["object"]["metadata"]["name"] == "w"
    bookmark = events[1]["object"]
    assert bookmark["kind"] == "Pod" and bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(body["metadata"]["resourceVersion"])
