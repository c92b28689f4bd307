"""The timeline through the control API (cluster/worker/timeline.py, docs/timeline.md), in
process against a real simulation worker: the history of moments and the cluster as it was at
one, export and import replaying a run byte for byte, forks from a moment, and the errors, each a
Kubernetes Status."""
from __future__ import annotations

import asyncio
import json

import pytest
from django.test import AsyncClient

from cluster.worker import SimulationWorker
from cluster.worker.timeline import etcd_store, keyspace_digest
from tests.builders import MakePod
from tests.cluster.conftest import call, wait_bootstrapped

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SMALL = {"seed": 4, "nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]}




async def small_cluster(client: AsyncClient, name: str) -> None:
    """A paused two-node cluster, run 20 s into its life."""
    await call(client, "POST", "/sim/v1/clusters", {"name": name, **SMALL}, expect=201)
    await call(client, "POST", f"/clusters/{name}/sim/v1/clock", {"paused": True})
    await call(client, "POST", f"/clusters/{name}/sim/v1/clock", {"advance": "20s"})


async def create_pod(client: AsyncClient, cluster: str, name: str) -> None:
    pod = MakePod().name(name).namespace("default").container("nginx:1.27", name="app").manifest()
    await call(client, "POST", f"/clusters/{cluster}/api/v1/namespaces/default/pods", pod, expect=201)


async def moment_after(client: AsyncClient, cluster: str, t: float, timeout: float = 10.0) -> dict:
    """The first moment at or after virtual time `t` (the frame loop keeps it; bounded wait)."""
    async with asyncio.timeout(timeout):
        while True:
            moments = (await call(client, "GET", f"/clusters/{cluster}/sim/v1/history"))["moments"]
            later = [m for m in moments if m["time"] >= t]
            if later:
                return later[0]
            await asyncio.sleep(0.05)


def pod_names(snapshot: dict) -> set[str]:
    return {p["name"] for n in snapshot["nodes"] for p in n["pods"]} | {p["name"] for p in snapshot["pending"]}


async def test_history_shows_the_cluster_as_it_was_before_a_pod_was_created(bare_worker):
    client = AsyncClient()
    await small_cluster(client, "tl-hist")
    before = await moment_after(client, "tl-hist", 20.0)
    await create_pod(client, "tl-hist", "late")
    await call(client, "POST", "/clusters/tl-hist/sim/v1/clock", {"advance": "10s"})
    after = await moment_after(client, "tl-hist", 30.0)

    listing = await call(client, "GET", "/clusters/tl-hist/sim/v1/history")
    assert listing["replayable"] is True and listing["journal"] >= 1
    assert listing["bounds"]["moments"] > 0 and listing["bytes"] > 0
    times = [m["time"] for m in listing["moments"]]
    assert times == sorted(times)

    then = await call(client, "GET", f"/clusters/tl-hist/sim/v1/history/{before['time']}s")
    assert then["frame"] == before["frame"]
    assert "late" not in pod_names(then["snapshot"])
    assert "/registry/pods/default/late" not in [kv[0] for kv in then["etcd"]["kvs"]]
    assert "late" not in [o["metadata"]["name"] for o in then["objects"] if o["kind"] == "Pod"]

    now = await call(client, "GET", f"/clusters/tl-hist/sim/v1/history/frame-{after['frame']}?parts=snapshot,etcd")
    assert "late" in pod_names(now["snapshot"])
    assert "/registry/pods/default/late" in [kv[0] for kv in now["etcd"]["kvs"]]
    assert set(now) == {"cluster", "time", "frame", "revision", "replayable", "snapshot", "etcd"}  # only the parts asked for


async def test_an_exported_run_imported_elsewhere_ends_byte_for_byte_where_it_did(bare_worker):
    client = AsyncClient()
    await small_cluster(client, "tl-run")
    await create_pod(client, "tl-run", "web")
    await call(client, "POST", "/clusters/tl-run/sim/v1/clock", {"advance": "5s"})
    await call(client, "POST", "/clusters/tl-run/sim/v1/nodes/worker-1/kill")
    await call(client, "POST", "/clusters/tl-run/sim/v1/etcd/put", {"key": "/lesson/step", "value": "2"})
    await call(client, "POST", "/clusters/tl-run/sim/v1/clock", {"advance": "12s"})
    await call(client, "POST", "/clusters/tl-run/sim/v1/nodes/worker-1/restore")
    await call(client, "POST", "/clusters/tl-run/sim/v1/clock", {"advance": "3s"})

    export = await call(client, "GET", "/clusters/tl-run/sim/v1/export")
    assert export["kind"] == "PilothouseRun" and export["seed"] == 4
    assert [e["op"] for e in export["journal"] if e["op"] != "api"] == ["node.kill", "etcd.put", "node.restore"]
    assert any(e["args"]["request"]["verb"] == "create" for e in export["journal"] if e["op"] == "api")

    # Across a JSON round trip, as a file downloaded and uploaded elsewhere would be; a long
    # run's export is larger than the control API's usual 2.5 MB bodies.
    carried = json.loads(json.dumps(export))
    carried["metadata"]["note"] = "x" * 3_000_000
    made = await call(client, "POST", "/sim/v1/clusters", {"name": "tl-copy", "import": carried}, expect=201)
    assert made["verified"] is True and made["paused"] is True
    original, copy = bare_worker.clusters["tl-run"].engine, bare_worker.clusters["tl-copy"].engine
    assert copy.now == original.now == export["end"]["time"]
    assert copy.kernel.events_run == original.kernel.events_run
    a, b = etcd_store(original), etcd_store(copy)
    assert [(k, kv.value, kv.mod_revision, kv.version) for k, kv in sorted(a.current.items())] == \
           [(k, kv.value, kv.mod_revision, kv.version) for k, kv in sorted(b.current.items())]
    assert keyspace_digest(b.current.items()) == export["end"]["etcdDigest"]
    assert json.dumps(dict(original.snapshot(), cluster=None), sort_keys=True) == \
           json.dumps(dict(copy.snapshot(), cluster=None), sort_keys=True)
    # The copy carries the run on: its own export has the same journal.
    again = await call(client, "GET", "/clusters/tl-copy/sim/v1/export")
    assert again["journal"] == export["journal"]


async def test_a_run_a_lesson_acted_on_replays_byte_for_byte(bare_worker):
    """The lesson player's actions are journaled one by one ("lesson.do", with the leader the
    lesson remembered), not as the `lesson` command a replay has no player for: a run a lesson
    acted on exports, imports and forks like any other."""
    client = AsyncClient()
    await small_cluster(client, "tl-lesson")
    await call(client, "POST", "/clusters/tl-lesson/sim/v1/lesson", {"start": "self-healing"})
    for _ in range(4):   # "n": narration moves on, an action runs (show me)
        await call(client, "POST", "/clusters/tl-lesson/sim/v1/lesson", {"action": "next"})
        await call(client, "POST", "/clusters/tl-lesson/sim/v1/clock", {"advance": "3s"})
    export = await call(client, "GET", "/clusters/tl-lesson/sim/v1/export")
    ops = [e["op"] for e in export["journal"] if e["op"] != "api"]
    assert "lesson" not in ops and "lesson.do" in ops, ops
    lines = [e["args"]["line"] for e in export["journal"] if e["op"] == "lesson.do"]
    assert lines[0].startswith("create replicaset web"), lines
    made = await call(client, "POST", "/sim/v1/clusters", {"name": "tl-lesson-copy", "import": export}, expect=201)
    assert made["verified"] is True, made
    original, copy = bare_worker.clusters["tl-lesson"].engine, bare_worker.clusters["tl-lesson-copy"].engine
    assert copy.kernel.events_run == original.kernel.events_run
    assert keyspace_digest(etcd_store(copy).current.items()) == export["end"]["etcdDigest"]
    # A fork from the latest moment replays it too (it was refused with 409 before).
    moments = (await call(client, "GET", "/clusters/tl-lesson/sim/v1/history"))["moments"]
    await call(client, "POST", "/clusters/tl-lesson/sim/v1/fork", {"name": "tl-lesson-fork", "frame": moments[-1]["frame"]},
               expect=201)


async def test_a_run_given_commands_while_its_clock_runs_replays_byte_for_byte(bare_worker):
    """Commands that come in while the frame loop runs the cluster land between two kernel
    events, wherever the loop's slice stopped: the journal's points say exactly where."""
    client = AsyncClient()
    await call(client, "POST", "/sim/v1/clusters", {"name": "tl-live", **SMALL}, expect=201)
    await call(client, "POST", "/clusters/tl-live/sim/v1/clock", {"speed": 20})
    await wait_bootstrapped("tl-live")
    for i in range(3):
        await create_pod(client, "tl-live", f"web-{i}")
        await call(client, "POST", "/clusters/tl-live/sim/v1/etcd/put", {"key": f"/lesson/{i}", "value": "x"})
        await call(client, "GET", "/clusters/tl-live/api/v1/namespaces/default/pods")  # a read that travels
    await call(client, "POST", "/clusters/tl-live/sim/v1/network/partition", {"groups": [["worker-1"], ["cp-1"]]})
    await call(client, "POST", "/clusters/tl-live/sim/v1/network/heal")
    await call(client, "POST", "/clusters/tl-live/sim/v1/clock", {"paused": True})
    export = await call(client, "GET", "/clusters/tl-live/sim/v1/export")
    assert len(export["journal"]) >= 11
    made = await call(client, "POST", "/sim/v1/clusters", {"name": "tl-live-copy", "import": export}, expect=201)
    assert made["verified"] is True
    original, copy = bare_worker.clusters["tl-live"].engine, bare_worker.clusters["tl-live-copy"].engine
    assert (copy.now, copy.kernel.events_run) == (original.now, original.kernel.events_run)
    assert json.dumps(dict(original.snapshot(), cluster=None), sort_keys=True) == \
           json.dumps(dict(copy.snapshot(), cluster=None), sort_keys=True)


async def test_an_export_from_another_engine_replays_at_its_times_when_not_exact(bare_worker):
    """An export whose points this engine does not reach (made by another version, say) is
    refused as not faithful; with "exact": false its commands are applied at their virtual
    times instead, as a lesson's saved start would want."""
    client = AsyncClient()
    await small_cluster(client, "tl-old")
    await create_pod(client, "tl-old", "web")
    await call(client, "POST", "/clusters/tl-old/sim/v1/etcd/put", {"key": "/lesson/start", "value": "1"})
    await call(client, "POST", "/clusters/tl-old/sim/v1/clock", {"advance": "5s"})
    export = await call(client, "GET", "/clusters/tl-old/sim/v1/export")
    other = dict(export, journal=[dict(e, events=e["events"] + 7) for e in export["journal"]],
                 end=dict(export["end"], events=export["end"]["events"] + 7))
    data = await call(client, "POST", "/sim/v1/clusters", {"name": "tl-new", "import": other}, expect=409)
    assert "could not be replayed faithfully" in data["message"]
    assert "tl-new" not in bare_worker.clusters

    made = await call(client, "POST", "/sim/v1/clusters", {"name": "tl-new", "import": other, "exact": False},
                      expect=201)
    assert made["replayed"] == len(export["journal"]) and made["time"] == export["end"]["time"]
    # Its own journal holds the points where the commands came in here: it replays exactly.
    own = await call(client, "GET", "/clusters/tl-new/sim/v1/export")
    assert [e["op"] for e in own["journal"]] == [e["op"] for e in export["journal"]]
    await call(client, "GET", "/clusters/tl-new/api/v1/namespaces/default/pods/web")
    assert etcd_store(bare_worker.clusters["tl-new"].engine).current["/lesson/start"].value == "1"
    again = await call(client, "POST", "/sim/v1/clusters", {"name": "tl-newer", "import": own}, expect=201)
    assert again["verified"] is True


async def test_a_fork_from_a_moment_is_the_cluster_as_it_was_then(bare_worker):
    client = AsyncClient()
    await small_cluster(client, "tl-src")
    await create_pod(client, "tl-src", "early")
    await call(client, "POST", "/clusters/tl-src/sim/v1/clock", {"advance": "5s"})
    before = await moment_after(client, "tl-src", 25.0)
    await create_pod(client, "tl-src", "late")
    await call(client, "POST", "/clusters/tl-src/sim/v1/clock", {"advance": "5s"})

    made = await call(client, "POST", "/clusters/tl-src/sim/v1/fork", {"name": "tl-fork", "frame": before["frame"]},
                      expect=201)
    assert made["forkOf"] == {"cluster": "tl-src", "time": before["time"]}
    then = await call(client, "GET", f"/clusters/tl-src/sim/v1/history/frame-{before['frame']}?parts=etcd")
    forked = etcd_store(bare_worker.clusters["tl-fork"].engine)
    assert [[k, kv.value, kv.mod_revision] for k, kv in sorted(forked.current.items())] == then["etcd"]["kvs"]
    await call(client, "GET", "/clusters/tl-fork/api/v1/namespaces/default/pods/early")
    await call(client, "GET", "/clusters/tl-fork/api/v1/namespaces/default/pods/late", expect=404)
    await call(client, "GET", "/clusters/tl-src/api/v1/namespaces/default/pods/late")

    # The same through POST /sim/v1/clusters, by virtual time; the fork then runs on its own.
    made = await call(client, "POST", "/sim/v1/clusters",
                      {"name": "tl-fork2", "forkOf": {"cluster": "tl-src", "time": 10}}, expect=201)
    assert made["time"] == 10.0
    await call(client, "GET", "/clusters/tl-fork2/api/v1/namespaces/default/pods/early", expect=404)
    await call(client, "POST", "/clusters/tl-fork2/sim/v1/clock", {"advance": "2s"})


async def test_timeline_errors_are_kubernetes_status(bare_worker, fresh_layer):
    client = AsyncClient()
    await small_cluster(client, "tl-err")

    def status(data: dict, code: int, reason: str) -> None:
        assert (data["kind"], data["status"], data["code"], data["reason"]) == ("Status", "Failure", code, reason), data

    status(await call(client, "GET", "/clusters/nope/sim/v1/history", expect=404), 404, "NotFound")
    status(await call(client, "GET", "/clusters/tl-err/sim/v1/history/yesterday", expect=400), 400, "BadRequest")
    status(await call(client, "GET", "/clusters/tl-err/sim/v1/history/-5", expect=404), 404, "NotFound")
    status(await call(client, "GET", "/clusters/tl-err/sim/v1/history/3?parts=everything", expect=400), 400,
           "BadRequest")
    status(await call(client, "POST", "/clusters/tl-err/sim/v1/fork", {"name": "tl-err"}, expect=409), 409,
           "AlreadyExists")
    status(await call(client, "POST", "/clusters/tl-err/sim/v1/fork", {"name": "x", "time": 1e6}, expect=400), 400,
           "BadRequest")
    status(await call(client, "POST", "/clusters/tl-err/sim/v1/fork", {"name": "Bad_Name"}, expect=400), 400,
           "BadRequest")
    status(await call(client, "POST", "/sim/v1/clusters", {"name": "x", "import": {"kind": "Pod"}}, expect=422), 422,
           "Invalid")
    export = await call(client, "GET", "/clusters/tl-err/sim/v1/export")
    broken = dict(export, journal=[{"op": "api", "args": {}, "t": "soon", "events": 1}])
    status(await call(client, "POST", "/sim/v1/clusters", {"name": "x", "import": broken}, expect=422), 422, "Invalid")
    hostile = dict(export, journal=[{"op": "api", "args": {"request": {"verb": "create"}}, "t": 0.0, "events": 0},
                                    {"op": "cluster.delete", "args": {}, "t": 1.0, "events": 10}])
    data = await call(client, "POST", "/sim/v1/clusters", {"name": "x", "import": hostile}, expect=422)
    status(data, 422, "Invalid")
    assert "cannot be replayed: 'cluster.delete'" in data["message"]
    assert "x" not in bare_worker.clusters
    # A request the API server refuses (no resource) is replayed as that refusal: the run goes on.
    # The journal was edited, so the run is not the original's: imported at each entry's virtual
    # time ("exact": false), not its exact event count, which the refusal's own events shift (an
    # exact import then diverges or not by where the run's end fell: a flaky 409).
    hostile["journal"] = hostile["journal"][:1]
    data = await call(client, "POST", "/sim/v1/clusters", {"name": "x", "import": hostile, "exact": False},
                      expect=201)
    assert data["replayed"] == 1 and "x" in bare_worker.clusters



async def test_a_restored_cluster_cannot_be_replayed_but_forks_from_a_checkpoint(bare_worker, fresh_layer):
    """After a restart the cluster is restored from the database, not replayed: its run before
    the restart is not kept, so it says so instead of exporting a run that would not replay; a
    fork is then restored from a moment's etcd keyspace, as the restart itself was."""
    client = AsyncClient()
    await small_cluster(client, "tl-again")
    await create_pod(client, "tl-again", "kept")
    await bare_worker.stop()
    again = SimulationWorker(channel_layer=fresh_layer, frame_rate=20, seed_demo=False)
    await again.start()
    try:
        data = await call(client, "GET", "/clusters/tl-again/sim/v1/export", expect=409)
        assert (data["kind"], data["code"], data["reason"]) == ("Status", 409, "Conflict")
        assert "restored from the database" in data["message"]
        listing = await call(client, "GET", "/clusters/tl-again/sim/v1/history")
        assert listing["replayable"] is False and "restored from the database" in listing["unreplayable"]
        await call(client, "POST", "/clusters/tl-again/sim/v1/clock", {"advance": "2s"})
        moment = await moment_after(client, "tl-again", listing["time"] + 1)

        made = await call(client, "POST", "/clusters/tl-again/sim/v1/fork",
                          {"name": "tl-again-fork", "frame": moment["frame"]}, expect=201)
        assert made["mode"] == "checkpoint" and made["forkOf"]["time"] == moment["time"]
        assert made["paused"] is True
        await call(client, "GET", "/clusters/tl-again-fork/api/v1/namespaces/default/pods/kept")
        then = await call(client, "GET", f"/clusters/tl-again/sim/v1/history/frame-{moment['frame']}?parts=etcd")
        forked = etcd_store(again.clusters["tl-again-fork"].engine)
        # Every key of the moment is there (the restored control plane may have written since,
        # as after a restart: node heartbeats, a pod's status).
        assert {k for k, _, _ in then["etcd"]["kvs"]} <= set(forked.current)
        # ... and its own run cannot be replayed either (it says why).
        data = await call(client, "GET", "/clusters/tl-again-fork/sim/v1/export", expect=409)
        assert "checkpoint" in data["message"]
    finally:
        await again.stop()


async def restart(worker: SimulationWorker, fresh_layer) -> SimulationWorker:
    """Stop the worker (it persists a last time) and start a new one on the same database."""
    await worker.stop()
    again = SimulationWorker(channel_layer=fresh_layer, frame_rate=20, seed_demo=False)
    await again.start()
    return again


async def test_the_history_before_a_restart_is_kept_and_its_moments_fork_by_replay(bare_worker, fresh_layer):
    """A restart keeps the history (the moments' pages, the journal): the page can still scrub
    back to before it, and a fork from such a moment replays the journal from the origin, so it
    is the cluster as it was then, byte for byte, and can be exported."""
    client = AsyncClient()
    await small_cluster(client, "tl-kept")
    await create_pod(client, "tl-kept", "before")
    await call(client, "POST", "/clusters/tl-kept/sim/v1/clock", {"advance": "2s"})
    moment = await moment_after(client, "tl-kept", 21.0)
    then = await call(client, "GET", f"/clusters/tl-kept/sim/v1/history/frame-{moment['frame']}")
    assert "before" in pod_names(then["snapshot"])
    digest = keyspace_digest((k, type("KV", (), {"value": v, "mod_revision": r})) for k, v, r in then["etcd"]["kvs"])
    old_frames = [m["frame"] for m in (await call(client, "GET", "/clusters/tl-kept/sim/v1/history"))["moments"]]

    again = await restart(bare_worker, fresh_layer)
    try:
        listing = await call(client, "GET", "/clusters/tl-kept/sim/v1/history")
        assert [m["frame"] for m in listing["moments"]][:len(old_frames)] == old_frames
        assert listing["replayable"] is False and "restored from the database" in listing["unreplayable"]
        kept = next(m for m in listing["moments"] if m["frame"] == moment["frame"])
        assert kept["replayable"] is True and kept["time"] == moment["time"]
        # The page's view of that moment is as it was (its snapshot and log) ...
        page = await call(client, "GET", f"/clusters/tl-kept/sim/v1/history/frame-{moment['frame']}?parts=snapshot,events")
        assert page["snapshot"] == then["snapshot"] and page["events"] == then["events"]
        # ... its keyspace, not stored, is rebuilt by replaying the journal: byte for byte ...
        rebuilt = await call(client, "GET", f"/clusters/tl-kept/sim/v1/history/frame-{moment['frame']}?parts=etcd,objects")
        assert rebuilt["etcd"] == then["etcd"] and rebuilt["objects"] == then["objects"]
        # ... and new frames count on from the old ones.
        await call(client, "POST", "/clusters/tl-kept/sim/v1/clock", {"advance": "2s"})
        later = await moment_after(client, "tl-kept", listing["time"] + 1)
        assert later["frame"] > old_frames[-1] and later["replayable"] is False

        made = await call(client, "POST", "/clusters/tl-kept/sim/v1/fork",
                          {"name": "tl-kept-fork", "frame": moment["frame"]}, expect=201)
        assert made["mode"] == "replay" and made["time"] == moment["time"]
        assert keyspace_digest(etcd_store(again.clusters["tl-kept-fork"].engine).current.items()) == digest
        await call(client, "GET", "/clusters/tl-kept-fork/api/v1/namespaces/default/pods/before")
        exported = await call(client, "GET", "/clusters/tl-kept-fork/sim/v1/export")
        assert exported["end"]["etcdDigest"] == digest
    finally:
        await again.stop()


async def test_a_reset_starts_a_new_history_that_a_restart_keeps(bare_worker, fresh_layer):
    client = AsyncClient()
    await small_cluster(client, "tl-reset")
    await create_pod(client, "tl-reset", "old-run")
    await moment_after(client, "tl-reset", 20.0)
    await call(client, "POST", "/clusters/tl-reset/sim/v1/reset", {})
    await call(client, "POST", "/clusters/tl-reset/sim/v1/clock", {"paused": True})
    await call(client, "POST", "/clusters/tl-reset/sim/v1/clock", {"advance": "3s"})
    fresh = await moment_after(client, "tl-reset", 3.0)
    again = await restart(bare_worker, fresh_layer)
    try:
        moments = (await call(client, "GET", "/clusters/tl-reset/sim/v1/history"))["moments"]
        assert moments and fresh["frame"] in [m["frame"] for m in moments]
        for m in moments:
            page = await call(client, "GET", f"/clusters/tl-reset/sim/v1/history/frame-{m['frame']}?parts=snapshot")
            assert "old-run" not in pod_names(page["snapshot"])
    finally:
        await again.stop()


async def test_a_lesson_playing_resumes_at_its_step_after_a_restart(bare_worker, fresh_layer):
    client = AsyncClient()
    await small_cluster(client, "tl-lesson")
    await call(client, "POST", "/clusters/tl-lesson/sim/v1/lesson", {"start": "architecture-request-path"})
    await call(client, "POST", "/clusters/tl-lesson/sim/v1/lesson", {"action": "goto", "step": 3})
    await call(client, "POST", "/clusters/tl-lesson/sim/v1/lesson", {"action": "play"})
    before = (await call(client, "GET", "/clusters/tl-lesson/sim/v1/lesson"))["player"]
    assert before["index"] >= 2 and before["playing"] is True
    again = await restart(bare_worker, fresh_layer)
    try:
        after = (await call(client, "GET", "/clusters/tl-lesson/sim/v1/lesson"))["player"]
        assert after is not None and after["lesson"] == "architecture-request-path"
        assert after["index"] >= before["index"] and after["playing"] is True
        assert after["states"][:before["index"]] == before["states"][:before["index"]]
    finally:
        await again.stop()


async def test_a_moment_damaged_in_the_database_is_an_error_not_a_crash():
    """A moment's stored page that is not what was written (a hand-edited database) answers a
    clear error when it is looked at; the other moments and the journal are still there."""
    import zlib

    from cluster.worker.timeline import Timeline, TimelineError

    good = zlib.compress(json.dumps({"snapshot": {"nodes": []}, "events": []}).encode())
    rows = [{"seq": i, "time": float(i), "frame": i, "events": i * 10, "revision": 1, "journal": 0,
             "replayable": True, "blob": blob} for i, blob in enumerate([good, b"not zlib", good])]
    tl = Timeline.restored({"origin": {"seed": 1}, "nextSeq": 3}, [], rows, "restored")
    assert [m.summary()["frame"] for m in tl.moments] == [0, 1, 2]
    with pytest.raises(TimelineError) as e:
        tl.state_at("frame-1", {"snapshot"})
    assert e.value.reason == "InternalError" and "corrupt" in e.value.message
    assert tl.state_at("frame-2", {"snapshot"})["snapshot"] == {"nodes": []}
    assert tl.next_seq == 3
    # A moment whose run cannot be replayed has no way back to its keyspace: 410 Expired.
    tl.moments[2].replayable = False
    with pytest.raises(TimelineError) as e:
        tl.state_at("frame-2", {"etcd"})
    assert e.value.reason == "Expired" and "cannot be replayed" in e.value.message
