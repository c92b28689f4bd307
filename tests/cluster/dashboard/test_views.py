"""The dashboard's views in-process, against a real simulation worker (no browser): pages,
the resync state, and every action with its success and its API error."""
from __future__ import annotations

import re

import pytest
from django.test import AsyncClient

pytestmark = pytest.mark.asyncio

BASE = "/clusters/demo/dashboard"


@pytest.fixture
def client():
    return AsyncClient()


async def test_index_lists_clusters(worker, client):
    r = await client.get("/")
    assert r.status_code == 200
    assert b'href="/clusters/demo/"' in r.content


async def test_cluster_page_embeds_its_frame_and_state(worker, client):
    r = await client.get("/clusters/demo/")
    assert r.status_code == 200
    html = r.content.decode()
    assert re.search(r'id="dashboard"[^>]*data-frame="\d+"', html)
    assert 'id="initial-state"' in html and 'ws-connect="/clusters/demo/ws"' in html
    assert (await client.get("/clusters/nope/")).status_code == 404


async def test_state_endpoint(worker, client):
    r = await client.get(f"{BASE}/state")
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    body = r.json()
    assert {"frame", "time", "speed", "paused", "snapshot", "log"} <= set(body)
    r = await client.get("/clusters/nope/dashboard/state")
    assert r.status_code == 404 and "nope" in r.json()["error"]


async def test_create_pod_and_its_errors(worker, client):
    r = await client.post(f"{BASE}/pods", {"name": "web-1", "image": "nginx", "cpu": "100m", "memory": "64Mi"})
    assert r.status_code == 200 and b"result ok" in r.content and b"default/web-1" in r.content

    r = await client.post(f"{BASE}/pods", {"name": "web-1", "image": "nginx"})
    assert r.status_code == 409 and b"already exists" in r.content and b"result error" in r.content

    r = await client.post(f"{BASE}/pods", {"name": "Bad_Name", "image": "nginx"})
    assert r.status_code == 422 and b"Bad_Name" in r.content

    r = await client.post(f"{BASE}/pods", {"name": "neg", "image": "nginx", "cpu": "-1"})
    assert r.status_code == 422 and b"cpu" in r.content

    r = await client.post(f"{BASE}/pods", {"name": "sel", "node_selector": "nokey"})
    assert r.status_code == 400 and b"key=value" in r.content


async def test_create_replicaset_and_delete_pod(worker, client):
    r = await client.post(f"{BASE}/replicasets", {"name": "web", "replicas": "2", "image": "nginx"})
    assert r.status_code == 200 and b"replicaset default/web created (2 replicas)" in r.content
    r = await client.post(f"{BASE}/replicasets", {"name": "web2", "replicas": "two"})
    assert r.status_code == 400 and b"whole number" in r.content

    r = await client.post(f"{BASE}/pods/delete", {"namespace": "default", "name": "ghost"})
    assert r.status_code == 404 and b"not found" in r.content
    r = await client.post(f"{BASE}/pods/delete", {"namespace": "default", "name": ""})
    assert r.status_code == 400


async def test_nodes(worker, client):
    r = await client.post(f"{BASE}/nodes/kill", {"node": "worker-1"})
    assert r.status_code == 200 and b"worker-1 killed" in r.content
    r = await client.post(f"{BASE}/nodes/restore", {"node": "worker-1"})
    assert r.status_code == 200 and b"worker-1 restored" in r.content
    r = await client.post(f"{BASE}/nodes/kill", {"node": "worker-99"})
    assert r.status_code == 404 and b"worker-99" in r.content
    r = await client.post(f"{BASE}/nodes", {"name": "worker-4", "cpu": "2", "memory": "4Gi"})
    assert r.status_code == 200 and b"worker-4 added" in r.content
    r = await client.post(f"{BASE}/nodes", {"name": "worker-4"})
    assert r.status_code == 409 and b"already exists" in r.content


async def test_clock(worker, client):
    r = await client.post(f"{BASE}/clock", {"paused": "true"})
    assert r.status_code == 200 and b'id="clock-result"' in r.content
    assert (await client.get(f"{BASE}/state")).json()["paused"] is True
    t = worker.clusters["demo"].engine.now
    r = await client.post(f"{BASE}/clock", {"step": "1s"})
    assert r.status_code == 200
    assert worker.clusters["demo"].engine.now == pytest.approx(t + 1.0)
    assert worker.clusters["demo"].paused
    r = await client.post(f"{BASE}/clock", {"speed": "5"})
    assert r.status_code == 200 and worker.clusters["demo"].speed == 5.0
    r = await client.post(f"{BASE}/clock", {"speed": "500"})
    assert r.status_code == 400 and b'id="clock-result"' in r.content
    r = await client.post(f"{BASE}/clock", {"speed": "fast"})
    assert r.status_code == 400 and b"not a number" in r.content
    r = await client.post(f"{BASE}/clock", {"advance": "10s"})
    assert r.status_code == 200
    assert worker.clusters["demo"].engine.now == pytest.approx(t + 11.0)
    r = await client.get(f"{BASE}/clock")
    assert r.status_code == 405


