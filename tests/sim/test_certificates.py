"""certificates.k8s.io/v1 CertificateSigningRequests in an engine cluster: validation worded as
upstream's, the requester recorded by the API server, the approval and status subresources'
rules, who may approve, the CertificateSubjectRestriction plugin, kube-controller-manager's
csrapproving (SubjectAccessReview), csrsigning (real X.509 from the cluster CA, deterministic)
and csrcleaner (upstream's timings), and the bootstrap token authenticator."""
import base64
import copy
import random

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from sim import pki
from sim.cluster import Cluster, ClusterConfig
from sim.clusterconfig import config_from_spec
from tests.sim.conftest import advance_until, ok

G, RBAC = "certificates.k8s.io", "rbac.authorization.k8s.io"
CLIENT, KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet"


def new_cluster(seed=3, access="open") -> Cluster:
    config = ClusterConfig.default(seed=seed)
    config.access = access
    c = Cluster("csr", config)
    c.advance(20)
    return c


@pytest.fixture(scope="module")
def c():
    return new_cluster()


def request_pem(cn="myuser", orgs=("dev",), seed=5) -> str:
    return pki.make_csr(pki.key_from_rng(random.Random(seed)), cn, list(orgs))


def csr_body(name, pem=None, signer=CLIENT, usages=("client auth",), **spec):
    pem = request_pem() if pem is None else pem
    return {"apiVersion": f"{G}/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
            "spec": {"request": base64.b64encode(pem.encode() if isinstance(pem, str) else pem).decode(),
                     "signerName": signer, "usages": list(usages), **spec}}


def csr_req(c, verb, name=None, body=None, sub=None, creds=None, **kw):
    r = {"verb": verb, "group": G, "resource": "certificatesigningrequests", "name": name, "body": body,
         "subresource": sub, **kw}
    if creds is not None:
        r["credentials"] = creds
    return c.request(r)


def get(c, name):
    return copy.deepcopy(ok(csr_req(c, "get", name)))


def with_condition(csr, ctype, reason="KubectlApprove", message="This CSR was approved by kubectl certificate approve."):
    """What `kubectl certificate approve|deny` sends to /approval."""
    csr = copy.deepcopy(csr)
    csr.setdefault("status", {}).setdefault("conditions", []).append(
        {"type": ctype, "status": "True", "reason": reason, "message": message})
    return csr


def approve(c, name, ctype="Approved", creds=None):
    return csr_req(c, "update", name, with_condition(get(c, name), ctype), sub="approval", creds=creds)


def certificate(csr) -> x509.Certificate:
    return x509.load_pem_x509_certificate(base64.b64decode(csr["status"]["certificate"]))


def admin(c, **impersonate):
    return {"token": c.admin_token, **({"impersonate": impersonate} if impersonate else {})}


# -- the kind ---------------------------------------------------------------------------------
def test_validation_errors_read_as_upstreams(c):
    bad = csr_body("bad", pem=b"hello", usages=("client auth", "nope", "client auth"), signer="foo",
                   expirationSeconds=300)
    resp = csr_req(c, "create", body=bad)
    assert resp["code"] == 422
    assert resp["body"]["message"] == (
        'CertificateSigningRequest.certificates.k8s.io "bad" is invalid: ['
        "spec.request: Invalid value: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}: PEM block type must be CERTIFICATE REQUEST, "
        'spec.usages[1]: Unsupported value: "nope": supported values: "any", "cert sign", "client auth", '
        '"code signing", "content commitment", "crl sign", "data encipherment", "decipher only", '
        '"digital signature", "email protection", "encipher only", "ipsec end system", "ipsec tunnel", '
        '"ipsec user", "key agreement", "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", '
        '"s/mime", "server auth", "signing", "timestamping", '
        'spec.usages[2]: Duplicate value: "client auth", '
        "spec.signerName: Invalid value: \"foo\": must be a fully qualified domain and path of the form "
        "'example.com/signer-name', "
        "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 600 seconds (10 minutes)]")
    causes = {(x["field"], x["reason"]) for x in resp["body"]["details"]["causes"]}
    assert ("spec.request", "FieldValueInvalid") in causes and ("spec.usages[2]", "FieldValueDuplicate") in causes
    empty = csr_req(c, "create", body={"metadata": {"name": "empty"}, "spec": {}})
    assert empty["body"]["message"] == (
        'CertificateSigningRequest.certificates.k8s.io "empty" is invalid: [spec.request: Invalid value: '
        "[]byte(nil): PEM block type must be CERTIFICATE REQUEST, spec.usages: Required value, "
        "spec.signerName: Required value]")
    short = csr_req(c, "create", body=csr_body("short", signer="example/signer"))
    assert "should be a domain with at least two segments separated by dots" in short["body"]["message"]
    legacy = csr_req(c, "create", body=csr_body("legacy", signer="kubernetes.io/legacy-unknown"))
    assert "the legacy signerName is not allowed via this API version" in legacy["body"]["message"]


