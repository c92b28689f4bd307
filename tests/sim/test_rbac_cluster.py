"""RBAC in a running engine cluster: the bootstrap policy and the aggregation controller, the
TokenRequest API and ServiceAccount tokens (expiry, deletion), escalation prevention in the
RBAC kinds' storage, impersonation, the reviews, and open versus owned access."""
import pytest

from sim.cluster import Cluster, ClusterConfig
from tests.sim.conftest import ok

RBAC = "rbac.authorization.k8s.io"


@pytest.fixture(scope="module")
def owned():
    config = ClusterConfig.default(seed=5)
    config.access = "owned"
    c = Cluster("owned", config)
    c.advance(20)
    return c


def req(c, verb, resource, group="", ns=None, name=None, body=None, sub=None, creds=None, **kw):
    r = {"verb": verb, "group": group, "version": "v1", "resource": resource, "namespace": ns, "name": name,
         "body": body, "subresource": sub, **kw}
    if creds is not None:
        r["credentials"] = creds
    return c.request(r)


def token_for(c, sa, ns="default", **spec):
    ok(req(c, "create", "serviceaccounts", ns=ns, body={"metadata": {"name": sa}}))
    resp = ok(req(c, "create", "serviceaccounts", ns=ns, name=sa, sub="token",
                  body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}), 201)
    return resp["status"]["token"], resp


def grant(c, ns, role, rules, subject):
    ok(req(c, "create", "roles", RBAC, ns, body={"metadata": {"name": role}, "rules": rules}))
    ok(req(c, "create", "rolebindings", RBAC, ns, body={
        "metadata": {"name": role}, "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role},
        "subjects": [subject]}))


def test_bootstrap_policy_and_aggregation(owned):
    roles = {r["metadata"]["name"]: r for r in ok(req(owned, "list", "clusterroles", RBAC))["items"]}
    assert {"cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
            "system:public-info-viewer"} <= set(roles)
    assert roles["view"]["rules"] == roles["system:aggregate-to-view"]["rules"]
    assert set(map(str, roles["system:aggregate-to-view"]["rules"])) <= set(map(str, roles["edit"]["rules"]))
    # a new role labelled aggregate-to-view joins view (the monitoring example of the docs)
    ok(req(owned, "create", "clusterroles", RBAC, body={
        "metadata": {"name": "monitoring-endpoints", "labels": {f"{RBAC}/aggregate-to-view": "true"}},
        "rules": [{"apiGroups": [""], "resources": ["services", "endpointslices", "pods"], "verbs": ["get"]}]}))
    owned.advance(2)
    view = ok(req(owned, "get", "clusterroles", RBAC, name="view"))
    assert {"apiGroups": [""], "resources": ["services", "endpointslices", "pods"], "verbs": ["get"]} in view["rules"]
    crb = ok(req(owned, "get", "clusterrolebindings", RBAC, name="cluster-admin"))
    assert crb["subjects"] == [{"apiGroup": RBAC, "kind": "Group", "name": "system:masters"}]


def test_serviceaccount_token_is_held_to_its_roles(owned):
    token, tr = token_for(owned, "reader")
    assert tr["spec"]["expirationSeconds"] == 3600
    assert tr["spec"]["audiences"] == ["https://kubernetes.default.svc.cluster.local"]
    creds = {"token": token}
    denied = req(owned, "list", "pods", ns="default", creds=creds)
    assert denied["code"] == 403
    grant(owned, "default", "pod-reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
          {"kind": "ServiceAccount", "name": "reader", "namespace": "default"})
    assert req(owned, "list", "pods", ns="default", creds=creds)["code"] == 200
    secrets = req(owned, "list", "secrets", ns="default", creds=creds)
    assert secrets["code"] == 403 and secrets["body"]["message"] == (
        'secrets is forbidden: User "system:serviceaccount:default:reader" cannot list resource "secrets" in API '
        'group "" in the namespace "default"')
    assert secrets["body"]["details"] == {"kind": "secrets"}
    who = ok(req(owned, "create", "selfsubjectreviews", "authentication.k8s.io", body={}, creds=creds))
    assert who["status"]["userInfo"]["username"] == "system:serviceaccount:default:reader"
    assert who["status"]["userInfo"]["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default",
                                                   "system:authenticated"]
    rules = ok(req(owned, "create", "selfsubjectrulesreviews", "authorization.k8s.io",
                   body={"spec": {"namespace": "default"}}, creds=creds))["status"]
    assert {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]} in rules["resourceRules"]
    review = ok(req(owned, "create", "tokenreviews", "authentication.k8s.io", body={"spec": {"token": token}}))
    assert review["status"]["authenticated"] is True


