"""What kube-controller-manager's CSR controllers share (pkg/controller/certificates/
certificate_controller.go, CertificateController): the CertificateSigningRequest informer,
every add, update and delete queued by name, and a sync that hands a copy of each request not
yet issued to the controller's `handle`.  A failed handle is retried with the controller's own
rate limiter (200 ms doubling to 1000 s); an "ignorable" failure (the approver's SubjectAccessReview
said no) too, only not logged as an error.
"""
from __future__ import annotations

from typing import Callable

from sim.api import certificates as capi
from sim.api.meta import deep_copy
from sim.workqueue import WorkQueue

RESOURCE = "certificatesigningrequests"
# workqueue.NewTypedItemExponentialFailureRateLimiter(200*time.Millisecond, 1000*time.Second)
BASE_DELAY, MAX_DELAY = 0.2, 1000.0


class Failed(Exception):
    """handle's failure: the key goes back to the queue after its backoff."""

    def __init__(self, message: str, ignorable: bool = False):
        super().__init__(message)
        self.ignorable = ignorable


class CertificateController:
    """A controller over CSRs: subclasses set `name` and implement handle(csr, finish), calling
    finish() when done or finish(Failed(...)) to be retried."""
    name = "certificate-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.csrs = cm.shared_informer(RESOURCE, group=capi.GROUP)
        self.queue = WorkQueue(cm, self.sync, base_delay=BASE_DELAY, max_delay=MAX_DELAY)

    def start(self) -> None:
        key = lambda csr: csr["metadata"]["name"]  # noqa: E731
        self.csrs.handlers(add=lambda c: self.queue.add(key(c)), update=lambda old, new: self.queue.add(key(new)),
                           delete=lambda c: self.queue.add(key(c)))

    def sync(self, name: str) -> None:
        csr = self.csrs.get(None, name)
        if csr is None or capi.is_issued(csr):
            self.queue.forget(name)  # gone, or "no need to do anything because it already has a cert"
            return
        done = self.queue.defer(name)

        def finish(error: Failed | None = None) -> None:
            done()
            if error is None:
                self.queue.forget(name)
                return
            self.queue.add_rate_limited(name)
            if not error.ignorable:
                self.cm.action(f"{self.name}: Sync {name} failed with : {error}")

        try:
            self.handle(deep_copy(csr), finish)
        except Failed as e:
            finish(e)

    def handle(self, csr: dict, finish: Callable[[Failed | None], None]) -> None:
        raise NotImplementedError

    def update(self, csr: dict, subresource: str, finish, what: str) -> None:
        """UpdateApproval / UpdateStatus with the whole object (its resourceVersion: a conflict
        is retried from the informer's newer copy)."""
        def done(resp: dict) -> None:
            if resp["code"] >= 400:
                finish(Failed(f"error {what}: {(resp.get('body') or {}).get('message', resp['code'])}"))
            else:
                finish()

        self.api.update(RESOURCE, csr, done, group=capi.GROUP, subresource=subresource)