def test_a_forged_signature_is_refused(c):
    pem = request_pem(cn="mallory")
    der = pki.pem_blocks(pem)[0][1]
    forged = pki.pem("CERTIFICATE REQUEST", der[:-3] + bytes([der[-3] ^ 1]) + der[-2:])
    msg = csr_req(c, "create", body=csr_body("forged", pem=forged))["body"]["message"]
    assert msg.endswith(": x509: ECDSA verification failure"), msg


def test_any_name_and_the_requester_is_the_api_servers_to_say(c):
    # "We don't care what you call your certificate requests": not a DNS name is fine.
    body = csr_body("node-csr-Ab_C-9", username="forged", groups=["system:masters"],
                    expirationSeconds=86400)
    body["status"] = {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "eA=="}
    created = ok(csr_req(c, "create", body=body, creds=admin(c)), 201)
    assert created["spec"]["username"] == "kubernetes-admin"
    assert created["spec"]["groups"] == ["system:masters", "system:authenticated"]
    assert created["status"] == {}, "a create cannot be pre-approved"
    # An in-cluster request carries no user: nobody is recorded.
    anon = ok(csr_req(c, "create", body=csr_body("nobody", username="forged")), 201)
    assert "username" not in anon["spec"]
    row = c.apiserver.registry.lookup(G, "certificatesigningrequests").printer.row(created, 0)
    assert row[2:] == ["kubernetes.io/kube-apiserver-client", "kubernetes-admin", "24h", "Pending"]


def test_approval_rules(c):
    ok(csr_req(c, "create", body=csr_body("rules", signer="example.com/custom")), 201)
    # Only /approval adds Approved or Denied.
    resp = csr_req(c, "update", "rules", with_condition(get(c, "rules"), "Approved"), sub="status")
    assert resp["code"] == 422 and 'status.conditions: Forbidden: updates may not add a condition of type "Approved"' \
        in resp["body"]["message"]
    plain = csr_req(c, "update", "rules", with_condition(get(c, "rules"), "Approved"))
    assert ok(plain)["status"] == {}, "the object itself keeps its status"
    approved = ok(approve(c, "rules"))
    cond = approved["status"]["conditions"][0]
    assert cond["type"] == "Approved" and cond["lastUpdateTime"] and cond["lastTransitionTime"]
    # Approved and Denied exclude each other; conditions are never removed.
    both = approve(c, "rules", "Denied")
    assert both["code"] == 422 and ('status.conditions[1].type: Invalid value: "Denied": Approved and Denied '
                                    "conditions are mutually exclusive") in both["body"]["message"]
    cur = get(c, "rules")
    cur["status"]["conditions"] = []
    removed = csr_req(c, "update", "rules", cur, sub="approval")
    assert 'updates may not remove a condition of type "Approved"' in removed["body"]["message"]
    # The spec never changes after creation.
    changed = get(c, "rules")
    changed["spec"]["signerName"] = "example.com/other"
    assert ok(csr_req(c, "update", "rules", changed))["spec"]["signerName"] == "example.com/custom"


