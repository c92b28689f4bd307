"""client-go's leader election over a coordination.k8s.io Lease (tools/leaderelection).

kube-scheduler and kube-controller-manager run on every control-plane node, but only the holder
of their Lease in kube-system acts.  Defaults are the components' flags: --leader-elect-lease-
duration 15 s, --leader-elect-renew-deadline 10 s, --leader-elect-retry-period 2 s.  Like
client-go, a candidate judges a lease expired by when *it* last saw the record change
(observedTime), never by the timestamps inside it, so clock skew cannot steal a lease.  A leader
that cannot renew within the deadline stops leading; the real process exits and the kubelet
restarts it, which is what `on_stopped_leading` does here.
"""
from __future__ import annotations

from typing import Callable

from sim.client import ClientComponent

LEASE_DURATION = 15.0
RENEW_DEADLINE = 10.0
RETRY_PERIOD = 2.0
JITTER_FACTOR = 1.2  # wait.JitterUntil(..., RetryPeriod, 1.2, ...) while acquiring


class LeaderElector:
    def __init__(self, component, lease_name: str, on_started_leading: Callable[[], None],
                 on_stopped_leading: Callable[[], None], namespace: str = "kube-system"):
        self.c = component
        # Leader election has a client of its own (as kube-scheduler's and
        # kube-controller-manager's do), so a busy component's throttled requests never hold
        # up its lease renewals.
        self.client = component.api.client_for("leader-election")
        self.lease_name, self.namespace = lease_name, namespace
        self.identity = f"{component.host}_{component.api.c.rng.getrandbits(64):016x}"
        self.on_started_leading, self.on_stopped_leading = on_started_leading, on_stopped_leading
        self.leading = False
        self.observed_record: dict | None = None
        self.observed_time = 0.0
        self.last_renew = 0.0

    def run(self) -> None:
        self.try_acquire_or_renew()

    # -- the loop ---------------------------------------------------------------------
    def _schedule(self) -> None:
        delay = getattr(self.c, "leader_elect_retry_period", RETRY_PERIOD)
        if not self.leading:
            delay *= 1 + self.c.rng.random() * (JITTER_FACTOR - 1) if JITTER_FACTOR > 1 else 1
        self.c.call_later(delay, self.try_acquire_or_renew)

    def try_acquire_or_renew(self) -> None:
        if self.leading and self.c.now - self.last_renew > RENEW_DEADLINE:
            self._lost()
            return
        self.client.request({"verb": "get", "group": "coordination.k8s.io", "resource": "leases",
                            "namespace": self.namespace, "name": self.lease_name}, self._got,
                           f"get leases/{self.lease_name}")

    def _record(self, acquire: str, transitions: int) -> dict:
        now = self.c.micro_timestamp()
        return {"holderIdentity": self.identity, "leaseDurationSeconds": int(LEASE_DURATION),
                "acquireTime": acquire or now, "renewTime": now, "leaseTransitions": transitions}

    def _got(self, resp: dict) -> None:
        if resp["code"] == 404:
            lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                     "metadata": {"name": self.lease_name, "namespace": self.namespace},
                     "spec": self._record("", 0)}
            self.client.create("leases", lease, self._written, group="coordination.k8s.io",
                              label=f"create leases/{self.lease_name}")
            return
        if resp["code"] != 200:
            return self._schedule()
        lease = resp["body"]
        spec = lease.get("spec") or {}
        if spec != self.observed_record:
            self.observed_record, self.observed_time = spec, self.c.now
        holder = spec.get("holderIdentity")
        duration = spec.get("leaseDurationSeconds") or LEASE_DURATION
        if holder and holder != self.identity and self.observed_time + duration > self.c.now:
            if self.leading:
                self._lost()
                return
            return self._schedule()  # someone else holds a lease that has not expired
        if holder == self.identity:
            new_spec = self._record(spec.get("acquireTime"), spec.get("leaseTransitions", 0))
        else:
            new_spec = self._record("", spec.get("leaseTransitions", 0) + (1 if holder else 0))
        updated = dict(lease, spec=new_spec)
        self.client.update("leases", updated, self._written, group="coordination.k8s.io")

    def _written(self, resp: dict) -> None:
        if resp["code"] in (200, 201):
            self.observed_record, self.observed_time = resp["body"]["spec"], self.c.now
            self.last_renew = self.c.now
            if not self.leading:
                self.leading = True
                self.c.action(f"{self.c.component} on {self.c.host} became leader (lease kube-system/{self.lease_name})")
                self.on_started_leading()
        self._schedule()

    def _lost(self) -> None:
        self.leading = False
        self.c.action(f"{self.c.component} on {self.c.host} lost its lease kube-system/{self.lease_name}")
        self.on_stopped_leading()


class LeaderElectedComponent(ClientComponent):
    """A control-plane component that runs on every control-plane node but acts only while it
    holds its Lease (kube-scheduler, kube-controller-manager).  Subclasses set `lease_name`
    and implement `start_leading`."""

    lease_name = ""

    def on_start(self) -> None:
        self.leading = False
        self.elector = LeaderElector(self, self.lease_name, self._started_leading, self.restart)
        self.elector.run()

    def _started_leading(self) -> None:
        self.leading = True
        self.start_leading()

    def restart(self) -> None:
        """Losing the lease makes the process exit; the kubelet restarts its static pod."""
        self.call_later(0.0, lambda: (self.stop(), self.start()))

    def start_leading(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError
