"""The lessons' control API (cluster/api/lessonviews.py) on a live server: the list and a lesson,
a lesson started and stepped on a cluster, and bad input answered as a Kubernetes Status."""
from __future__ import annotations

import pytest

from tests.conftest import wait_until

SPEC = {"etcd": {"members": 1}, "nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]}


@pytest.fixture(scope="module")
def cluster(pilothouse_server, module_cluster):
    return module_cluster("lessons-api", speed=5, spec=SPEC)


def test_the_list_and_a_lesson_with_its_text_rendered(pilothouse_server, cluster):
    req = pilothouse_server.request
    status, body = req("GET", f"/clusters/{cluster}/sim/v1/lessons")
    assert status == 200 and body["kind"] == "LessonList"
    chapters = [c["name"] for c in body["chapters"]]
    assert chapters[:2] == ["architecture", "etcd"] and "batch" in chapters
    status, lesson = req("GET", f"/clusters/{cluster}/sim/v1/lessons/etcd-raft")
    assert status == 200 and lesson["chapter"] == "etcd" and lesson["cluster"]["etcd"]["members"] == 3
    first = lesson["steps"][0]
    assert "<strong>etcd member</strong>" in first["html"]["narration"] and first["wait"] == ["etcd leader"]


def test_a_lesson_started_and_stepped_on_a_cluster(pilothouse_server, cluster):
    req = pilothouse_server.request
    url = f"/clusters/{cluster}/sim/v1/lesson"
    status, body = req("POST", url, {"start": "architecture-request-path"})
    assert status == 200 and body["player"]["index"] == 0 and body["step"]["title"] == "The control plane"
    wait_until(lambda: req("GET", url)[1]["player"]["checks"][0]["ok"], timeout=30, interval=0.2,
               message="step 1's check (worker-1 Ready)")
    status, body = req("POST", url, {"action": "next"})
    assert status == 200 and body["player"]["index"] == 1 and body["player"]["states"][0] == "passed"
    status, body = req("POST", url, {"action": "next"})      # runs `create pod web`, then waits for it
    assert status == 200
    wait_until(lambda: req("GET", url)[1]["player"]["index"] == 2, timeout=30, interval=0.2, message="step 3")
    assert req("GET", url)[1]["player"]["states"][1] == "done"   # done by the lesson's action, not passed
    assert req("GET", f"/clusters/{cluster}/api/v1/namespaces/default/pods/web")[0] == 200
    status, body = req("POST", url, {"action": "back"})
    assert status == 200 and body["player"]["index"] == 1 and not body["player"]["playing"]
    status, body = req("POST", url, {"action": "stop"})
    assert status == 200 and body["player"] is None


@pytest.mark.parametrize("method,path,body,code,reason", [
    ("POST", "lesson", {"action": "fly"}, 400, "BadRequest"),
    ("POST", "lesson", {"action": 3}, 400, "BadRequest"),
    ("POST", "lesson", {"start": ""}, 400, "BadRequest"),
    ("POST", "lesson", {"start": "no-such-lesson"}, 404, "NotFound"),
    ("POST", "lesson", {"colour": "red"}, 400, "BadRequest"),
    ("POST", "lesson", [1, 2], 400, "BadRequest"),
    ("POST", "lesson", {}, 400, "BadRequest"),
    ("POST", "lesson", {"action": "next"}, 409, "Conflict"),
    ("GET", "lessons/no-such-lesson", None, 404, "NotFound"),
    ("DELETE", "lesson", None, 405, "MethodNotAllowed"),
])
def test_bad_input_is_a_status(pilothouse_server, cluster, method, path, body, code, reason):
    req = pilothouse_server.request
    req("POST", f"/clusters/{cluster}/sim/v1/lesson", {"action": "stop"})
    status, got = req(method, f"/clusters/{cluster}/sim/v1/{path}", body)
    assert status == code, got
    if code != 405:
        assert got["kind"] == "Status" and got["status"] == "Failure" and got["reason"] == reason and got["code"] == code
    else:
        assert got["error"]["reason"] == reason


def test_an_unknown_cluster_is_a_not_found_status(pilothouse_server):
    status, got = pilothouse_server.request("GET", "/clusters/no-such-cluster/sim/v1/lesson")
    assert status == 404 and got["kind"] == "Status" and got["reason"] == "NotFound"
