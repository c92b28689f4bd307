"""Leases (coordination.k8s.io/v1), as leader election and node heartbeats write them.

    MakeLease().name("kube-scheduler").namespace("kube-system").holder("cp-1_x").duration(15).manifest()
"""
from __future__ import annotations

from tests.builders.generic import Builder


class MakeLease(Builder):
    API_VERSION, KIND = "coordination.k8s.io/v1", "Lease"

    def _spec_field(self, key: str, value) -> "MakeLease":
        self._section("spec")[key] = value
        return self

    def holder(self, identity: str) -> "MakeLease":
        return self._spec_field("holderIdentity", identity)

    def duration(self, seconds: int) -> "MakeLease":
        return self._spec_field("leaseDurationSeconds", seconds)

    def acquire_time(self, ts: str) -> "MakeLease":
        return self._spec_field("acquireTime", ts)

    def renew_time(self, ts: str) -> "MakeLease":
        return self._spec_field("renewTime", ts)

    def transitions(self, n: int) -> "MakeLease":
        return self._spec_field("leaseTransitions", n)
