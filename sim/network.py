"""The simulated network: per-link latency, message loss, hosts cut off.

Messages travel between component addresses ("kubelet@worker-1"); a link is a pair of hosts.
A host that is cut off neither sends nor receives; a lossy link drops a share of messages.
Latency defaults: 0.1 ms on the same host (loopback), 0.5 ms + up to 0.5 ms jitter between
hosts (one datacentre).  All randomness comes from the kernel's seeded generator.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any


@dataclass
class Link:
    latency: float = 0.0005
    jitter: float = 0.0005
    loss: float = 0.0


LOOPBACK = Link(latency=0.0001, jitter=0.0, loss=0.0)


def host_of(address: str) -> str:
    return address.rpartition("@")[2]


class Network:
    def __init__(self, kernel):
        self.kernel = kernel
        self.default_link = Link()
        self.links: dict[frozenset, Link] = {}
        self.cut_off: set[str] = set()
        # A partition: host -> its group.  Links between hosts of different groups are cut;
        # hosts in no group keep reaching everyone (the partition cuts only between groups).
        self.partition_of: dict[str, int] = {}
        # Components talk over TCP-like streams (HTTP/2, gRPC): messages between the same two
        # addresses arrive in the order sent, whatever the jitter.
        self.last_arrival: dict[tuple[str, str], float] = {}
        self._hosts: dict[str, str] = {}  # address -> host (host_of), as sent from or to

    # -- faults ------------------------------------------------------------------------
    def cut(self, host: str) -> None:
        self.cut_off.add(host)

    def reconnect(self, host: str) -> None:
        self.cut_off.discard(host)

    def set_link(self, a: str, b: str, latency: float | None = None, jitter: float | None = None,
                 loss: float | None = None) -> None:
        link = self.links.setdefault(frozenset((a, b)), Link())
        if latency is not None:
            link.latency = latency
        if jitter is not None:
            link.jitter = jitter
        if loss is not None:
            link.loss = loss

    def partition(self, groups: list[list[str]]) -> None:
        seen: set[str] = set()
        for g in groups:
            dup = seen.intersection(g)
            if dup:
                raise ValueError(f"host {sorted(dup)[0]} is in two groups")
            seen.update(g)
        self.partition_of = {h: i for i, g in enumerate(groups) for h in g}

    def heal(self) -> None:
        """End the partition and restore every link's defaults (hosts cut off stay cut: that
        is a dead node, not a network fault)."""
        self.partition_of = {}
        self.links.clear()

    def reachable(self, src_host: str, dst_host: str) -> bool:
        if src_host in self.cut_off or dst_host in self.cut_off:
            return False
        p = self.partition_of
        if p:
            a, b = p.get(src_host), p.get(dst_host)
            if a is not None and b is not None and a != b:
                return False
        return True

    # -- delivery ----------------------------------------------------------------------
    def link(self, src_host: str, dst_host: str) -> Link:
        if src_host == dst_host:
            return LOOPBACK
        return self.links.get(frozenset((src_host, dst_host)), self.default_link)

    def send(self, src: str, dst: str, msg: dict[str, Any], label: str | None = None) -> None:
        """Send `msg` from address `src` to address `dst`; delivery is scheduled on the kernel.

        `msg` must not be mutated by anyone afterwards (receivers treat it as frozen).

        This is the engine's busiest path (every API call, CRI call and probe is two messages),
        so it reads hosts from a cache and skips the trace's fields when the trace is off; what
        is delivered when, and the seeded generator's draws, are the same either way."""
        kernel = self.kernel
        hosts = self._hosts
        sh = hosts.get(src)
        if sh is None:
            sh = hosts[src] = host_of(src)
        dh = hosts.get(dst)
        if dh is None:
            dh = hosts[dst] = host_of(dst)
        faulty = bool(self.cut_off or self.partition_of)
        if faulty and not self.reachable(sh, dh):
            kernel.emit("drop", src=src, dst=dst, type=label or msg.get("type", "?"))
            return
        if sh == dh:
            link = LOOPBACK
        else:
            link = self.links.get(frozenset((sh, dh)), self.default_link) if self.links else self.default_link
        if link.loss and kernel.rng.random() < link.loss:
            kernel.emit("drop", src=src, dst=dst, type=label or msg.get("type", "?"))
            return
        delay = link.latency + (kernel.rng.random() * link.jitter if link.jitter else 0.0)
        key = (src, dst)
        last = self.last_arrival
        arrive = kernel.now + delay
        before = last.get(key)
        if before is not None and before > arrive:
            arrive = before
        last[key] = arrive
        if kernel.trace_enabled:
            kernel.emit("message", src=src, dst=dst, type=label or msg.get("type", "?"), arrive=round(arrive, 6))
        # A partial of a method, not a closure: no cells for send's locals, a cheaper object.
        kernel.call_at(arrive, partial(self._deliver, sh, dh, src, dst, msg, label))

    def _deliver(self, sh: str, dh: str, src: str, dst: str, msg: dict[str, Any], label: str | None) -> None:
        # Reachability is checked again on arrival: a host cut off in flight loses it.
        if (self.cut_off or self.partition_of) and not self.reachable(sh, dh):
            self.kernel.emit("drop", src=src, dst=dst, type=label or msg.get("type", "?"))
            return
        target = self.kernel.components.get(dst)
        if target is not None:
            try:
                target.deliver(src, msg)
            except Exception as e:  # noqa: BLE001 - the receiver's failure is its own
                self.kernel.handle_crash(e, dst)
