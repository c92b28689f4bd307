"""Presenter, viewers, students and sandboxes (cluster/access.py, cluster/classroom.py,
cluster/sandboxes.py, cluster/worker/suspension.py) in-process, against a real simulation worker:
what a watcher of an owned cluster is refused (403 Status), what the presenter's token and link
allow, a student's token and kubeconfig, a sandbox from the index page, suspension, and the
presenter's view followed over the frames WebSocket."""
from __future__ import annotations

import asyncio
import re
from urllib.parse import unquote

import pytest
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient

from cluster import access, services
from cluster.worker import suspension
from tests.cluster.conftest import wait_bootstrapped

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

CLASS = "class-1"
SMALL = [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]
ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


async def owned(name: str = CLASS, roles: bool = False) -> str:
    """An owned cluster and its presenter's (admin's) token."""
    await services.create_cluster(name, nodes=SMALL, access="owned")
    if not roles:
        return (await services.cluster_access(name))["token"]
    await wait_bootstrapped(name)
    # ... and until the default roles exist and `edit` has its aggregated rules (the API server's
    # post-start hook makes them, the clusterrole-aggregation-controller fills them).
    req = {"verb": "get", "group": "rbac.authorization.k8s.io", "version": "v1", "resource": "clusterroles",
           "namespace": None, "name": "edit", "subresource": None, "body": None, "patch_type": None, "query": {}}
    async with asyncio.timeout(10):
        while not ((await services.cluster_api(name, req)).get("body") or {}).get("rules"):
            await asyncio.sleep(0.02)
    return (await services.cluster_access(name))["token"]


