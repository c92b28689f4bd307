"""RBAC decisions of upstream's default user-facing ClusterRoles (cluster-admin, admin, edit,
view) on a table of verbs and resources, asked of the API server with SubjectAccessReviews
through the official `kubernetes` client.

The expected column is what kube-apiserver's RBAC authorizer decides with its bootstrap policy
(plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go and its aggregate-to-{admin,edit,view}
roles), as the Kubernetes documentation's "User-facing roles" table describes them: view reads
most namespaced objects but never Secrets or RBAC objects; edit writes workloads, Secrets and
ServiceAccount tokens but not Roles or RoleBindings; admin adds Roles, RoleBindings and local
access reviews but only reads ResourceQuotas and cannot touch the Namespace; a namespaced
binding never reaches cluster-scoped resources; cluster-admin is allowed everything."""
from __future__ import annotations

import pytest

from tests.conftest import wait_until

NS = "rbac-table"
APPS, RBAC, AUTHZ, NET, BATCH = "apps", "rbac.authorization.k8s.io", "authorization.k8s.io", "networking.k8s.io", "batch"

# (user, verb, group, resource, subresource, namespace) -> allowed.  Users: ann (view), bob (edit),
# cat (admin), each bound in NS by a RoleBinding; root (cluster-admin by a ClusterRoleBinding).
TABLE = [
    ("ann", "list", "", "pods", "", NS, True),
    ("ann", "get", "", "pods", "log", NS, True),
    ("ann", "watch", APPS, "deployments", "", NS, True),
    ("ann", "get", "", "configmaps", "", NS, True),
    ("ann", "list", "", "events", "", NS, True),
    ("ann", "get", "", "secrets", "", NS, False),
    ("ann", "create", "", "pods", "", NS, False),
    ("ann", "create", "", "pods", "exec", NS, False),
    ("ann", "list", RBAC, "roles", "", NS, False),
    ("ann", "list", "", "pods", "", "default", False),      # bound in NS only
    ("ann", "list", "", "nodes", "", "", False),            # cluster-scoped
    ("bob", "create", "", "pods", "", NS, True),
    ("bob", "delete", APPS, "deployments", "", NS, True),
    ("bob", "patch", APPS, "deployments", "scale", NS, True),
    ("bob", "create", "", "secrets", "", NS, True),
    ("bob", "create", "", "pods", "exec", NS, True),
    ("bob", "create", "", "serviceaccounts", "token", NS, True),
    ("bob", "create", NET, "networkpolicies", "", NS, True),
    ("bob", "create", BATCH, "cronjobs", "", NS, True),
    ("bob", "create", RBAC, "roles", "", NS, False),
    ("bob", "create", RBAC, "rolebindings", "", NS, False),
    ("bob", "update", "", "resourcequotas", "", NS, False),
    ("bob", "create", AUTHZ, "localsubjectaccessreviews", "", NS, False),
    ("cat", "create", RBAC, "roles", "", NS, True),
    ("cat", "create", RBAC, "rolebindings", "", NS, True),
    ("cat", "create", AUTHZ, "localsubjectaccessreviews", "", NS, True),
    ("cat", "delete", "", "pods", "", NS, True),
    ("cat", "get", "", "resourcequotas", "", NS, True),
    ("cat", "delete", "", "resourcequotas", "", NS, False),
    ("cat", "delete", "", "namespaces", "", "", False),
    ("cat", "create", RBAC, "clusterroles", "", "", False),
    ("root", "delete", "", "nodes", "", "", True),
    ("root", "create", RBAC, "clusterroles", "", "", True),
    ("root", "get", "", "secrets", "", "kube-system", True),
    ("root", "escalate", RBAC, "roles", "", NS, True),
]


@pytest.fixture(scope="module")
def bound(kube_client):
    from kubernetes import client
    core, _, _ = kube_client
    api = core.api_client
    rbac = client.RbacAuthorizationV1Api(api)
    # admin, edit and view are aggregated roles: the clusterrole-aggregation-controller fills
    # their rules a moment after the API server's post-start hook creates them empty (on a busy
    # machine, after the first reviews would be asked).
    wait_until(lambda: all(rbac.read_cluster_role(r).rules for r in ("admin", "edit", "view")), timeout=30,
               message="the aggregated roles' rules")
    core.create_namespace({"metadata": {"name": NS}})
    for user, role in (("ann", "view"), ("bob", "edit"), ("cat", "admin")):
        rbac.create_namespaced_role_binding(NS, {
            "metadata": {"name": f"{user}-{role}"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": user}]})
    rbac.create_cluster_role_binding({
        "metadata": {"name": "root-cluster-admin"},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "root"}]})
    return client.AuthorizationV1Api(api)


@pytest.mark.parametrize("user, verb, group, resource, sub, namespace, allowed", TABLE,
                         ids=[f"{r[0]}-{r[1]}-{r[3]}{'/' + r[4] if r[4] else ''}-{r[5] or 'cluster'}" for r in TABLE])
def test_default_roles_decide_as_upstream(bound, user, verb, group, resource, sub, namespace, allowed):
    attrs = {"verb": verb, "group": group, "resource": resource, "subresource": sub, "namespace": namespace}
    review = bound.create_subject_access_review({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": ["system:authenticated"],
                 "resourceAttributes": {k: v for k, v in attrs.items() if v}}})
    assert review.status.allowed is allowed, (review.status.reason, review.status.evaluation_error)
