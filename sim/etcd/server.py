"""An etcd member: serves Txn, Range, Watch and Compact to the API server.

Writes go through `propose`, the seam for consensus: with one member an entry commits at once;
the Raft group (issue 3) replaces `propose` with log replication and commits on a majority.
"""
from __future__ import annotations

from typing import Any

from sim.component import Component
from sim.etcd.mvcc import CompactedError, FutureRevisionError, MVCCStore


class EtcdMember(Component):
    component = "etcd"

    def __init__(self, host: str, store: MVCCStore | None = None):
        super().__init__(host)
        # The keyspace is the member's disk: it survives a restart of the process.
        self.store = store or MVCCStore()
        self.watches: dict[tuple[str, Any], tuple[str, int]] = {}  # (client, id) -> (prefix, next rev)

    def on_stop(self) -> None:
        self.watches.clear()  # connections die with the process

    def on_message(self, src: str, msg: dict[str, Any]) -> None:
        t = msg["type"]
        if t == "etcd.txn":
            self.propose(src, msg)
        elif t == "etcd.range":
            self.step_range(src, msg)
        elif t == "etcd.watch":
            self.step_watch(src, msg)
        elif t == "etcd.compact":
            try:
                self.store.compact(msg["revision"])
                self.emit("etcd", member=self.address, op="compact", revision=msg["revision"])
            except (CompactedError, FutureRevisionError):
                pass

    # -- writes ------------------------------------------------------------------------
    def propose(self, src: str, msg: dict[str, Any]) -> None:
        """Single member: the entry is committed and applied immediately."""
        self.apply(src, msg)

    def apply(self, src: str, msg: dict[str, Any]) -> None:
        before = self.store.revision
        ok, rev, cur = self.store.txn(msg["key"], msg.get("compare", "none"), msg.get("target", 0),
                                      msg.get("value"))
        reply = {"type": "etcd.txn.reply", "id": msg["id"], "succeeded": ok, "revision": rev}
        if not ok and cur is not None:
            reply["current"] = {"value": cur.value, "mod_revision": cur.mod_revision}
        self.send(src, reply, "txn reply")
        if self.store.revision != before:
            self.notify_watchers(before + 1)

    # -- reads -------------------------------------------------------------------------
    def step_range(self, src: str, msg: dict[str, Any]) -> None:
        try:
            kvs = self.store.range(msg["prefix"], msg.get("revision", 0))
            reply = {"type": "etcd.range.reply", "id": msg["id"], "revision": self.store.revision,
                     "kvs": [(kv.key, kv.value, kv.mod_revision) for kv in kvs]}
        except (CompactedError, FutureRevisionError) as e:
            reply = {"type": "etcd.range.reply", "id": msg["id"], "error": str(e)}
        self.send(src, reply, "range reply")

    def step_watch(self, src: str, msg: dict[str, Any]) -> None:
        key = (src, msg["id"])
        start = msg.get("start_revision") or self.store.revision + 1
        try:
            events = self.store.events_since(start, msg["prefix"])
        except CompactedError as e:
            self.send(src, {"type": "etcd.watch.compacted", "id": msg["id"],
                            "compact_revision": e.compact_revision}, "watch compacted")
            return
        self.watches[key] = (msg["prefix"], self.store.revision + 1)
        if events:
            self._send_events(src, msg["id"], events)

    def notify_watchers(self, from_rev: int) -> None:
        events = self.store.events_since(from_rev)
        for (client, wid), (prefix, _next) in self.watches.items():
            matching = [e for e in events if e.key.startswith(prefix)]
            if matching:
                self._send_events(client, wid, matching)

    def _send_events(self, client: str, wid, events) -> None:
        self.send(client, {"type": "etcd.watch.events", "id": wid,
                           "events": [(e.revision, e.key, e.value) for e in events]}, "watch event")
