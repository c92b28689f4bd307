"""The base of every simulated component: a state machine fed messages and timers.

A component never calls another: it sends messages through the kernel's network and arms
timers; the kernel calls `on_message` and `on_timer`.  An exception in either is this
component's alone: the kernel records it (Kernel.handle_crash) and the simulation runs on.  A stopped component ignores both, and a
restarted one starts a new incarnation whose old timers never fire (a process restart loses
its memory, as a real one does).
"""
from __future__ import annotations

from functools import partial
from typing import Any

from sim.api import meta


def request_label(req: dict) -> str:
    """What an API request is called in the trace and on the diagram's dots: "get pods",
    "patch pods/status", "nonresource /version" (a non-resource request names its path)."""
    sub = f"/{req['subresource']}" if req.get("subresource") else ""
    return f"{req.get('verb')} {req.get('resource') or req.get('path') or ''}{sub}"


class Component:
    component = "component"  # the Kubernetes name: "kubelet", "kube-scheduler", ...

    def __init__(self, host: str):
        self.host = host
        self.address = f"{self.component}@{host}"
        self.kernel = None
        self.running = False
        self.incarnation = 0

    # -- lifecycle (called by the kernel/cluster) ---------------------------------------
    def attach(self, kernel) -> None:
        self.kernel = kernel

    def start(self) -> None:
        self.running = True
        self.incarnation += 1
        self.on_start()

    def stop(self) -> None:
        self.running = False
        self.on_stop()

    def deliver(self, src: str, msg: dict[str, Any]) -> None:
        if self.running:
            self.on_message(src, msg)

    # -- for subclasses ----------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.kernel.now

    @property
    def rng(self):
        return self.kernel.rng

    def send(self, dst: str, msg: dict[str, Any], label: str | None = None) -> None:
        self.kernel.network.send(self.address, dst, msg, label)

    # Timers are partials of the two methods below, not closures: a cheaper object to make, and
    # these are made for every timer of every component.
    def set_timer(self, delay: float, name: str, data: Any = None) -> int:
        return self.kernel.call_later(delay, partial(self._fire_timer, self.incarnation, name, data))

    def _fire_timer(self, incarnation: int, name: str, data: Any) -> None:
        if self.running and self.incarnation == incarnation:
            try:
                self.on_timer(name, data)
            except Exception as e:  # noqa: BLE001 - a timer's failure is this component's
                self.kernel.handle_crash(e, self.address)

    def call_later(self, delay: float, fn) -> int:
        """Run `fn` after `delay` unless this incarnation has stopped by then."""
        return self.kernel.call_later(delay, partial(self._fire_call, self.incarnation, fn))

    def _fire_call(self, incarnation: int, fn) -> None:
        if self.running and self.incarnation == incarnation:
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - a callback's failure is this component's
                self.kernel.handle_crash(e, self.address)

    def cancel_timer(self, handle: int) -> None:
        self.kernel.cancel(handle)

    # API timestamps: virtual time plus the cluster's epoch offset (sim.api.meta).
    def timestamp(self, at: float | None = None) -> str:
        return meta.timestamp((self.now if at is None else at) + self.kernel.epoch_offset)

    def micro_timestamp(self) -> str:
        return meta.micro_timestamp(self.now + self.kernel.epoch_offset)

    @property
    def api_now(self) -> float:
        """Now on the API's clock: seconds as sim.api.meta.parse_timestamp counts them (virtual
        time plus the cluster's epoch offset, which is not 0 on a cluster the server made).
        Compare parsed timestamps with this, never with `now`."""
        return self.now + self.kernel.epoch_offset

    def parse_time(self, value: str | None) -> float | None:
        """The virtual time of an API timestamp (None if absent or unreadable)."""
        t = meta.parse_timestamp(value)
        return None if t is None else t - self.kernel.epoch_offset

    def emit(self, kind: str, **fields: Any) -> None:
        self.kernel.emit(kind, **fields)

    def action(self, text: str) -> None:
        """A decision worth showing in the dashboard's log."""
        self.kernel.emit("action", component=self.address, text=text)

    def on_start(self) -> None:
        pass

    def on_stop(self) -> None:
        pass

    def on_message(self, src: str, msg: dict[str, Any]) -> None:
        pass

    def on_timer(self, name: str, data: Any) -> None:
        pass