def test_token_validation_expiry_and_revocation(owned):
    bad = req(owned, "create", "serviceaccounts", ns="default", name="default", sub="token",
              body={"spec": {"expirationSeconds": 60}})
    assert bad["code"] == 422 and bad["body"]["message"] == (
        'TokenRequest.authentication.k8s.io "default" is invalid: spec.expirationSeconds: Invalid value: 60: '
        'may not specify a duration less than 10 minutes')
    assert req(owned, "create", "serviceaccounts", ns="default", name="nobody", sub="token", body={})["code"] == 404
    token, _ = token_for(owned, "short", expirationSeconds=600)
    creds = {"token": token}
    who = {"verb": "create", "group": "authentication.k8s.io", "version": "v1", "resource": "selfsubjectreviews",
           "body": {}, "credentials": creds}
    assert owned.request(who)["code"] == 201
    owned.advance(601)
    expired = owned.request(dict(who))
    assert expired["code"] == 401 and expired["body"]["message"] == "Unauthorized"
    token, _ = token_for(owned, "gone")
    ok(req(owned, "delete", "serviceaccounts", ns="default", name="gone"))
    assert owned.request(dict(who, credentials={"token": token}))["code"] == 401  # its ServiceAccount is gone
    assert owned.request(dict(who, credentials={"token": token[:-2] + "xx"}))["code"] == 401


def test_owned_cluster_refuses_the_anonymous_user_and_honours_the_admin_token(owned):
    anon = req(owned, "list", "pods", ns="default", creds={})
    assert anon["code"] == 403 and 'User "system:anonymous" cannot list resource "pods"' in anon["body"]["message"]
    assert req(owned, "nonresource", "", path="/version", creds={})["code"] == 200
    assert req(owned, "nonresource", "", path="/metrics", creds={})["code"] == 403
    assert req(owned, "list", "pods", ns="default", creds={"token": owned.admin_token})["code"] == 200


