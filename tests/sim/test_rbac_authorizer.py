"""The RBAC authorizer's rule matching (plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows and
the rbacv1helpers it calls), its rule resolver over bindings, the forbidden message, and the
escalation check's Covers - on plain dicts, no cluster."""
import pytest

from sim.auth import escalation, rbac
from sim.auth.bootstrappolicy import cluster_roles

JANE = {"username": "jane", "groups": ["devs", "system:authenticated"]}
SA = {"username": "system:serviceaccount:default:x",
      "groups": ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]}


def res(verb, resource, group="", sub="", ns="default", name="", user=JANE):
    return rbac.resource_attributes(user, verb, group, resource, sub, ns, name)


@pytest.mark.parametrize("rule,attrs,allowed", [
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, res("get", "pods"), True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, res("list", "pods"), False),
    ({"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]}, res("delete", "pods"), True),
    ({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["pods"]}, res("get", "pods"), False),
    ({"verbs": ["get"], "apiGroups": ["*"], "resources": ["deployments"]}, res("get", "deployments", "apps"), True),
    # subresources: named exactly, or "*/sub"; the resource alone does not cover them
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, res("get", "pods", sub="log"), False),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log"]}, res("get", "pods", sub="log"), True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["*/log"]}, res("get", "pods", sub="log"), True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["*/status"]}, res("get", "pods", sub="log"), False),
    ({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]}, res("get", "pods", sub="log"), True),
    # resourceNames: only those names; a list (no name) is not covered
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]},
     res("get", "configmaps", name="a"), True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]},
     res("get", "configmaps", name="b"), False),
    ({"verbs": ["list"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]},
     res("list", "configmaps"), False),
    # non-resource URLs: exact, or a prefix ending in *
    ({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}, rbac.non_resource_attributes(JANE, "get", "/healthz"), True),
    ({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}, rbac.non_resource_attributes(JANE, "get", "/apis/apps/v1"),
     True),
    ({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}, rbac.non_resource_attributes(JANE, "get", "/api"), False),
    ({"verbs": ["get"], "nonResourceURLs": ["*"]}, rbac.non_resource_attributes(JANE, "post", "/x"), False),
    ({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]}, rbac.non_resource_attributes(JANE, "get", "/x"),
     False),
])
def test_rule_allows(rule, attrs, allowed):
    assert rbac.rule_allows(attrs, rule) is allowed


def _objects(*objs):
    by_gr: dict = {}
    for o in objs:
        gr = {"Role": rbac.ROLES, "ClusterRole": rbac.CLUSTER_ROLES, "RoleBinding": rbac.ROLE_BINDINGS,
              "ClusterRoleBinding": rbac.CLUSTER_ROLE_BINDINGS}[o["kind"]]
        md = o["metadata"]
        by_gr.setdefault(gr, {})[(md.get("namespace", ""), md["name"])] = o
    return lambda gr: by_gr.get(gr, {})


POD_READER = {"kind": "Role", "metadata": {"namespace": "default", "name": "pod-reader"},
              "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]}
SECRET_READER = {"kind": "ClusterRole", "metadata": {"name": "secret-reader"},
                 "rules": [{"verbs": ["get", "watch", "list"], "apiGroups": [""], "resources": ["secrets"]}]}


def binding(kind, name, role_kind, role, subjects, ns="default"):
    md = {"name": name, **({"namespace": ns} if kind == "RoleBinding" else {})}
    return {"kind": kind, "metadata": md, "roleRef": {"apiGroup": rbac.GROUP, "kind": role_kind, "name": role},
            "subjects": subjects}


def test_bindings_grant_to_users_groups_and_serviceaccounts_in_their_scope():
    resolver = rbac.RuleResolver(_objects(
        POD_READER, SECRET_READER,
        binding("RoleBinding", "read-pods", "Role", "pod-reader", [{"kind": "User", "name": "jane"}]),
        binding("RoleBinding", "sa-pods", "Role", "pod-reader", [{"kind": "ServiceAccount", "name": "x"}]),
        binding("RoleBinding", "dev-secrets", "ClusterRole", "secret-reader", [{"kind": "Group", "name": "devs"}],
                ns="development")))
    assert rbac.authorize(resolver, res("list", "pods")) == \
        (True, 'RBAC: allowed by RoleBinding "read-pods/default" of Role "pod-reader" to User "jane"')
    assert rbac.authorize(resolver, res("list", "pods", user=SA))[0]
    assert not rbac.authorize(resolver, res("list", "pods", ns="kube-system"))[0]
    # a ClusterRole bound in one namespace grants in that namespace only
    assert rbac.authorize(resolver, res("get", "secrets", ns="development"))[0]
    assert not rbac.authorize(resolver, res("get", "secrets", ns="default"))[0]
    assert not rbac.authorize(resolver, res("get", "secrets", ns=""))[0]


def test_system_masters_is_allowed_everything_without_any_binding():
    admin = {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]}
    assert rbac.authorize(rbac.RuleResolver(_objects()), res("delete", "nodes", ns="", user=admin)) == (True, "")


