"""Snapshot deltas (cluster/worker/snapdelta.py): what a frame carries instead of the snapshot,
and the frame's encoding once per frame (cluster/worker/frames.py, group_message)."""
from __future__ import annotations

import copy
import json

import pytest

from cluster.worker import frames as frames_module
from tests.cluster.framerc import FrameRc
from cluster.worker.snapdelta import DeltaEncoder, DeltaError, SnapshotFollower, apply, diff
from sim.cluster import Cluster, ClusterConfig
from tests.builders import MakeReplicaSet, MakePod


def pod(name: str, phase: str = "Running") -> dict:
    return {"namespace": "default", "name": name, "phase": phase, "ready": phase == "Running", "ip": None}


BASE = {"cluster": "x", "time": 1.0, "nodes": [{"name": "n1", "alive": True, "pods": [pod("a"), pod("b"), pod("c")]},
                                                {"name": "n2", "alive": True, "pods": []}],
        "pending": [], "etcd": [{"name": "etcd-1", "role": "leader", "term": 2}], "summarised": False}

CASES = {
    "unchanged": lambda s: None,
    "the clock moves": lambda s: s.update(time=1.1),
    "a pod changes phase": lambda s: s["nodes"][0]["pods"][1].update(phase="Failed", ready=False),
    "a pod is added in the middle": lambda s: s["nodes"][0]["pods"].insert(1, pod("ab", "Pending")),
    "pods are removed": lambda s: s["nodes"][0]["pods"].__delitem__(slice(0, 2)),
    "a list empties and another fills": lambda s: (s["nodes"][0].update(pods=[]),
                                                   s["nodes"][1].update(pods=[pod("x"), pod("y")])),
    "a key goes, one comes": lambda s: (s.pop("summarised"), s.update(podTotal=3)),
    "a value changes type": lambda s: s["etcd"][0].update(term=None, role={"was": "leader"}),
    "a node is added and one goes": lambda s: s.update(nodes=[s["nodes"][1], {"name": "n3", "pods": []}]),
    "scalars in lists": lambda s: s.update(pending=[1, 2, 3]),
    "pods come and go at both ends while one changes": lambda s: s["nodes"][0].update(
        pods=[pod("0"), pod("a"), dict(pod("b"), phase="Failed"), pod("c2"), pod("d")]),
    "a pod replaced by another of the same count": lambda s: s["nodes"][0]["pods"].__setitem__(1, pod("bb")),
}


@pytest.mark.parametrize("change", CASES.values(), ids=CASES.keys())
def test_applying_the_diff_gives_the_new_snapshot_and_leaves_the_old_one(change):
    old = copy.deepcopy(BASE)
    new = copy.deepcopy(BASE)
    change(new)
    kept = copy.deepcopy(old)
    ops = diff(old, new)
    assert old == kept, "diff does not touch its inputs"
    # Through JSON, as a page gets it.
    ops = json.loads(json.dumps(ops))
    assert apply(old, ops) == new
    assert old == kept, "apply copies what it changes"
    if new == old:
        assert ops == []


def test_a_changed_pod_is_one_small_op_not_its_node():
    new = copy.deepcopy(BASE)
    new["nodes"][0]["pods"][2]["phase"] = "Succeeded"
    assert diff(BASE, new) == [["set", ["nodes", 0, "pods", 2, "phase"], "Succeeded"]]
    new = copy.deepcopy(BASE)
    new["nodes"][0]["pods"].insert(2, pod("bb"))
    assert diff(BASE, new) == [["splice", ["nodes", 0, "pods"], 2, 0, [pod("bb")]]]
    # One pod added at the head, one gone at the tail, one changed between: matched by name.
    new = copy.deepcopy(BASE)
    new["nodes"][0]["pods"] = [pod("0"), pod("a"), pod("b", "Failed")]
    assert diff(BASE, new) == [["splice", ["nodes", 0, "pods"], 2, 1, []],
                               ["set", ["nodes", 0, "pods", 1, "phase"], "Failed"],
                               ["set", ["nodes", 0, "pods", 1, "ready"], False],
                               ["splice", ["nodes", 0, "pods"], 0, 0, [pod("0")]]]


@pytest.mark.parametrize("ops", [
    [["set", [], 1]],                                   # no path
    [["set", ["nodes", 9, "name"], "x"]],               # index out of range
    [["del", ["nope"]]],                                # no such key
    [["set", ["time", "x"], 1]],                        # through a scalar
    [["splice", ["nodes"], 1, 5, []]],                  # beyond the list
    [["splice", ["cluster"], 0, 0, []]],                # not a list
    [["move", ["time"], 1]],                            # unknown op
    "set",                                              # not a list of ops
])
def test_an_op_that_does_not_fit_is_refused(ops):
    with pytest.raises(DeltaError):
        apply(BASE, ops)


