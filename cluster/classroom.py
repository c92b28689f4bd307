"""Students of an owned cluster (issue 13): the presenter makes each student an identity of the
cluster's own, as a teacher would on a real cluster with kubectl, and hands it out as a link and
a kubeconfig.

A student `alice` is the ServiceAccount `alice` in the namespace `student-alice`, bound

    edit  to the ClusterRole `edit` in `student-alice` (RoleBinding `student`), and to `view`
          everywhere (ClusterRoleBinding `student:alice`), so they may build in their own
          namespace and look at the rest;
    view  to the ClusterRole `view` everywhere (ClusterRoleBinding `student:alice`);

and their token is a TokenRequest for that ServiceAccount (`kubectl create token`), valid for
STUDENT_TOKEN_SECONDS.  Everything goes through the cluster's Kubernetes API (so it shows on the
page as it happens); nothing here decides who may do what - the API server's RBAC does."""
from __future__ import annotations

import base64
from typing import Any

from cluster import services, tls
from sim.api.validation import is_dns1123_label

STUDENT_ROLES = ("edit", "view")
STUDENT_TOKEN_SECONDS = 12 * 3600   # a school day
STUDENT_LABEL = "pilothouse.dev/student"
STUDENT_ROLE_LABEL = "pilothouse.dev/student-role"
MAX_STUDENT_NAME = 40               # "student-" + the name stays a DNS label


class StudentError(ValueError):
    pass


def _req(verb: str, resource: str, namespace: str | None, body: dict | None = None, *, name: str | None = None,
         group: str = "", subresource: str | None = None) -> dict[str, Any]:
    return {"verb": verb, "group": group, "version": "v1", "resource": resource, "namespace": namespace,
            "name": name, "subresource": subresource, "body": body, "patch_type": None, "query": {}}


async def _create(cluster: str, req: dict) -> dict:
    """Create, accepting an object that already exists (a student asked for twice)."""
    resp = await services.cluster_api(cluster, req)
    code = int(resp.get("code", 500))
    if code not in (200, 201, 409):
        raise StudentError((resp.get("body") or {}).get("message") or f"request failed ({code})")
    return resp


async def make_student(cluster: str, student: str, role: str) -> dict[str, str]:
    """The student's ServiceAccount, bindings and a token: {"user", "namespace", "token",
    "role"}.  StudentError when the name or role is not one."""
    student = (student or "").strip().lower()
    if not is_dns1123_label(student) or len(student) > MAX_STUDENT_NAME:
        raise StudentError(f'student: "{student}" must be a name of lower-case letters, digits and "-" '
                           f"(at most {MAX_STUDENT_NAME})")
    if role not in STUDENT_ROLES:
        raise StudentError(f'role: Unsupported value: "{role}": supported values: "edit", "view"')
    ns = f"student-{student}"
    labels = {STUDENT_LABEL: student, STUDENT_ROLE_LABEL: role}
    rbac = "rbac.authorization.k8s.io"
    await _create(cluster, _req("create", "namespaces", None, {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}))
    await _create(cluster, _req("create", "serviceaccounts", ns, {
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": student, "namespace": ns,
                                                                   "labels": labels}}))
    subject = [{"kind": "ServiceAccount", "name": student, "namespace": ns}]
    if role == "edit":
        await _create(cluster, _req("create", "rolebindings", ns, {
            "apiVersion": f"{rbac}/v1", "kind": "RoleBinding",
            "metadata": {"name": "student", "namespace": ns, "labels": labels},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "edit"}, "subjects": subject},
            group=rbac))
    await _create(cluster, _req("create", "clusterrolebindings", None, {
        "apiVersion": f"{rbac}/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": f"student:{student}", "labels": labels},
        "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "view"}, "subjects": subject}, group=rbac))
    resp = await services.cluster_api(cluster, _req("create", "serviceaccounts", ns, {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"expirationSeconds": STUDENT_TOKEN_SECONDS}}, name=student, subresource="token"))
    token = ((resp.get("body") or {}).get("status") or {}).get("token")
    if int(resp.get("code", 500)) not in (200, 201) or not token:
        raise StudentError((resp.get("body") or {}).get("message") or "the TokenRequest failed")
    return {"user": f"system:serviceaccount:{ns}:{student}", "namespace": ns, "token": token, "role": role}


async def students(cluster: str) -> list[dict[str, str]]:
    """The students made so far: [{"name", "role", "namespace"}], from their ServiceAccounts'
    labels (their tokens are not kept: a new one is made on demand)."""
    req = _req("list", "serviceaccounts", None)
    req["query"] = {"labelSelector": STUDENT_LABEL}
    resp = await services.cluster_api(cluster, req)
    out = []
    for sa in (resp.get("body") or {}).get("items") or []:
        meta = sa.get("metadata") or {}
        labels = meta.get("labels") or {}
        out.append({"name": labels.get(STUDENT_LABEL, meta.get("name", "")),
                    "role": labels.get(STUDENT_ROLE_LABEL, "edit"), "namespace": meta.get("namespace", "")})
    return sorted(out, key=lambda s: s["name"])


def kubeconfig(request, cluster: str, user: str, token: str, namespace: str = "default") -> dict:
    """A kubeconfig (JSON, which kubectl reads) for `cluster` on this server with `token`.  Its
    server is the TLS port when there is one: kubectl sends a token only over https
    (cluster/tls.py)."""
    entry: dict = {"server": request.build_absolute_uri(f"/clusters/{cluster}")}
    ca = tls.certificate_pem()
    if tls.tls_port() and ca:
        host = request.get_host().rsplit(":", 1)[0] if not request.get_host().endswith("]") else request.get_host()
        entry = {"server": f"https://{host}:{tls.tls_port()}/clusters/{cluster}",
                 "certificate-authority-data": base64.b64encode(ca).decode()}
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": cluster, "preferences": {},
        "clusters": [{"name": cluster, "cluster": entry}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user, "namespace": namespace}}],
    }