def test_the_certificate_is_set_once_through_status(c):
    ok(csr_req(c, "create", body=csr_body("cert-once", signer="example.com/custom")), 201)
    ok(approve(c, "cert-once"))
    pem = c.ca.sign(pki.parse_csr(request_pem().encode()), ["client auth"], 3600, c.kernel.now, 7)
    cur = get(c, "cert-once")
    cur["status"]["certificate"] = base64.b64encode(pem.encode()).decode()
    # Through /approval or the object itself the certificate is dropped (their strategies keep
    # the stored status but the conditions): only the signer's /status sets it.
    assert "certificate" not in ok(csr_req(c, "update", "cert-once", cur, sub="approval"))["status"]
    assert "certificate" not in ok(csr_req(c, "update", "cert-once", cur))["status"]
    junk = copy.deepcopy(cur)
    junk["status"]["certificate"] = base64.b64encode(b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n").decode()
    assert 'status.certificate: Invalid value: "<certificate data>": only CERTIFICATE PEM blocks are allowed, ' \
           'found "FOO"' in csr_req(c, "update", "cert-once", junk, sub="status")["body"]["message"]
    issued = ok(csr_req(c, "update", "cert-once", cur, sub="status"))
    assert issued["status"]["conditions"][0]["type"] == "Approved", "the approval stays"
    again = get(c, "cert-once")
    again["status"]["certificate"] = base64.b64encode((pem + pem).encode()).decode()
    assert "updates may not modify existing certificate content" in \
        csr_req(c, "update", "cert-once", again, sub="status")["body"]["message"]


def test_who_may_approve_is_the_signer_names_approve_verb():
    c = new_cluster(seed=6, access="owned")
    ok(csr_req(c, "create", body=csr_body("alice-csr"), creds=admin(c)), 201)
    # alice may update the approval subresource, but holds no `approve` on the signer.
    ok(c.request({"verb": "create", "group": RBAC, "resource": "clusterroles", "credentials": admin(c), "body": {
        "metadata": {"name": "csr-approver"}, "rules": [
            {"apiGroups": [G], "resources": ["certificatesigningrequests", "certificatesigningrequests/approval"],
             "verbs": ["get", "update"]}]}}))
    for name, role in (("alice-approver", "csr-approver"),
                       ("alice-signer", "system:certificates.k8s.io:kube-apiserver-client-approver")):
        ok(c.request({"verb": "create", "group": RBAC, "resource": "clusterrolebindings", "credentials": admin(c),
                      "body": {"metadata": {"name": name}, "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole",
                                                                        "name": role},
                               "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "alice"}]}}))
        if name == "alice-approver":
            refused = approve(c, "alice-csr", creds=admin(c, user="alice"))
            assert refused["code"] == 403
            assert refused["body"]["message"] == (
                'certificatesigningrequests.certificates.k8s.io "alice-csr" is forbidden: user not permitted to '
                'approve requests with signerName "kubernetes.io/kube-apiserver-client"')
    assert ok(approve(c, "alice-csr", creds=admin(c, user="alice")))["status"]["conditions"][0]["type"] == "Approved"


def test_system_masters_cannot_be_asked_of_the_client_signer(c):
    resp = csr_req(c, "create", body=csr_body("eve", pem=request_pem("eve", ["system:masters"])))
    assert resp["code"] == 403 and resp["body"]["message"] == (
        'certificatesigningrequests.certificates.k8s.io "eve" is forbidden: use of '
        "kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed")
    # Another signer may (its signer decides).
    ok(csr_req(c, "create", body=csr_body("eve-custom", pem=request_pem("eve", ["system:masters"]),
                                          signer="example.com/custom")), 201)


# -- csrsigning --------------------------------------------------------------------------------
def test_an_approved_client_request_is_signed_by_the_cluster_ca(c):
    ok(csr_req(c, "create", body=csr_body("myuser", expirationSeconds=86400)), 201)
    c.advance(2)
    assert "certificate" not in get(c, "myuser")["status"], "not before it is approved"
    ok(approve(c, "myuser"))
    advance_until(c, lambda: get(c, "myuser")["status"].get("certificate"), 10)
    cert = certificate(get(c, "myuser"))
    root = c.apiserver.cache.objects("configmaps")[("default", "kube-root-ca.crt")]["data"]["ca.crt"]
    ca = x509.load_pem_x509_certificate(root.encode())
    cert.verify_directly_issued_by(ca)
    assert cert.subject.rfc4514_string() == "CN=myuser,O=dev"
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # 24 hours as asked, NotBefore backdated 5 minutes (NotAfter too: not a short-lived one).
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime.total_seconds() == 86400
    row = c.apiserver.registry.lookup(G, "certificatesigningrequests").printer.row(get(c, "myuser"), c.kernel.now)
    assert row[-1] == "Approved,Issued"


def test_signing_is_deterministic_for_replay():
    pems = []
    for _ in range(2):
        c = new_cluster(seed=11)
        ok(csr_req(c, "create", body=csr_body("same")), 201)
        ok(approve(c, "same"))
        advance_until(c, lambda: get(c, "same")["status"].get("certificate"), 10)
        pems.append(get(c, "same")["status"]["certificate"])
    assert pems[0] == pems[1]
    assert new_cluster(seed=12).ca.certificate_pem != new_cluster(seed=11).ca.certificate_pem, "a CA per cluster"


def test_a_request_the_signer_does_not_issue_fails(c):
    ok(csr_req(c, "create", body=csr_body("server", usages=("client auth", "server auth"))), 201)
    ok(approve(c, "server"))
    ok(csr_req(c, "create", body=csr_body("not-a-node", signer=KUBELET_CLIENT,
                                          usages=("digital signature", "client auth"))), 201)
    ok(approve(c, "not-a-node"))
    advance_until(c, lambda: len(get(c, "not-a-node")["status"]["conditions"]) == 2
                  and len(get(c, "server")["status"]["conditions"]) == 2, 10)
    for name, message in (("server", "invalid usage for client certificate: server auth"),
                          ("not-a-node", "subject organization is not system:nodes")):
        failed = get(c, name)["status"]["conditions"][1]
        assert (failed["type"], failed["reason"], failed["message"]) == ("Failed", "SignerValidationFailure", message)
        assert "certificate" not in get(c, name)["status"]
    ok(csr_req(c, "create", body=csr_body("denied")), 201)
    ok(approve(c, "denied", "Denied"))
    c.advance(3)
    assert "certificate" not in get(c, "denied")["status"]


# -- csrapproving ------------------------------------------------------------------------------
def node_csr(c, name, node, creds):
    pem = request_pem(f"system:node:{node}", ["system:nodes"], seed=hash(node) % 1000)
    return csr_req(c, "create", body=csr_body(name, pem=pem, signer=KUBELET_CLIENT,
                                              usages=("digital signature", "client auth")), creds=creds)


def bind(c, name, role, *groups):
    ok(c.request({"verb": "create", "group": RBAC, "resource": "clusterrolebindings", "body": {
        "metadata": {"name": name}, "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": g} for g in groups],
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role}}}))


def test_the_approver_asks_a_subject_access_review_of_the_requester():
    c = new_cluster(seed=7)
    bind(c, "kubelet-bootstrap", "system:node-bootstrapper", "system:bootstrappers", "system:nodes")
    bootstrapper = admin(c, user="system:bootstrap:abcdef", groups=["system:bootstrappers"])
    ok(node_csr(c, "by-token", "worker-9", bootstrapper), 201)
    c.advance(5)
    assert get(c, "by-token")["status"] == {}, "no binding lets system:bootstrappers create .../nodeclient"
    bind(c, "auto-approve", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "system:bootstrappers")
    # The pending request is retried with backoff (200 ms doubling): approved once allowed.
    advance_until(c, lambda: get(c, "by-token")["status"].get("certificate"), 60)
    cond = get(c, "by-token")["status"]["conditions"][0]
    assert (cond["type"], cond["reason"], cond["message"]) == (
        "Approved", "AutoApproved", "Auto approving kubelet client certificate after SubjectAccessReview.")
    # A node renewing its own certificate: selfnodeclient, the CN being the requester.
    node = admin(c, user="system:node:worker-8", groups=["system:nodes"])
    bind(c, "rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes")
    ok(node_csr(c, "self", "worker-8", node), 201)
    ok(node_csr(c, "other", "worker-7", node), 201)
    advance_until(c, lambda: get(c, "self")["status"].get("certificate"), 30)
    assert get(c, "self")["status"]["conditions"][0]["message"] == \
        "Auto approving self kubelet client certificate after SubjectAccessReview."
    assert get(c, "other")["status"] == {}, "a node may not ask for another node's certificate"
    # Never a plain client certificate.
    ok(csr_req(c, "create", body=csr_body("client"), creds=bootstrapper), 201)
    c.advance(5)
    assert get(c, "client")["status"] == {}


# -- csrcleaner --------------------------------------------------------------------------------
def test_the_cleaner_deletes_issued_and_denied_requests_an_hour_on():
    c = Cluster("csr", config_from_spec({"seed": 8, "etcd": {"members": 1},
                                         "nodes": [{"name": "cp-1", "role": "control-plane"}]}))
    c.advance(20)
    for name in ("issued", "denied", "pending", "approved-custom"):
        signer = "example.com/custom" if name == "approved-custom" else CLIENT
        ok(csr_req(c, "create", body=csr_body(name, signer=signer)), 201)
    ok(approve(c, "issued"))
    ok(approve(c, "approved-custom"))
    ok(approve(c, "denied", "Denied"))
    names = lambda: {x["metadata"]["name"] for x in ok(csr_req(c, "list"))["items"]}  # noqa: E731
    c.advance(3600)
    assert names() == {"issued", "denied", "pending", "approved-custom"}, "not an hour old at the hourly look"
    c.advance(3600)
    assert names() == {"pending", "approved-custom"}, "issued and denied go after an hour"


class Clock:
    """What the cleaner reads of its controller manager: the virtual clock."""

    def __init__(self, now):
        self.now = self.api_now = now

    def parse_time(self, value):
        from sim.api.meta import parse_timestamp
        return parse_timestamp(value)


def test_the_cleaner_keeps_upstreams_timings():
    from sim.api.meta import timestamp
    from sim.controllers.csrcleaner import CSRCleanerController
    cleaner = CSRCleanerController.__new__(CSRCleanerController)
    pending = {"metadata": {"name": "p", "creationTimestamp": timestamp(0)}, "status": {}}
    approved = {"metadata": {"name": "a", "creationTimestamp": timestamp(0)},
                "status": {"conditions": [{"type": "Approved", "status": "True", "lastUpdateTime": timestamp(0)}]}}
    failed = {"metadata": {"name": "f", "creationTimestamp": timestamp(0)},
              "status": {"conditions": [{"type": "Failed", "status": "True", "lastUpdateTime": timestamp(0)}]}}
    for at, want in ((23 * 3600, ("", "", "failed more than 1h0m0s ago")),
                     (24 * 3600 + 1, ("pending for more than 24h0m0s", "", "failed more than 1h0m0s ago")),
                     (1000 * 24 * 3600, ("pending for more than 24h0m0s", "", "failed more than 1h0m0s ago"))):
        cleaner.cm = Clock(at)
        assert (cleaner.expired(pending), cleaner.expired(approved), cleaner.expired(failed)) == want, at


def test_an_expired_certificate_is_cleaned_up():
    c = new_cluster(seed=9)
    ok(csr_req(c, "create", body=csr_body("short", expirationSeconds=600)), 201)
    ok(approve(c, "short"))
    advance_until(c, lambda: get(c, "short")["status"].get("certificate"), 10)
    cleaner = next(x for x in c.controller_manager.controllers if x.name == "csrcleaner")
    assert cleaner.expired(get(c, "short")) == ""
    c.advance(700)
    assert cleaner.expired(get(c, "short")) == "its certificate has expired"


# -- the bootstrap token authenticator ---------------------------------------------------------
def bootstrap_secret(token_id, secret, expiration="2026-01-02T00:00:00Z", **extra):
    data = {"token-id": token_id, "token-secret": secret, "expiration": expiration,
            "usage-bootstrap-authentication": "true", "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
            **extra}
    return {"metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
            "type": "bootstrap.kubernetes.io/token",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items() if v is not None}}


