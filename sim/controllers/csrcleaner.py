"""The csrcleaner controller (pkg/controller/certificates/cleaner/cleaner.go): once an hour it
looks through every CertificateSigningRequest and deletes those whose time is up:

- issued (Approved and a certificate) and approved more than an hour ago (lastUpdateTime),
- Denied or Failed more than an hour ago,
- pending (no condition at all) and created more than 24 hours ago,
- issued with a certificate whose NotAfter has passed.

An approved request never issued (a signer nobody runs) stays, as upstream.  The first look is
as soon as the informer has synced, then every pollingInterval.
"""
from __future__ import annotations

from sim.api import certificates as capi
from sim.pki import certificate_not_after

POLLING_INTERVAL = 3600.0
APPROVED_EXPIRATION = DENIED_EXPIRATION = 3600.0
PENDING_EXPIRATION = 24 * 3600.0


class CSRCleanerController:
    name = "csrcleaner"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.csrs = cm.shared_informer("certificatesigningrequests", group=capi.GROUP)

    def start(self) -> None:
        self.cm.call_later(0.0, self.worker)

    def worker(self) -> None:
        if not self.csrs.informer.synced:  # WaitForNamedCacheSync
            self.cm.call_later(1.0, self.worker)
            return
        for csr in sorted(self.csrs.list(), key=lambda c: c["metadata"]["name"]):
            why = self.expired(csr)
            if why:
                name = csr["metadata"]["name"]
                self.cm.action(f"csrcleaner deletes {name}: {why}")
                self.api.delete("certificatesigningrequests", None, name, group=capi.GROUP)
        self.cm.call_later(POLLING_INTERVAL, self.worker)

    def older_than(self, timestamp, seconds: float) -> bool:
        """isOlderThan: a set time more than `seconds` before now."""
        t = self.cm.parse_time(timestamp)
        return t is not None and self.cm.now - t > seconds

    def expired(self, csr: dict) -> str:
        """Why `csr` goes ("" if it stays): handle()'s checks, in upstream's order."""
        conds = capi.conditions(csr)
        issued = capi.is_issued(csr)
        for c in conds:
            if c.get("type") == capi.APPROVED and issued and self.older_than(c.get("lastUpdateTime"), APPROVED_EXPIRATION):
                return "issued more than 1h0m0s ago"
        for c in conds:
            if c.get("type") == capi.DENIED and self.older_than(c.get("lastUpdateTime"), DENIED_EXPIRATION):
                return "denied more than 1h0m0s ago"
        for c in conds:
            if c.get("type") == capi.FAILED and self.older_than(c.get("lastUpdateTime"), DENIED_EXPIRATION):
                return "failed more than 1h0m0s ago"
        if not conds and self.older_than(csr["metadata"].get("creationTimestamp"), PENDING_EXPIRATION):
            return "pending for more than 24h0m0s"
        if issued and any(c.get("type") == capi.APPROVED for c in conds):
            not_after = certificate_not_after(capi.certificate_pem(csr))
            if not_after is not None and self.cm.api_now > not_after:
                return "its certificate has expired"
        return ""
