"""The default roles every cluster has (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go),
as far as the simulator serves their resources and needs them: cluster-admin, the user-facing
admin / edit / view (aggregated from the system:aggregate-to-* roles by their labels, as
upstream), system:basic-user, system:discovery, system:public-info-viewer, system:monitoring,
the certificates.k8s.io roles a kubelet's TLS bootstrap and CSR approval rely on
(system:node-bootstrapper, the csrapproving controller's nodeclient / selfnodeclient roles, the
signers' approver roles), and their ClusterRoleBindings (cluster-admin to system:masters).

The simulated components (scheduler, controllers, kubelets, kube-proxy, CoreDNS, ingress-nginx)
talk to kube-apiserver in-process without credentials, so the system:kube-scheduler,
system:kube-controller-manager and system:node roles, which exist to authorize them upstream,
are not made (see docs/security/rbac.md).  kube-apiserver's post-start hook
"rbac/bootstrap-roles" (sim/apiserver/rbacbootstrap.py) creates the missing ones.
"""
from __future__ import annotations

GROUP = "rbac.authorization.k8s.io"
API_VERSION = f"{GROUP}/v1"
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
READ_WRITE = READ + WRITE
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
# addClusterRoleLabel / addDefaultMetadata
BOOTSTRAPPING_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE_ANNOTATION = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def rule(verbs: list[str], groups: list[str] | None = None, resources: list[str] | None = None,
         urls: list[str] | None = None, names: list[str] | None = None) -> dict:
    """rbacv1helpers.NewRule(verbs...).Groups(...).Resources(...).Names(...) / .URLs(...)."""
    r: dict = {"verbs": list(verbs)}
    if urls is not None:
        r["nonResourceURLs"] = list(urls)
    else:
        r["apiGroups"], r["resources"] = list(groups or [""]), list(resources or [])
        if names:
            r["resourceNames"] = list(names)
    return r


CERTIFICATES = "certificates.k8s.io"
SIGNERS = ("kube-apiserver-client", "kube-apiserver-client-kubelet", "kubelet-serving", "legacy-unknown")


def _cluster_role(name: str, rules: list[dict] | None = None, labels: dict | None = None,
                  aggregate_from: str | None = None) -> dict:
    role = {"apiVersion": API_VERSION, "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {**BOOTSTRAPPING_LABEL, **(labels or {})},
                         "annotations": dict(AUTOUPDATE_ANNOTATION)}}
    if aggregate_from:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {AGGREGATE_TO + aggregate_from: "true"}}]}
    role["rules"] = rules or []
    return role


def cluster_roles() -> list[dict]:
    """ClusterRoles()."""
    return [
        _cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), rule(["*"], urls=["*"])]),
        _cluster_role("system:discovery", [rule(["get"], urls=["/api", "/api/*", "/apis", "/apis/*", "/healthz",
                                                               "/livez", "/openapi", "/openapi/*", "/readyz",
                                                               "/version", "/version/"])]),
        _cluster_role("system:monitoring", [rule(["get"], urls=["/healthz", "/healthz/*", "/livez", "/livez/*",
                                                                "/metrics", "/metrics/slis", "/readyz", "/readyz/*"])]),
        _cluster_role("system:basic-user", [
            rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]),
        _cluster_role("system:public-info-viewer", [rule(["get"], urls=["/healthz", "/livez", "/readyz", "/version",
                                                                        "/version/"])]),
        # A kubelet's TLS bootstrap: create a CSR for its client certificate and watch it be signed.
        _cluster_role("system:node-bootstrapper", [
            rule(["create", "get", "list", "watch"], [CERTIFICATES], ["certificatesigningrequests"])]),
        # What the csrapproving controller's SubjectAccessReviews ask about the requester: a
        # node client CSR (a bootstrap token's), one a node makes for itself (rotation).
        _cluster_role("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [
            rule(["create"], [CERTIFICATES], ["certificatesigningrequests/nodeclient"])]),
        _cluster_role("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [
            rule(["create"], [CERTIFICATES], ["certificatesigningrequests/selfnodeclient"])]),
        # Approving a well-known signer's requests (the CertificateApproval admission plugin).
        *[_cluster_role(f"system:certificates.k8s.io:{s}-approver", [
            rule(["approve"], [CERTIFICATES], ["signers"], names=[f"kubernetes.io/{s}"])]) for s in SIGNERS],
        # The user-facing roles: filled by the clusterrole-aggregation controller.
        _cluster_role("admin", aggregate_from="admin"),
        _cluster_role("edit", labels={AGGREGATE_TO + "admin": "true"}, aggregate_from="edit"),
        _cluster_role("view", labels={AGGREGATE_TO + "edit": "true"}, aggregate_from="view"),
        _cluster_role("system:aggregate-to-admin", [
            rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
            rule(READ_WRITE, [GROUP], ["rolebindings", "roles"]),
        ], labels={AGGREGATE_TO + "admin": "true"}),
        _cluster_role("system:aggregate-to-edit", [
            # read on escalating resources
            rule(READ, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
            rule(["impersonate"], [""], ["serviceaccounts"]),
            rule(WRITE, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
            rule(["create"], [""], ["pods/eviction"]),
            rule(WRITE, [""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                               "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
                               "services/proxy"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
            rule(WRITE, ["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                                   "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]),
            rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
            rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
            rule(WRITE, ["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                                         "ingresses", "networkpolicies", "replicasets", "replicasets/scale",
                                         "replicationcontrollers/scale"]),
            rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
            rule(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
            rule(READ_WRITE, ["coordination.k8s.io"], ["leases"]),
        ], labels={AGGREGATE_TO + "edit": "true"}),
        _cluster_role("system:aggregate-to-view", [
            rule(READ, [""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
                              "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                              "services", "services/status"]),
            rule(READ, [""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                              "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
            rule(READ, [""], ["namespaces"]),
            rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
            rule(READ, ["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
                                  "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
                                  "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"]),
            rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
            rule(READ, ["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                        "deployments/status", "ingresses", "ingresses/status", "networkpolicies",
                                        "replicasets", "replicasets/scale", "replicasets/status",
                                        "replicationcontrollers/scale"]),
            rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
            rule(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
        ], labels={AGGREGATE_TO + "view": "true"}),
    ]


def _binding(name: str, groups: list[str]) -> dict:
    return {"apiVersion": API_VERSION, "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": dict(BOOTSTRAPPING_LABEL), "annotations": dict(AUTOUPDATE_ANNOTATION)},
            "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": GROUP, "kind": "Group", "name": g} for g in groups]}


# Pilothouse's own binding on an owned cluster (not upstream's; as kubeadm adds its own at init):
# the page reads objects for a viewer by impersonating this group (cluster/access.py
# page_credentials), so a viewer may see what `view` allows - not Secrets.  A presenter who
# deletes it takes the Objects view away from viewers.
PAGE_VIEWERS = "pilothouse:viewers"


def page_viewers_binding() -> dict:
    return {"apiVersion": API_VERSION, "kind": "ClusterRoleBinding",
            "metadata": {"name": PAGE_VIEWERS, "labels": {"pilothouse.dev/page-viewers": "true"}},
            "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": GROUP, "kind": "Group", "name": PAGE_VIEWERS}]}


def cluster_role_bindings() -> list[dict]:
    """ClusterRoleBindings()."""
    return [
        _binding("cluster-admin", ["system:masters"]),
        _binding("system:monitoring", ["system:monitoring"]),
        _binding("system:discovery", ["system:authenticated"]),
        _binding("system:basic-user", ["system:authenticated"]),
        _binding("system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
    ]
