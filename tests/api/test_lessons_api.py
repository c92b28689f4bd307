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
    assert chapters[:4] == ["containers", "orchestration", "features", "architecture"] and "batch" in chapters
    assert chapters.index("workloads") < chapters.index("scheduling")
    assert chapters.index("rollouts") < chapters.index("services") < chapters.index("configuration")
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


def test_a_lesson_from_a_saved_moment_starts_in_a_new_cluster_made_at_that_moment(pilothouse_server, cluster):
    """POST /sim/v1/clusters {"name", "lesson"}: the server imports the lesson's run (the browser
    does not carry it), leaves the cluster paused at the moment, and starts the lesson there."""
    from sim.lessons import load_lessons
    req = pilothouse_server.request
    end = load_lessons()["troubleshooting"].run()["end"]["time"]
    listed = {l["id"]: l for c in req("GET", f"/clusters/{cluster}/sim/v1/lessons")[1]["chapters"] for l in c["lessons"]}
    assert listed["troubleshooting"]["from"] == "runs/troubleshooting.json"
    assert listed["etcd-raft"]["from"] is None

    name = "lessons-api-moment"
    try:
        status, made = req("POST", "/sim/v1/clusters", {"name": name, "lesson": "troubleshooting"})
        assert status == 201, made
        assert made["cluster"] == name and made["lesson"] == "troubleshooting" and made["paused"] is True
        assert made["time"] == pytest.approx(end, abs=0.5)
        player = made["player"]
        assert player["lesson"] == "troubleshooting" and player["index"] == 0 and not player["playing"]
        # Paused at the moment: the clock stays there, and the cluster is in its trouble.
        status, clock = req("GET", f"/clusters/{name}/sim/v1/clock")
        assert status == 200 and clock["paused"] is True and clock["time"] == pytest.approx(end, abs=0.5)
        status, node = req("GET", f"/clusters/{name}/api/v1/nodes/worker-2")
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert status == 200 and ready["status"] == "Unknown"
        status, state = req("GET", f"/clusters/{name}/sim/v1/lesson")
        assert status == 200 and state["player"]["lesson"] == "troubleshooting" and state["step"]["index"] == 0
        assert state["player"]["checks"] and all(c["ok"] for c in state["player"]["checks"]), state["player"]["checks"]
    finally:
        req("DELETE", f"/sim/v1/clusters/{name}")


def test_a_lesson_with_a_cluster_spec_starts_in_a_new_cluster_of_that_shape(pilothouse_server):
    """The same request for a lesson with a `cluster:` spec: the cluster is made from the spec."""
    req = pilothouse_server.request
    name = "lessons-api-spec"
    try:
        status, made = req("POST", "/sim/v1/clusters", {"name": name, "lesson": "rollouts"})
        assert status == 201 and made["player"]["lesson"] == "rollouts", made
        def nodes():
            status, body = req("GET", f"/clusters/{name}/api/v1/nodes")
            return sorted(n["metadata"]["name"] for n in body["items"]) if status == 200 else None
        wait_until(lambda: nodes() == ["cp-1", "worker-1", "worker-2"], timeout=30, interval=0.1,
                   message="the spec's three nodes registered")
    finally:
        req("DELETE", f"/sim/v1/clusters/{name}")


def test_start_here_is_refused_for_a_lesson_that_starts_from_a_saved_moment(pilothouse_server, cluster):
    status, got = pilothouse_server.request("POST", f"/clusters/{cluster}/sim/v1/lesson", {"start": "troubleshooting"})
    assert status == 409 and got["kind"] == "Status" and got["reason"] == "Conflict"
    assert "starts from a saved moment" in got["message"] and "new cluster" in got["message"]


@pytest.mark.parametrize("body,code,reason", [
    ({"name": "lessons-api-x", "lesson": "no-such-lesson"}, 404, "NotFound"),
    ({"name": "lessons-api-x", "lesson": ""}, 400, "BadRequest"),
    ({"name": "lessons-api-x", "lesson": "troubleshooting", "seed": 3}, 400, "BadRequest"),
])
def test_a_bad_lesson_cluster_is_a_status(pilothouse_server, body, code, reason):
    status, got = pilothouse_server.request("POST", "/sim/v1/clusters", body)
    assert status == code and got["kind"] == "Status" and got["reason"] == reason, got