async def test_slow_motion_speeds_are_offered(worker, client):
    html = (await client.get("/clusters/demo/")).content.decode()
    assert '<option value="0.01"' in html and 'id="etcd-panel"' in html and 'id="etcd-svg"' in html
    r = await client.post(f"{BASE}/clock", {"speed": "0.01"})
    assert r.status_code == 200 and worker.clusters["demo"].speed == 0.01


async def test_etcd_member_actions_and_client_write(worker, client):
    from cluster import services

    await services.create_cluster("etcd-views", etcd={"members": 3, "topology": "external"})
    base = "/clusters/etcd-views/dashboard"
    r = await client.post(f"{base}/etcd/timeout", {"member": "etcd-2"})
    assert r.status_code == 200 and b'id="etcd-result"' in r.content and b"pre-vote" in r.content
    r = await client.post(f"{base}/etcd/kill", {"member": "etcd-2"})
    assert r.status_code == 200 and b"etcd-2 stopped" in r.content
    r = await client.post(f"{base}/etcd/timeout", {"member": "etcd-2"})
    assert r.status_code == 409 and b"result error" in r.content and b"stopped" in r.content
    r = await client.post(f"{base}/etcd/restore", {"member": "etcd-2"})
    assert r.status_code == 200 and b"restarted" in r.content
    r = await client.post(f"{base}/etcd/isolate", {"member": "etcd-3"})
    assert r.status_code == 200 and b"cut off" in r.content
    assert worker.clusters["etcd-views"].engine.network_state()["partition"][0] == ["etcd-3"]
    r = await client.post(f"{base}/network/heal")
    assert r.status_code == 200 and worker.clusters["etcd-views"].engine.network_state()["partition"] == []
    r = await client.post(f"{base}/etcd/kill", {"member": "etcd-9"})
    assert r.status_code == 404 and b"etcd-9" in r.content
    r = await client.post(f"{base}/etcd/kill", {})
    assert r.status_code == 400 and b"pick an etcd member" in r.content
    # After the heal, let the group settle on one leader every member knows (a write forwarded
    # to a member that has just lost its leader is dropped and times out, as with etcd).
    engine = worker.clusters["etcd-views"].engine

    def settled() -> bool:
        status = engine.etcd_status()
        leaders = {m["name"] for m in status if m["role"] == "leader"}
        return len(leaders) == 1 and all(m["leader"] in leaders for m in status)

    for _ in range(40):
        if settled():
            break
        await services.set_clock("etcd-views", advance="500ms")
    assert settled(), engine.etcd_status()
    r = await client.post(f"{base}/etcd/put", {"key": "/lesson/a", "value": "1"})
    assert r.status_code == 200 and b"committed at revision" in r.content
    r = await client.post(f"{base}/etcd/put", {"key": ""})
    assert r.status_code == 400
    for name in ("etcd-1", "etcd-2"):
        await services.etcd_member_action("etcd-views", name, "kill")
    r = await client.post(f"{base}/etcd/put", {"key": "/lesson/b", "value": "2"})
    assert r.status_code == 504 and b"request timed out" in r.content
    r = await client.get(f"{base}/etcd/kill")
    assert r.status_code == 405


VIEW_URLS = {"architecture": "/clusters/demo/", "workloads": "/clusters/demo/workloads",
             "network": "/clusters/demo/network", "etcd": "/clusters/demo/etcd",
             "scheduler": "/clusters/demo/scheduler", "objects": "/clusters/demo/objects",
             "lessons": "/clusters/demo/lessons"}


async def test_each_view_has_its_url_and_key(worker, client):
    for view, url in VIEW_URLS.items():
        r = await client.get(url)
        assert r.status_code == 200, url
        html = r.content.decode()
        assert re.search(rf'id="dashboard"[^>]*data-view="{view}"', html), view
        assert f'id="view-{view}"' in html
        assert re.search(rf'href="{re.escape(url)}" data-view="{view}" aria-keyshortcuts="\w"[^>]* aria-current="page"', html)
    keys = dict(re.findall(r'data-view="(\w+)" aria-keyshortcuts="(\w)"', html))
    assert keys == {"architecture": "a", "workloads": "w", "network": "t", "etcd": "e", "scheduler": "s",
                    "objects": "o", "lessons": "l"}