def test_escalation_is_prevented_unless_the_user_holds_the_rights_or_escalate(owned):
    ok(req(owned, "create", "namespaces", body={"metadata": {"name": "team"}}))
    owned.advance(2)
    token, _ = token_for(owned, "lead", ns="team")
    creds = {"token": token}
    # lead may manage roles and bindings in team, and read pods there ("*" would include escalate and bind)
    grant(owned, "team", "lead", [{"apiGroups": [RBAC], "resources": ["roles", "rolebindings"],
                                   "verbs": ["create", "get", "list", "update", "delete"]},
                                  {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
          {"kind": "ServiceAccount", "name": "lead", "namespace": "team"})
    within = req(owned, "create", "roles", RBAC, "team", creds=creds,
                 body={"metadata": {"name": "pods"}, "rules": [{"apiGroups": [""], "resources": ["pods"],
                                                                "verbs": ["get"]}]})
    assert within["code"] == 201
    beyond = req(owned, "create", "roles", RBAC, "team", creds=creds,
                 body={"metadata": {"name": "secrets"}, "rules": [{"apiGroups": [""], "resources": ["secrets"],
                                                                   "verbs": ["get"]}]})
    assert beyond["code"] == 403 and beyond["body"]["message"] == (
        'roles.rbac.authorization.k8s.io "secrets" is forbidden: user "system:serviceaccount:team:lead" (groups='
        '["system:serviceaccounts" "system:serviceaccounts:team" "system:authenticated"]) is attempting to grant '
        'RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}')
    bind_admin = {"metadata": {"name": "adm"}, "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "admin"},
                  "subjects": [{"kind": "User", "name": "eve"}]}
    assert req(owned, "create", "rolebindings", RBAC, "team", body=bind_admin, creds=creds)["code"] == 403
    # the escalate and bind verbs lift the check
    grant(owned, "team", "escalator", [{"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["escalate"]},
                                       {"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["bind"],
                                        "resourceNames": ["admin"]}],
          {"kind": "ServiceAccount", "name": "lead", "namespace": "team"})
    assert req(owned, "create", "roles", RBAC, "team", creds=creds,
               body={"metadata": {"name": "secrets"}, "rules": [{"apiGroups": [""], "resources": ["secrets"],
                                                                 "verbs": ["get"]}]})["code"] == 201
    assert req(owned, "create", "rolebindings", RBAC, "team", body=bind_admin, creds=creds)["code"] == 201


def test_impersonation_needs_the_impersonate_verb(owned):
    token, _ = token_for(owned, "plain")
    imp = {"token": token, "impersonate": {"user": "jane", "groups": [], "uid": "", "extra": {}}}
    denied = req(owned, "list", "pods", ns="default", creds=imp)
    assert denied["code"] == 403 and denied["body"]["message"] == (
        'users "jane" is forbidden: User "system:serviceaccount:default:plain" cannot impersonate resource "users" '
        'in API group "" at the cluster scope')
    admin_as = {"token": owned.admin_token, "impersonate": {"user": "system:serviceaccount:default:reader",
                                                             "groups": [], "uid": "", "extra": {}}}
    sar = ok(req(owned, "create", "selfsubjectaccessreviews", "authorization.k8s.io", creds=admin_as, body={
        "spec": {"resourceAttributes": {"verb": "list", "resource": "secrets", "namespace": "default"}}}))
    assert sar["status"] == {"allowed": False}


def test_validation_of_the_rbac_kinds(owned):
    bad = req(owned, "create", "rolebindings", RBAC, "default", body={
        "metadata": {"name": "b"}, "roleRef": {"kind": "Thing", "name": "x"}, "subjects": [{"kind": "Robot", "name": "r"}]})
    assert bad["code"] == 422
    fields = [c["field"] for c in bad["body"]["details"]["causes"]]
    assert fields == ["roleRef.kind", "subjects[0].kind"]
    rule = req(owned, "create", "roles", RBAC, "default", body={
        "metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]})
    assert rule["code"] == 422 and "namespaced rules cannot apply to non-resource URLs" in rule["body"]["message"]
    ok(req(owned, "create", "clusterroles", RBAC, body={"metadata": {"name": "system:thing"},
                                                         "rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]}))


def test_open_cluster_keeps_the_anonymous_administrator(cluster):
    assert req(cluster, "list", "secrets", ns="default", creds={})["code"] == 200
    who = ok(req(cluster, "create", "selfsubjectreviews", "authentication.k8s.io", body={}, creds={}))
    assert who["status"]["userInfo"] == {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
    # but a token is held to its roles, and so is whom the anonymous administrator impersonates
    token, _ = token_for(cluster, "x")
    assert req(cluster, "list", "secrets", ns="default", creds={"token": token})["code"] == 403
    as_x = {"impersonate": {"user": "system:serviceaccount:default:x", "groups": [], "uid": "", "extra": {}}}
    assert req(cluster, "list", "secrets", ns="default", creds=as_x)["code"] == 403


def test_server_side_apply_of_a_role_is_checked_for_escalation_too(owned):
    token, _ = token_for(owned, "applier", ns="team")
    grant(owned, "team", "applier", [{"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["get", "patch", "create"]}],
          {"kind": "ServiceAccount", "name": "applier", "namespace": "team"})
    role = {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "applied", "namespace": "team"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}
    resp = req(owned, "patch", "roles", RBAC, "team", name="applied", body=role, creds={"token": token},
               patch_type="application/apply-patch+yaml", query={"fieldManager": "me"})
    assert resp["code"] == 403 and "attempting to grant RBAC permissions not currently held" in resp["body"]["message"]
    ok(req(owned, "create", "roles", RBAC, "team", body={"metadata": {"name": "applied"}, "rules": []}))
    resp = req(owned, "patch", "roles", RBAC, "team", name="applied", body=role, creds={"token": token},
               patch_type="application/apply-patch+yaml", query={"fieldManager": "me", "force": "true"})
    assert resp["code"] == 403, resp


@pytest.mark.parametrize("resource,body", [
    ("roles", {"metadata": {"name": "r"}, "rules": "x"}),
    ("roles", {"metadata": {"name": "r"}, "rules": [1, None]}),
    ("rolebindings", {"metadata": {"name": "b"}, "roleRef": "x"}),
    ("rolebindings", {"metadata": {"name": "b"}, "subjects": [None, 3], "roleRef": {}}),
    ("roles", {"metadata": {"name": "a/b"}, "rules": []}),
])
def test_bad_rbac_objects_are_a_status_never_a_500(owned, resource, body):
    resp = req(owned, "create", resource, RBAC, "default", body=body)
    assert resp["code"] in (400, 422), resp


@pytest.mark.parametrize("creds", [
    {"token": "a.b.c"}, {"token": "x" * 5000}, {"token": "eyJ9.eyJ9.x"},
    {"impersonate": {"user": "", "groups": ["g"], "uid": "", "extra": {}}},
    {"impersonate": {"user": "system:serviceaccount:", "groups": [], "uid": "", "extra": {"k": ["v"]}}},
    "nonsense", {"token": 12}, {"token": "eyJhbGciOiJIUzI1NiJ9.e30.\u00e9\u00e9"}, {"token": "\u00e9.\u00e9.\u00e9"},
])
def test_bad_credentials_are_a_status_never_a_500(owned, creds):
    resp = req(owned, "list", "pods", ns="default", creds=creds)
    assert resp["code"] in (400, 401, 403), resp


@pytest.mark.parametrize("body", [
    {"spec": {"expirationSeconds": "x"}}, {"spec": {"expirationSeconds": 1 << 40}},
    {"spec": {"boundObjectRef": {"kind": "Pod", "name": "nope"}}}, {"spec": {"boundObjectRef": {"kind": "Job"}}},
    {"spec": "x"}, [],
])
def test_bad_token_requests_are_a_status_never_a_500(owned, body):
    resp = req(owned, "create", "serviceaccounts", ns="default", name="default", sub="token", body=body)
    assert resp["code"] in (400, 404, 422), resp
