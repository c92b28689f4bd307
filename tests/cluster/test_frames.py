"""Frames stay small whatever a cluster holds (cluster/worker/frames.py, issue 8)."""
from __future__ import annotations

import json

from cluster.worker import frames as frames_module
from tests.cluster.framerc import FrameRc


def fake_snapshot(pods_per_node: int, nodes: int = 3, pending: int = 0, replicasets: int = 1) -> dict:
    def pod(i, node):
        return {"namespace": "default", "name": f"p-{node}-{i}", "phase": "Running" if i % 3 else "Pending",
                "reason": None, "ready": True, "terminating": i % 7 == 0, "ip": "10.0.0.1", "owner": None,
                "node": node, "nominated": None}
    return {"cluster": "x", "time": 1.0, "resourceVersion": 5,
            "nodes": [{"name": f"n-{n}", "pods": [pod(i, f"n-{n}") for i in range(pods_per_node)], "taints": []}
                      for n in range(nodes)],
            "pending": [pod(i, None) for i in range(pending)],
            "replicasets": [{"namespace": "default", "name": f"rs-{i}"} for i in range(replicasets)],
            "control_plane": [], "etcd": [], "network": {}, "scheduler": {}}


def test_no_frame_exceeds_the_size_limit():
    big_events = [{"kind": "message", "type": "x", "payload": "y" * 5000} for _ in range(200)]
    big_log = [{"kind": "k8s-event", "message": "z" * 2000} for _ in range(300)]
    kept, logged, omitted, omitted_log = frames_module.select_events(big_events + big_log + big_log)
    assert len(logged) == frames_module.MAX_FRAME_LOG_EVENTS and omitted_log == 300
    frame = frames_module.frame_message(FrameRc, kept, omitted, omitted_log, fake_snapshot(200, nodes=2))
    assert len(json.dumps(frame)) <= frames_module.MAX_FRAME_BYTES
    assert frame["truncated"] is True




def test_an_elections_votes_are_kept_in_a_frame_full_of_other_hops():
    """A busy cluster's frame (pods starting everywhere) is capped; a Raft election's votes and
    each member pair's grouped heartbeats still claim slots before the control plane's other
    traffic, so the etcd panel draws the election it is about."""
    busy = [{"kind": "message", "src": "kube-controller-manager@cp-1", "dst": "kube-apiserver@cp-1",
             "type": "update leases", "t": i} for i in range(frames_module.MAX_FRAME_EVENTS * 2)]
    votes = [{"kind": "message", "src": "etcd@etcd-2", "dst": "etcd@etcd-3", "type": t, "t": 999}
             for t in ("MsgPreVote", "MsgPreVoteResp", "MsgVote", "MsgVoteResp")]
    beats = [{"kind": "message", "src": "etcd@etcd-2", "dst": "etcd@etcd-3", "type": "MsgHeartbeat", "t": 1000 + i}
             for i in range(5)]
    kept, _, omitted, _ = frames_module.select_events(busy + votes + beats)
    types = [e["type"] for e in kept]
    assert types[:4] == ["MsgPreVote", "MsgPreVoteResp", "MsgVote", "MsgVoteResp"]
    assert [e["count"] for e in kept if e["type"] == "MsgHeartbeat"] == [5]
    assert len(kept) == frames_module.MAX_FRAME_EVENTS and omitted == len(busy) - (frames_module.MAX_FRAME_EVENTS - 5)


def test_the_console_s_hops_are_kept_in_a_frame_full_of_other_hops():
    """A student's own command (the page's kubectl console, console@client) and its reply keep
    their slots in a busy frame."""
    busy = [{"kind": "message", "src": "kube-controller-manager@cp-1", "dst": "kube-apiserver@cp-1",
             "type": "update leases", "t": i} for i in range(frames_module.MAX_FRAME_EVENTS * 2)]
    typed = [{"kind": "message", "src": "console@client", "dst": "kube-apiserver@cp-1", "type": "list pods", "t": 5000},
             {"kind": "message", "src": "kube-apiserver@cp-1", "dst": "console@client", "type": "list pods → 200",
              "t": 5001}]
    kept, _, _, _ = frames_module.select_events(busy + typed)
    assert [e["type"] for e in kept[:2]] == ["list pods", "list pods → 200"]