async def test_a_page_without_controls_has_no_form_and_no_action(worker, client):
    """Every control of the page is inside {% if controls %}: rendered with controls=False (a
    watcher's page), no form, no action button; the views and what they show stay."""
    from django.template.loader import render_to_string

    r = await client.get("/clusters/demo/")
    context = r.context.flatten() if hasattr(r.context, "flatten") else r.context[0].flatten()
    with_controls = render_to_string("dashboard/cluster.html", context)
    assert "<form" in with_controls and 'id="btn-pause"' in with_controls
    html = render_to_string("dashboard/cluster.html", {**context, "controls": False})
    assert 'data-controls="false"' in html  # poddetail.js leaves out the fault buttons
    # Left: the Objects view's form and the object drawer's, whose Reload reads (a GET), and the
    # console's, whose kubectl the API server holds to the page's identity.
    assert "<form" not in (html.replace('<form id="obj-form"', "").replace('<form id="console-form"', "")
                           .replace('<form id="drawer-form"', ""))
    assert re.findall(r'<button[^>]*id="([\w-]+)"[^>]*hx-post', html) == []
    assert re.findall(r'<button[^>]*id="([\w-]+)"[^>]*hx-get', html) == ["btn-obj-load", "drawer-reload"]
    for gone in ("btn-pause", "btn-step", "speed-select", "cluster-menu", "btn-etcd-kill", "btn-obj-save",
                 "create-pod-form", "wl-actions", "btn-nv-send", "btn-broken-reset", "student-form", "drawer-save",
                 "drawer-delete"):
        assert f'id="{gone}"' not in html, gone
    # The console stays: it runs kubectl as the page's identity, which the API holds to its
    # roles (an anonymous watcher of an owned cluster is refused there; docs/classroom.md).
    for kept in ("diagram", "pod-details", "etcd-svg", "scheduler-panel", "kinds-table", "wl-body", "network-panel", "event-log",
                 "btn-big", "view-nav"):
        assert f'id="{kept}"' in html, kept


async def test_objects_list_and_the_objects_views_editor(worker, client):
    r = await client.get(f"{BASE}/objects/list", {"kind": "namespaces"})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    body = r.json()
    assert body["kind"] == "Namespace" and body["namespaced"] is False and body["total"] == len(body["items"])
    names = {o["name"] for o in body["items"]}
    assert {"default", "kube-system"} <= names
    assert all(o["namespace"] == "" and o["age"] for o in body["items"])
    r = await client.get(f"{BASE}/objects/list", {"kind": "deployments.apps"})
    assert r.status_code == 200 and r.json()["resource"] == "deployments"
    r = await client.get(f"{BASE}/objects/list", {"kind": "nope"})
    assert r.status_code == 404 and r.json()["kind"] == "Status" and "nope" in r.json()["message"]
    assert (await client.get(f"{BASE}/objects/list")).status_code == 400
    # The Objects view's editor answers with its own element ids; an unknown editor is the
    # Workloads view's.
    r = await client.post(f"{BASE}/objects/get", {"kind": "namespaces", "name": "default", "editor": "obj"})
    html = r.content.decode()
    assert r.status_code == 200 and 'id="obj-body"' in html and 'id="obj-result"' in html and "name: default" in html
    r = await client.post(f"{BASE}/objects/get", {"kind": "namespaces", "name": "default", "editor": "<x>"})
    assert 'id="edit-body"' in r.content.decode()


async def test_the_drawers_read_an_object_and_only_its_events(worker, client):
    """dashboard:objects_read: the object as the API stores it, and the Events whose
    involvedObject is that object (a field selector on name, kind and namespace), no others."""
    def event(name, kind, obj):
        return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "default"},
                "involvedObject": {"kind": kind, "name": obj, "namespace": "default"},
                "reason": "Tested", "message": f"about {kind} {obj}", "type": "Normal"}
    api = "/clusters/demo/api/v1/namespaces/default"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "drawer-cm", "labels": {"a": "b"}}}
    assert (await client.post(f"{api}/configmaps", cm, content_type="application/json")).status_code == 201
    for name, kind, obj in (("e1", "ConfigMap", "drawer-cm"), ("e2", "ConfigMap", "other"),
                            ("e3", "Secret", "drawer-cm")):
        r = await client.post(f"{api}/events", event(name, kind, obj), content_type="application/json")
        assert r.status_code == 201, r.content
    r = await client.get(f"{BASE}/objects/read", {"kind": "configmaps", "namespace": "default", "name": "drawer-cm"})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    body = r.json()
    assert body["kind"] == "ConfigMap" and body["resource"] == "configmaps" and body["namespaced"] is True
    assert body["path"] == "api/v1/namespaces/default/configmaps/drawer-cm" and "delete" in body["verbs"]
    assert body["object"]["metadata"]["labels"] == {"a": "b"} and body["age"]
    assert [e["metadata"]["name"] for e in body["events"]] == ["e1"]
    # A kind with its apiVersion (an owner reference), a cluster-scoped object, and a refusal.
    r = await client.get(f"{BASE}/objects/read", {"kind": "Node", "apiVersion": "v1", "name": "worker-1"})
    assert r.status_code == 200 and r.json()["path"] == "api/v1/nodes/worker-1" and r.json()["namespaced"] is False
    r = await client.get(f"{BASE}/objects/read", {"kind": "configmaps", "namespace": "default", "name": "nope"})
    assert r.status_code == 404 and r.json()["kind"] == "Status" and "nope" in r.json()["message"]