def test_encoder_sends_deltas_between_keyframes_and_whole_snapshots_when_cut():
    enc = DeltaEncoder(keyframe_frames=3)
    snaps = [dict(BASE, time=float(t)) for t in range(6)]
    out = [enc.encode({"frame": i, "snapshot": s}) for i, s in enumerate(snaps)]
    assert ["snapshotDelta" in f for f in out] == [False, True, True, False, True, True]
    assert out[1]["snapshot"] is None and out[1]["snapshotDelta"] == [["set", ["time"], 1.0]]
    # A frame without a snapshot passes unchanged and does not count; the next delta is against
    # the last snapshot sent.
    assert enc.encode({"frame": 6, "snapshot": None}) == {"frame": 6, "snapshot": None}
    assert "snapshotDelta" not in enc.encode({"frame": 7, "snapshot": dict(BASE, time=7.0)})
    assert enc.encode({"frame": 8, "snapshot": None}) == {"frame": 8, "snapshot": None}
    assert enc.encode({"frame": 9, "snapshot": dict(BASE, time=9.0)})["snapshotDelta"] == [["set", ["time"], 9.0]]
    # The same snapshot again (a paused cluster): no delta, the page keeps what it has.
    assert enc.encode({"frame": 10, "snapshot": dict(BASE, time=9.0)}) == {"frame": 10, "snapshot": None}
    # A frame cut down to fit (frames.fit) goes whole: pages hold exactly what it carries.
    cut = enc.encode({"frame": 11, "snapshot": dict(BASE, nodes=[]), "truncated": True})
    assert cut["snapshot"]["nodes"] == [] and "snapshotDelta" not in cut
    enc.keyframe()
    assert "snapshotDelta" not in enc.encode({"frame": 12, "snapshot": BASE})


def test_follower_rebuilds_each_snapshot_and_needs_a_start():
    enc = DeltaEncoder()
    enc.encode({"frame": 1, "snapshot": BASE})
    new = copy.deepcopy(BASE)
    new["nodes"][1]["pods"].append(pod("z"))
    frame = json.loads(json.dumps(enc.encode({"frame": 2, "snapshot": new})))
    assert SnapshotFollower(BASE).follow(frame)["snapshot"] == new
    with pytest.raises(DeltaError, match="no snapshot"):
        SnapshotFollower().follow(frame)


def test_a_running_cluster_followed_by_deltas_matches_its_snapshots():
    """The engine's real snapshots, frame after frame while a ReplicaSet fills and a node dies:
    a follower that applies only the deltas (through JSON) holds exactly each snapshot, and
    the deltas are a fraction of the snapshots' size."""
    c = Cluster("t", ClusterConfig.default(seed=3))
    c.advance(20)
    rs = (MakeReplicaSet().name("web").replicas(60).selector({"app": "web"})
          .template(MakePod().labels({"app": "web"}).container("nginx", name="c")).manifest())
    assert c.request({"verb": "create", "group": "apps", "version": "v1", "resource": "replicasets",
                      "namespace": "default", "body": rs})["code"] == 201
    enc = DeltaEncoder(keyframe_frames=10_000)
    first = c.snapshot(pod_limit=frames_module.SNAPSHOT_POD_LIMIT)
    enc.encode({"frame": 0, "snapshot": first})
    follower = SnapshotFollower(json.loads(json.dumps(first)))
    whole = sent = 0
    for i in range(1, 60):
        if i == 30:
            c.kill_node("worker-2")
        c.advance(0.5)
        snap = c.snapshot(pod_limit=frames_module.SNAPSHOT_POD_LIMIT)
        frame = json.loads(frames_module.encode(enc.encode({"frame": i, "snapshot": snap})))
        assert "snapshotDelta" in frame
        assert follower.follow(frame)["snapshot"] == json.loads(frames_module.encode(snap)), f"frame {i}"
        whole += len(frames_module.encode(snap))
        sent += len(frames_module.encode(frame["snapshotDelta"]))
    assert sum(len(n["pods"]) for n in follower.snapshot["nodes"]) >= 60
    assert sent < whole / 5, (sent, whole)


def test_the_frame_is_encoded_once_with_its_number_and_time_first():
    """The group message carries the frame's JSON text (every socket sends that same text) and
    its head names the frame and when it was produced (bench/fanout.py reads only the head)."""
    events = [{"kind": "message", "type": "create pods/binding → 201"}, {"kind": "action", "text": "pod 🚀 ünïcode"}]
    frame = frames_module.frame_message(FrameRc, events, 0, 0, copy.deepcopy(BASE))
    message = frames_module.group_message(frame)
    assert message["type"] == "cluster.frame" and message["frame"] == 7
    assert message["text"].startswith('{"type":"cluster.frame","cluster":"x","frame":7,"sentAt":')
    # ASCII only, so that each socket's UTF-8 encoding of it is a plain copy.
    assert message["text"].isascii() and "\\u2192" in message["text"]
    assert frames_module.decode_group_message(message) == json.loads(json.dumps(frame))