def whoami(c, token):
    return c.request({"verb": "create", "group": "authentication.k8s.io", "resource": "selfsubjectreviews",
                      "body": {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                      "credentials": {"token": token}})


def test_bootstrap_tokens_authenticate_as_upstreams_authenticator():
    c = new_cluster(seed=10)
    for body in (bootstrap_secret("abcdef", "0123456789abcdef"),
                 bootstrap_secret("expird", "0123456789abcdef", expiration="2026-01-01T00:00:10Z"),
                 bootstrap_secret("nouse0", "0123456789abcdef", **{"usage-bootstrap-authentication": None})):
        ok(c.request({"verb": "create", "resource": "secrets", "namespace": "kube-system", "body": body}))
    c.advance(1)
    user = ok(whoami(c, "abcdef.0123456789abcdef"))["status"]["userInfo"]
    assert user == {"username": "system:bootstrap:abcdef",
                    "groups": ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                               "system:authenticated"]}
    for token in ("abcdef.0000000000000000", "expird.0123456789abcdef", "nouse0.0123456789abcdef",
                  "zzzzzz.0123456789abcdef"):
        assert whoami(c, token)["code"] == 401, token


def test_a_scenario_check_finds_a_request_by_field_selector(c):
    from sim.scenario import Scenario, ScenarioError
    ok(csr_req(c, "create", body=csr_body("selected", signer="example.com/picked")), 201)
    s = Scenario(c, cached_reads=True)
    s.expect(["csr", "spec.signerName=example.com/picked", ".spec.signerName=example.com/picked"])
    with pytest.raises(ScenarioError, match="CertificateSigningRequest selected has .status.certificate=<none>"):
        s.expect(["csr", "spec.signerName=example.com/picked", ".status.certificate!="])
    with pytest.raises(ScenarioError, match="no CertificateSigningRequest matches spec.signerName=example.com/none"):
        s.expect(["csr", "spec.signerName=example.com/none", ".status.certificate!="])
