"""The kubelet's TLS bootstrap (pkg/kubelet/certificate/bootstrap/bootstrap.go LoadClientCert, and
client-go's util/certificate/csr RequestCertificate and WaitForCertificate).

A kubelet started by `kubeadm join` has no /etc/kubernetes/kubelet.conf, only
/etc/kubernetes/bootstrap-kubelet.conf, whose credential is the bootstrap token.  With it the
kubelet asks for its client certificate before anything else: it makes a key
(kubelet-client.key.tmp, kept across restarts), a PKCS#10 request for CN=system:node:<node>,
O=system:nodes, and creates a CertificateSigningRequest for the
kubernetes.io/kube-apiserver-client-kubelet signer, named after a digest of its key, subject
and usages (so a restarted kubelet finds the same request again).  Then it watches that request:
Denied or Failed is an error, Approved with a certificate is the end of the bootstrap: it writes
kubelet.conf (the certificate) and goes on to register its Node.

Errors end the kubelet process upstream and systemd starts it again 10 s later (RestartSec);
here the bootstrap starts again after 10 s.  Waiting is bounded by an hour (requestNodeCertificate's
timeout).  After the bootstrap the kubelet talks to the API server in-process like every
simulated component (its certificate's identity, system:node:<node>, is not used for RBAC).
"""
from __future__ import annotations

import base64
from typing import Callable

from sim import pki
from sim.api import certificates as capi

BOOTSTRAP_TIMEOUT = 3600.0   # requestNodeCertificate: context.WithTimeout(ctx, 3600*time.Second)
RESTART_SEC = 10.0           # kubeadm's kubelet.service: Restart=always, RestartSec=10
# An ECDSA key: no "key encipherment" (requestNodeCertificate adds it for RSA keys only).
USAGES = ["digital signature", "client auth"]
RESOURCE = "certificatesigningrequests"


class TLSBootstrap:
    """One kubelet's bootstrap; `done(certificate_pem)` once the certificate is issued."""

    def __init__(self, kubelet, token: str, done: Callable[[str], None]):
        self.kubelet, self.token, self.done = kubelet, token, done
        self.informer = None
        self.attempt = 0
        self.finished = False

    @property
    def credentials(self) -> dict:
        return {"token": self.token}

    def start(self) -> None:
        """LoadClientCert: LoadOrGenerateKeyFile, MakeCSR, digestedName, RequestCertificate."""
        k = self.kubelet
        self.attempt += 1
        attempt = self.attempt
        if k.bootstrap_key is None:
            k.bootstrap_key = pki.key_from_rng(k.rng)
        cn, orgs = capi.NODE_USER_PREFIX + k.host, [capi.NODES_GROUP]
        request = pki.make_csr(k.bootstrap_key, cn, orgs)
        self.name = capi.digested_name(pki.public_key_der(k.bootstrap_key), cn, orgs, USAGES)
        body = {"apiVersion": capi.API_VERSION, "kind": "CertificateSigningRequest", "metadata": {"name": self.name},
                "spec": {"request": base64.b64encode(request.encode()).decode(), "usages": list(USAGES),
                         "signerName": capi.KUBE_APISERVER_CLIENT_KUBELET}}
        k.action(f"kubelet on {k.host} requests its client certificate: CertificateSigningRequest {self.name}")

        def created(resp: dict) -> None:
            if attempt != self.attempt:
                return
            if resp["code"] == 201:
                return self.wait(resp["body"]["metadata"]["uid"])
            if resp["code"] == 409:
                # "csr for this node already exists, reusing": the same key asked before.
                return self._request({"verb": "get", "group": capi.GROUP, "resource": RESOURCE, "name": self.name},
                                     lambda r: fetched(r, body))
            self.fail(f"cannot create certificate signing request: {_message(resp)}")

        def fetched(resp: dict, wanted: dict) -> None:
            if attempt != self.attempt:
                return
            if resp["code"] != 200:
                return self.fail(f"cannot retrieve certificate signing request: {_message(resp)}")
            got = resp["body"].get("spec") or {}
            # ensureCompatible: the same request, signer and usages.
            if got.get("request") != wanted["spec"]["request"] or got.get("signerName") != wanted["spec"]["signerName"] \
                    or list(got.get("usages") or []) != USAGES:
                return self.fail("retrieved csr is not compatible: csr public key does not match")
            self.wait(resp["body"]["metadata"]["uid"])

        self._request({"verb": "create", "group": capi.GROUP, "resource": RESOURCE, "body": body}, created)

    def _request(self, req: dict, callback) -> None:
        self.kubelet.api.request(dict(req, credentials=self.credentials), callback)

    def wait(self, uid: str) -> None:
        """WaitForCertificate: a watch on the request by name until it is issued or refused."""
        k = self.kubelet
        attempt = self.attempt

        def seen(csr: dict) -> None:
            if attempt != self.attempt or self.finished:
                return
            if csr["metadata"].get("uid") != uid:
                return self.fail(f'csr "{self.name}" changed UIDs')
            approved = False
            for c in capi.conditions(csr):
                if c.get("type") == capi.DENIED:
                    return self.fail(f"certificate signing request is denied, reason: {c.get('reason', '')}, "
                                     f"message: {c.get('message', '')}")
                if c.get("type") == capi.FAILED:
                    return self.fail(f"certificate signing request failed, reason: {c.get('reason', '')}, "
                                     f"message: {c.get('message', '')}")
                approved = approved or c.get("type") == capi.APPROVED
            if approved and capi.is_issued(csr):
                self.finished = True
                self._stop_watch()
                k.action(f"kubelet on {k.host}: certificate signing request {self.name} is issued")
                self.done(capi.certificate_pem(csr).decode())

        def gone(csr: dict) -> None:
            if attempt == self.attempt and not self.finished:
                self.fail(f'csr "{self.name}" was deleted')

        self.informer = k.informer(RESOURCE, group=capi.GROUP, field_selector=f"metadata.name={self.name}",
                                   on_add=seen, on_update=lambda old, new: seen(new), on_delete=gone,
                                   credentials=self.credentials)
        self.informer.start()
        k.call_later(BOOTSTRAP_TIMEOUT, lambda: attempt == self.attempt and not self.finished
                     and self.fail("timed out waiting for the condition"))

    def _stop_watch(self) -> None:
        if self.informer is not None:
            self.informer.stop()
            self.informer = None

    def fail(self, error: str) -> None:
        """The kubelet exits ("failed to run Kubelet") and systemd starts it again."""
        k = self.kubelet
        self._stop_watch()
        self.attempt += 1
        k.action(f"kubelet on {k.host}: failed to run Kubelet: {error} (restarting in {RESTART_SEC:.0f}s)")
        k.call_later(RESTART_SEC, self.start)


def _message(resp: dict) -> str:
    return str((resp.get("body") or {}).get("message") or f"HTTP {resp.get('code')}")