def bearer(token: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def assert_forbidden(r) -> None:
    assert r.status_code == 403, (r.status_code, r.content[:300])
    body = r.json()
    assert body["kind"] == "Status" and body["reason"] == "Forbidden" and body["code"] == 403, body
    assert "owned" in body["message"]


async def test_a_viewer_of_an_owned_cluster_only_watches(worker):
    token = await owned()
    viewer, presenter = AsyncClient(), AsyncClient()
    page = (await viewer.get(f"/clusters/{CLASS}/")).content.decode()
    assert 'data-role="viewer"' in page and "viewer: you watch, read-only" in page
    assert 'data-controls="false"' in page and 'class="row broken-actions"' not in page
    for control in ("create-pod-form", "create-rs-form", "btn-pause", "node-edit-form", "etcd-put-form",
                    "etcd-member-form", "btn-etcd-promote", "wl-create-form", "btn-cluster-reset", "student-form",
                    "kubeconfig-link"):
        assert f'id="{control}"' not in page, control
    assert 'id="diagram"' in page and 'id="follow-presenter"' in page

    # Every write of the page and the control API, the etcd snapshot and the kubeconfig: 403.
    for path, body in ((f"/clusters/{CLASS}/dashboard/pods", {"name": "x", "image": "nginx"}),
                       (f"/clusters/{CLASS}/dashboard/clock", {"paused": "true"}),
                       (f"/clusters/{CLASS}/dashboard/nodes/kill", {"node": "worker-1"}),
                       (f"/clusters/{CLASS}/dashboard/students", {"student": "eve", "role": "edit"})):
        assert_forbidden(await viewer.post(path, body))
    assert_forbidden(await viewer.post(f"/clusters/{CLASS}/sim/v1/clock", {"paused": True},
                                       content_type="application/json"))
    assert_forbidden(await viewer.post(f"/clusters/{CLASS}/sim/v1/nodes/worker-1/kill", content_type="application/json"))
    assert_forbidden(await viewer.get(f"/clusters/{CLASS}/sim/v1/etcd/snapshot"))
    assert_forbidden(await viewer.post(f"/clusters/{CLASS}/sim/v1/etcd/members", {"host": "etcd-9"},
                                       content_type="application/json"))
    assert_forbidden(await viewer.post(f"/clusters/{CLASS}/dashboard/etcd/members", {"host": "etcd-9"}))
    assert_forbidden(await viewer.get(f"/sim/v1/clusters/{CLASS}/kubeconfig"))
    assert_forbidden(await viewer.delete(f"/sim/v1/clusters/{CLASS}"))
    # The timeline's reads that show stored values or carry the cluster's tokens, and a fork,
    # which would copy them into a cluster of the viewer's own.
    assert_forbidden(await viewer.get(f"/clusters/{CLASS}/sim/v1/export"))
    assert_forbidden(await viewer.get(f"/clusters/{CLASS}/sim/v1/history/0"))
    assert_forbidden(await viewer.post(f"/clusters/{CLASS}/sim/v1/fork", {"name": "copy"},
                                       content_type="application/json"))
    assert_forbidden(await viewer.post("/sim/v1/clusters", {"name": "copy", "forkOf": {"cluster": CLASS}},
                                       content_type="application/json"))
    assert (await viewer.get(f"/clusters/{CLASS}/sim/v1/history")).status_code == 200, "the list of moments"
    # A token that is not the cluster's changes nothing.
    assert_forbidden(await viewer.post(f"/clusters/{CLASS}/sim/v1/clock", {"paused": True},
                                       content_type="application/json", **bearer("not-a-token")))
    # Watching is allowed: the state, the clock.
    assert (await viewer.get(f"/clusters/{CLASS}/dashboard/state")).status_code == 200
    assert (await viewer.get(f"/clusters/{CLASS}/sim/v1/clock")).status_code == 200
    assert (await services.get_clock(CLASS))["paused"] is False

    # The presenter's token (Authorization header) controls it.
    r = await presenter.post(f"/clusters/{CLASS}/sim/v1/clock", {"paused": True}, content_type="application/json",
                             **bearer(token))
    assert r.status_code == 200 and r.json()["paused"] is True
    r = await presenter.get(f"/sim/v1/clusters/{CLASS}/kubeconfig", **bearer(token))
    assert r.status_code == 200 and r.json()["users"][0]["user"]["token"] == token


async def test_the_page_reads_objects_as_its_visitor_under_rbac(worker):
    """The Objects view's list and YAML and the object drawer read as whoever opened the page: a
    viewer of an owned cluster is impersonated as `pilothouse:viewer` (bound to `view`), so RBAC
    shows a ConfigMap and refuses a Secret with upstream's message; a student reads as their
    ServiceAccount (edit in their namespace: its Secrets too); the presenter reads everything."""
    token = await owned(roles=True)
    async with asyncio.timeout(10):   # the post-start hook's binding for the page's viewers
        while (await services.cluster_api(CLASS, {
                "verb": "get", "group": "rbac.authorization.k8s.io", "version": "v1", "resource": "clusterrolebindings",
                "namespace": None, "name": "pilothouse:viewers", "subresource": None, "body": None,
                "patch_type": None, "query": {}}))["code"] != 200:
            await asyncio.sleep(0.02)
    from cluster import classroom
    alice = await classroom.make_student(CLASS, "alice", "edit")
    for ns, kind, body in (("default", "secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                                                   "stringData": {"password": "hunter2"}}),
                           ("student-alice", "secrets", {"apiVersion": "v1", "kind": "Secret",
                                                         "metadata": {"name": "mine"}, "stringData": {"k": "v"}}),
                           ("default", "configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                      "metadata": {"name": "cfg"}, "data": {"a": "1"}})):
        req = {"verb": "create", "group": "", "version": "v1", "resource": kind, "namespace": ns,
               "name": None, "subresource": None, "body": body, "patch_type": None, "query": {}}
        assert (await services.cluster_api(CLASS, req))["code"] == 201
    viewer, student, presenter = AsyncClient(), AsyncClient(), AsyncClient()

    def forbidden_by_rbac(r, user: str, verb: str, resource: str) -> None:
        assert r.status_code == 403, (r.status_code, r.content[:300])
        if r["Content-Type"].startswith("application/json"):
            body = r.json()
            assert (body["kind"], body["reason"]) == ("Status", "Forbidden")
            assert f'User "{user}" cannot {verb} resource "{resource}"' in body["message"], body["message"]

    for kind in ("Secret", "secrets", "secret"):
        forbidden_by_rbac(await viewer.get(f"/clusters/{CLASS}/dashboard/objects/read",
                                           {"kind": kind, "namespace": "default", "name": "db"}),
                          "pilothouse:viewer", "get", "secrets")
    r = await viewer.get(f"/clusters/{CLASS}/dashboard/objects/get", {"kind": "Secret", "namespace": "default",
                                                                      "name": "db"})
    assert "hunter2" not in r.content.decode() and "aHVudGVyMg==" not in r.content.decode()
    assert 'cannot get resource \"secrets\"' in r.content.decode() or "cannot get resource &quot;secrets&quot;" \
        in r.content.decode() or 'cannot get resource "secrets"' in r.content.decode(), r.content[:400]
    forbidden_by_rbac(await viewer.get(f"/clusters/{CLASS}/dashboard/objects/list", {"kind": "secrets"}),
                      "pilothouse:viewer", "list", "secrets")
    r = await viewer.get(f"/clusters/{CLASS}/dashboard/objects/read", {"kind": "ConfigMap", "namespace": "default",
                                                                       "name": "cfg"})
    assert r.status_code == 200 and r.json()["object"]["data"] == {"a": "1"}

    sa = f"system:serviceaccount:student-alice:alice"
    forbidden_by_rbac(await student.get(f"/clusters/{CLASS}/dashboard/objects/read",
                                        {"kind": "Secret", "namespace": "default", "name": "db"}, **bearer(alice["token"])),
                      sa, "get", "secrets")
    r = await student.get(f"/clusters/{CLASS}/dashboard/objects/read",
                          {"kind": "Secret", "namespace": "student-alice", "name": "mine"}, **bearer(alice["token"]))
    assert r.status_code == 200 and r.json()["object"]["data"] == {"k": "dg=="}

    r = await presenter.get(f"/clusters/{CLASS}/dashboard/objects/read", {"kind": "Secret", "namespace": "default",
                                                                          "name": "db"}, **bearer(token))
    assert r.status_code == 200 and r.json()["object"]["data"]["password"] == "aHVudGVyMg=="
    r = await presenter.get(f"/clusters/{CLASS}/dashboard/objects/list", {"kind": "secrets"}, **bearer(token))
    assert r.status_code == 200 and {"db", "mine"} <= {o["name"] for o in r.json()["items"]}


async def test_the_presenter_link_keeps_the_token_in_a_cookie(worker):
    token = await owned()
    client = AsyncClient()
    r = await client.get(f"/clusters/{CLASS}/?token={token}")
    assert r.status_code == 302 and r["Location"] == f"/clusters/{CLASS}/"   # the token leaves the URL
    cookie = r.cookies[access.cookie_name(CLASS)]
    assert cookie.value == token and cookie["httponly"] and cookie["samesite"] == "Lax"
    page = (await client.get(f"/clusters/{CLASS}/")).content.decode()
    assert 'data-role="presenter"' in page
    assert 'id="create-pod-form"' in page and 'id="btn-pause"' in page and 'id="student-form"' in page
    r = await client.post(f"/clusters/{CLASS}/dashboard/clock", {"paused": "true"})
    assert r.status_code == 200 and (await services.get_clock(CLASS))["paused"] is True
    # The page's own reads of the Kubernetes API act as the presenter (an anonymous one is 403).
    assert (await client.get(f"/clusters/{CLASS}/api/v1/namespaces/default/pods")).status_code == 200
    assert (await AsyncClient().get(f"/clusters/{CLASS}/api/v1/namespaces/default/pods")).status_code == 403

    # A wrong token is refused, and ?token= (empty) forgets the cookie.
    assert (await AsyncClient().get(f"/clusters/{CLASS}/?token=nope")).status_code == 403
    r = await client.get(f"/clusters/{CLASS}/?token=")
    assert r.status_code == 302 and r.cookies[access.cookie_name(CLASS)].value == ""


async def test_the_open_demo_stays_open_and_says_so(worker):
    client = AsyncClient()
    page = (await client.get("/clusters/demo/")).content.decode()
    assert 'data-role="open"' in page and "open: anyone here can change it" in page
    assert 'id="create-pod-form"' in page and 'id="kubeconfig-link"' in page
    assert (await client.post("/clusters/demo/dashboard/clock", {"speed": "2"})).status_code == 200
    assert (await client.get("/sim/v1/clusters/demo/kubeconfig")).status_code == 200


async def test_a_student_gets_a_token_bound_to_their_role(worker):
    token = await owned(roles=True)
    presenter, student = AsyncClient(), AsyncClient()
    r = await presenter.post(f"/clusters/{CLASS}/dashboard/students", {"student": "alice", "role": "edit"},
                             **bearer(token))
    assert r.status_code == 200, r.content
    html = r.content.decode()
    assert "system:serviceaccount:student-alice:alice" in html
    link = re.search(r'class="student-link" value="([^"]+)"', html).group(1)
    alice = unquote(link.split("?token=", 1)[1])
    assert 'download="class-1-alice.kubeconfig"' in html

    # The student's link: a student, who watches (no controls) and downloads their own kubeconfig.
    r = await student.get(link.replace("http://testserver", ""))
    assert r.status_code == 302
    page = (await student.get(f"/clusters/{CLASS}/")).content.decode()
    assert 'data-role="student"' in page and 'id="create-pod-form"' not in page
    assert 'data-controls="false"' in page   # no fault buttons in the pod details either
    assert "system:serviceaccount:student-alice:alice" in page
    config = (await student.get(f"/sim/v1/clusters/{CLASS}/kubeconfig")).json()
    assert config["users"][0]["user"]["token"] == alice
    assert config["contexts"][0]["context"]["namespace"] == "student-alice"
    assert_forbidden(await student.post(f"/clusters/{CLASS}/dashboard/clock", {"paused": "true"}))

    # RBAC holds the token to `edit` in student-alice and `view` elsewhere.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    r = await student.post(f"/clusters/{CLASS}/api/v1/namespaces/student-alice/pods", pod,
                           content_type="application/json", **bearer(alice))
    assert r.status_code == 201, r.content
    r = await student.post(f"/clusters/{CLASS}/api/v1/namespaces/default/pods", pod,
                           content_type="application/json", **bearer(alice))
    assert r.status_code == 403 and r.json()["reason"] == "Forbidden"
    assert (await student.get(f"/clusters/{CLASS}/api/v1/namespaces/default/pods", **bearer(alice))).status_code == 200

    # The presenter's list of students (a new link for each); watchers do not get it.
    listed = (await presenter.get(f"/clusters/{CLASS}/dashboard/students", **bearer(token))).content.decode()
    assert 'data-student="alice"' in listed and "edit" in listed and "student-alice" in listed
    assert_forbidden(await student.get(f"/clusters/{CLASS}/dashboard/students"))
    assert_forbidden(await AsyncClient().get(f"/clusters/{CLASS}/dashboard/students"))

    # Bad input is a readable error.
    r = await presenter.post(f"/clusters/{CLASS}/dashboard/students", {"student": "<b>x</b>", "role": "edit"},
                             **bearer(token))
    assert r.status_code == 400 and b"&lt;b&gt;" in r.content and b"<b>" not in r.content
    r = await presenter.post(f"/clusters/{CLASS}/dashboard/students", {"student": "bob", "role": "admin"},
                             **bearer(token))
    assert r.status_code == 400 and b"Unsupported value" in r.content


async def test_a_sandbox_from_the_index_page(worker):
    client = AsyncClient(enforce_csrf_checks=True)
    index = await client.get("/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', index.content.decode()).group(1)
    form = {"owner": "Zoë", "topology": "external", "etcd_members": "3", "workers": "1",
            "runtime": "cri-o", "cni": "calico"}
    # Without the CSRF token the form is refused (CsrfViewMiddleware).
    assert (await client.post("/sandboxes", form)).status_code == 403
    r = await client.post("/sandboxes", {**form, "csrfmiddlewaretoken": csrf})
    assert r.status_code == 303 and r["Location"] == "/clusters/zo-sandbox/", r.content[:500]
    assert r.cookies[access.cookie_name("zo-sandbox")].value == (await services.cluster_access("zo-sandbox"))["token"]
    page = (await client.get("/clusters/zo-sandbox/")).content.decode()
    assert 'data-role="presenter"' in page and "Zoë" in page
    rows = {c["name"]: c for c in await services.clusters_summary()}
    assert rows["zo-sandbox"]["owner"] == "Zoë" and rows["zo-sandbox"]["access"] == "owned"
    index = (await AsyncClient().get("/")).content.decode()
    assert 'data-row="zo-sandbox"' in index and "Zoë" in index
    # An anonymous visitor watches it.
    assert 'data-role="viewer"' in (await AsyncClient().get("/clusters/zo-sandbox/")).content.decode()
    # Bad input: a readable error on the index page, no cluster.
    r = await client.post("/sandboxes", {**form, "owner": "x", "workers": "99", "csrfmiddlewaretoken": csrf})
    assert r.status_code == 400 and b"workers: 99 is not one of" in r.content


async def test_clusters_nobody_watches_are_suspended_and_resume_on_demand(worker, settings):
    await owned()
    rc = worker.clusters[CLASS]
    settings.PILOTHOUSE = {**settings.PILOTHOUSE, "SUSPEND_AFTER_SECONDS": 0.2}
    rc.last_active -= 1   # nothing asked for it for a second
    await worker.tick()
    assert rc.suspended
    row = {c["name"]: c for c in await services.clusters_summary()}[CLASS]
    assert row["state"] == "suspended"   # the list does not wake it
    before = rc.engine.now
    for _ in range(3):
        await worker.tick()
    assert rc.engine.now == before        # not run while suspended
    await services.get_clock(CLASS)       # an API request resumes it
    assert not rc.suspended
    # A watched cluster is never suspended.
    suspension.watch(rc, +1)
    rc.last_active -= 10
    assert not suspension.maybe_suspend(rc)
    suspension.watch(rc, -1)
    rc.last_active -= 10
    assert suspension.maybe_suspend(rc)


async def test_viewers_follow_the_presenters_view_and_selection(worker):
    from config.asgi import application

    token = await owned()
    cookie = (b"cookie", f"{access.cookie_name(CLASS)}={token}".encode())
    presenter = WebsocketCommunicator(application, f"/clusters/{CLASS}/ws", headers=[*ORIGIN, cookie])
    viewer = WebsocketCommunicator(application, f"/clusters/{CLASS}/ws", headers=ORIGIN)
    for comm in (presenter, viewer):
        assert (await comm.connect())[0]
        assert (await comm.receive_json_from(timeout=10))["type"] == "cluster.state"
    async with asyncio.timeout(5):   # each page counts once its state is sent
        while worker.clusters[CLASS].watchers != 2:
            await asyncio.sleep(0.02)

    async def next_follow(comm) -> dict:
        async with asyncio.timeout(10):
            while True:
                msg = await comm.receive_json_from(timeout=10)
                if msg["type"] == "cluster.follow":
                    return msg

    # A viewer's "follow" is ignored; the presenter's reaches every page, and a later page's
    # state carries it.
    await viewer.send_json_to({"type": "follow", "view": "network", "selection": None})
    await presenter.send_json_to({"type": "follow", "view": "workloads",
                                  "selection": {"kind": "pod", "name": "default/web-1", "extra": "x" * 10}})
    msg = await next_follow(viewer)
    assert msg == {"type": "cluster.follow", "view": "workloads", "selection": {"kind": "pod", "name": "default/web-1"}}
    assert (await services.cluster_state(CLASS))["follow"]["view"] == "workloads"
    # The object drawer's object is a selection too ("<resource>.<group>:<ns>/<name>").
    await presenter.send_json_to({"type": "follow", "view": "workloads",
                                  "selection": {"kind": "drawer", "name": "deployments.apps:default/web"}})
    assert (await next_follow(viewer))["selection"] == {"kind": "drawer", "name": "deployments.apps:default/web"}
    # Bad values are dropped: an unknown view, a selection that is not one.
    await presenter.send_json_to({"type": "follow", "view": "<script>", "selection": None})
    await presenter.send_json_to({"type": "follow", "view": "etcd", "selection": {"kind": "x", "name": 5}})
    assert await next_follow(viewer) == {"type": "cluster.follow", "view": "etcd", "selection": None}
    for comm in (presenter, viewer):
        await comm.disconnect()
    async with asyncio.timeout(5):
        while worker.clusters[CLASS].watchers:
            await asyncio.sleep(0.02)


async def test_every_dashboard_post_needs_the_csrf_token(worker):
    """CsrfViewMiddleware covers every form of the page: each POST URL of the dashboard refuses a
    request without the token (the page's htmx sends it from <body hx-headers>)."""
    from django.urls import URLPattern, get_resolver

    client = AsyncClient(enforce_csrf_checks=True)
    page = (await client.get("/clusters/demo/")).content.decode()
    csrf = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    paths = []
    for p in get_resolver().url_patterns:
        for q in getattr(p, "url_patterns", [p]):
            route = str(q.pattern)
            if isinstance(q, URLPattern) and ("dashboard/" in route or route in ("sandboxes",)):
                if "/state" in route:
                    continue
                paths.append("/" + route.replace("<str:name>", "demo").replace("(?P<name>[^/]+)", "demo")
                             .replace("(?P<action>kill|restore|timeout|transfer-leadership|isolate)", "kill")
                             .replace("^", "").replace("$", ""))
    assert len(paths) >= 29 and "/sandboxes" in paths
    for path in paths:
        r = await client.post(path, {"x": "1"})
        assert r.status_code == 403 and b"CSRF" in r.content, path
    # With the page's token the request reaches its view (which answers on its own terms).
    r = await client.post("/clusters/demo/dashboard/clock", {"speed": "2"}, headers={"X-CSRFToken": csrf})
    assert r.status_code == 200


async def test_every_websocket_refuses_another_sites_page(worker):
    """Each WebSocket of the site (the frames, the console, kubectl's exec/attach/port-forward)
    refuses a page of another origin (config/asgi.py)."""
    from config.asgi import application

    for path in ("/clusters/demo/ws", "/clusters/demo/console/ws",
                 "/clusters/demo/api/v1/namespaces/default/pods/p/exec",
                 "/clusters/demo/api/v1/namespaces/default/pods/p/attach",
                 "/clusters/demo/api/v1/namespaces/default/pods/p/portforward"):
        comm = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://evil.example"),
                                                                 (b"host", b"127.0.0.1")])
        connected, _ = await comm.connect()
        assert not connected, path
        await comm.disconnect()


async def test_the_teacher_token_presents_every_cluster(worker, settings):
    await owned()
    settings.PILOTHOUSE = {**settings.PILOTHOUSE, "TEACHER_TOKEN": "teach-me"}
    teacher = AsyncClient()
    assert (await teacher.get("/?token=wrong")).status_code == 403
    r = await teacher.get("/?token=teach-me")
    assert r.status_code == 302 and r.cookies[access.TEACHER_COOKIE].value == "teach-me"
    page = (await teacher.get(f"/clusters/{CLASS}/")).content.decode()
    assert 'data-role="presenter"' in page and 'id="presenter-link"' in page
    assert (await teacher.post(f"/clusters/{CLASS}/dashboard/clock", {"paused": "true"})).status_code == 200
    # The page's reads of the Kubernetes API act as the cluster's admin.
    assert (await teacher.get(f"/clusters/{CLASS}/api/v1/namespaces/default/pods")).status_code == 200
    # Without it (the setting empty), the same cookie is nobody's.
    settings.PILOTHOUSE = {**settings.PILOTHOUSE, "TEACHER_TOKEN": ""}
    assert_forbidden(await teacher.post(f"/clusters/{CLASS}/dashboard/clock", {"paused": "false"}))