def test_a_binding_to_a_missing_role_is_the_denials_reason():
    resolver = rbac.RuleResolver(_objects(binding("RoleBinding", "rb", "Role", "gone", [{"kind": "User", "name": "jane"}])))
    allowed, reason = rbac.authorize(resolver, res("get", "pods"))
    assert not allowed and reason == 'RBAC: role.rbac.authorization.k8s.io "gone" not found'


def test_forbidden_messages_are_upstreams():
    sa = res("list", "secrets", user=SA)
    assert rbac.forbidden(sa)["message"] == ('secrets is forbidden: User "system:serviceaccount:default:x" cannot list '
                                             'resource "secrets" in API group "" in the namespace "default"')
    named = res("get", "deployments", "apps", sub="scale", ns="", name="web")
    assert rbac.forbidden(named)["message"] == ('deployments.apps "web" is forbidden: User "jane" cannot get resource '
                                                '"deployments/scale" in API group "apps" at the cluster scope')
    path = rbac.forbidden(rbac.non_resource_attributes(JANE, "get", "/api"))
    assert path["message"] == 'forbidden: User "jane" cannot get path "/api"' and path["code"] == 403


def test_covers_and_the_escalation_message():
    owner = POD_READER["rules"]
    assert escalation.covers(owner, [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}])[0]
    ok, missing = escalation.covers(owner, [{"verbs": ["get", "delete"], "apiGroups": [""],
                                             "resources": ["pods", "secrets"]}])
    assert not ok and len(missing) == 3
    resolver = rbac.RuleResolver(_objects(
        POD_READER, binding("RoleBinding", "rb", "Role", "pod-reader", [{"kind": "User", "name": "jane"}])))
    msg = escalation.confirm_no_escalation(resolver, JANE, "default",
                                           [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["secrets"]}])
    assert msg == ('user "jane" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not '
                   'currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}')
    assert escalation.confirm_no_escalation(resolver, JANE, "default", owner) is None


def test_the_default_roles_decide_as_upstreams():
    roles = {r["metadata"]["name"]: r for r in cluster_roles()}
    # view's aggregated rules (the aggregate-to-view role's) read pods but never secrets
    view = roles["system:aggregate-to-view"]["rules"]
    assert any(rbac.rule_allows(res("list", "pods"), r) for r in view)
    assert not any(rbac.rule_allows(res("get", "secrets"), r) for r in view)
    edit = roles["system:aggregate-to-edit"]["rules"]
    assert any(rbac.rule_allows(res("create", "serviceaccounts", sub="token"), r) for r in edit)
    assert not any(rbac.rule_allows(res("create", "roles", rbac.GROUP), r) for r in edit)
    admin = roles["system:aggregate-to-admin"]["rules"]
    assert any(rbac.rule_allows(res("create", "rolebindings", rbac.GROUP), r) for r in admin)
    anon = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
    public = roles["system:public-info-viewer"]["rules"]
    assert any(rbac.rule_allows(rbac.non_resource_attributes(anon, "get", "/version"), r) for r in public)
    assert not any(rbac.rule_allows(rbac.non_resource_attributes(anon, "get", "/api"), r) for r in public)
