"""Who may do what on a cluster's page, its control API and its kubectl console (issue 13:
presenter, viewers, students).  The Kubernetes API holds every request to RBAC itself
(sim/apiserver/authfilter.py); this is the same idea for what the engine does without a user:
the dashboard's forms and the control API.

A cluster is **open** (`demo`, and every cluster created without `"access": "owned"`): anyone
who reaches the server may change it, as before.  An **owned** cluster has an owner's token (its
admin's static token, which the control API's kubeconfig carries), and

    presenter  brings that token (or PILOTHOUSE["TEACHER_TOKEN"]): controls it;
    student    brings a ServiceAccount token of the cluster: watches the page; the console and
               the kubeconfig download are theirs, held to their roles by the API server's RBAC;
    viewer     brings nothing (or a token the cluster does not know): watches, read-only.

A visitor brings a token as `Authorization: Bearer <token>` (scripts, the control API) or in the
cookie the presenter or student link (`/clusters/<name>/?token=...`) sets, one per cluster.

AccessMiddleware refuses, on an owned cluster and without the presenter's token, with a 403
Kubernetes Status: every unsafe request to the dashboard (/clusters/<c>/dashboard/...) and the
control API (/clusters/<c>/sim/v1/..., DELETE /sim/v1/clusters/<c>), the etcd snapshot (the
whole keyspace, Secrets included), and the kubeconfig to anyone but a presenter or a student.
A URL added under those prefixes is guarded without anyone remembering to.  It also hands the
page's cookie to the Kubernetes API as the bearer token when the request brings none, so the
page's own reads act as whoever opened it.

The page's object reads (the Objects view, the object drawer, the YAML view) go to the API as
the visitor too (`page_credentials`), so RBAC decides what each may see, as it does for their
kubectl: a student with their token; a viewer of an owned cluster by impersonation, as an
authenticating proxy (the Kubernetes Dashboard, say) does, as the user `pilothouse:viewer` in the
group `pilothouse:viewers`, which owned clusters bind to the ClusterRole `view`
(sim/auth/bootstrappolicy.py): everything but Secrets, as upstream's `view` allows.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie

from django.conf import settings

from cluster import services
from cluster.api.credentials import from_headers
from cluster.api.status import status_response
from cluster.inlinemiddleware import DualModeMiddleware
from sim.auth.bootstrappolicy import PAGE_VIEWERS as VIEWERS_GROUP

COOKIE_PREFIX = "pilothouse-token-"
TEACHER_COOKIE = "pilothouse-teacher"   # PILOTHOUSE["TEACHER_TOKEN"], set by /?token=
COOKIE_MAX_AGE = 12 * 3600   # a school day
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

OPEN, PRESENTER, STUDENT, VIEWER = "open", "presenter", "student", "viewer"
# Whom the page's reads act as for a viewer of an owned cluster (page_credentials).
VIEWER_USER = "pilothouse:viewer"
# What the page says about each role (the header's badge).
BADGES = {
    OPEN: "open: anyone here can change it",
    PRESENTER: "presenter: you control this cluster",
    STUDENT: "student: you watch; kubectl runs as you",
    VIEWER: "viewer: you watch, read-only",
}


@dataclass(frozen=True)
class Access:
    cluster: str
    mode: str              # "open" | "owned"
    role: str              # OPEN | PRESENTER | STUDENT | VIEWER
    token: str = ""        # the token the visitor brought ("" none)
    user: str = ""         # whom it authenticates as (a student's ServiceAccount user)
    owner: str = ""        # the cluster's owner's name (a sandbox's student)
    api_token: str = ""    # what the visitor's kubectl and page reads send to the Kubernetes API
    # The cluster admin's token, with which the page impersonates a viewer (page_credentials);
    # never handed to the visitor.
    proxy_token: str = field(default="", repr=False)

    @property
    def controls(self) -> bool:
        """May change the cluster through the page and the control API."""
        return self.role in (OPEN, PRESENTER)

    @property
    def badge(self) -> str:
        return BADGES[self.role]


def cookie_name(cluster: str) -> str:
    return COOKIE_PREFIX + cluster


def _bearer(headers) -> str:
    return from_headers(headers).get("token", "")


def _cookie_token(raw: str, cluster: str, name: str = "") -> str:
    try:
        jar = SimpleCookie(raw or "")
    except CookieError:
        return ""
    morsel = jar.get(name or cookie_name(cluster))
    return morsel.value if morsel is not None else ""


def token_of_request(request, cluster: str) -> str:
    """The token a request brings: its Authorization header, else the cluster's cookie, else
    the teacher's (cluster/dashboard/classroomviews.py)."""
    return (_bearer(request.headers.items()) or request.COOKIES.get(cookie_name(cluster), "")
            or request.COOKIES.get(TEACHER_COOKIE, ""))


def token_of_scope(scope: dict, cluster: str) -> str:
    """The same for a WebSocket's ASGI scope."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or []]
    cookies = "; ".join(v for k, v in headers if k.lower() == "cookie")
    return _bearer(headers) or _cookie_token(cookies, cluster) or _cookie_token(cookies, "", TEACHER_COOKIE)


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def teacher_token() -> str:
    return getattr(settings, "PILOTHOUSE", {}).get("TEACHER_TOKEN", "") or ""


async def resolve(cluster: str, token: str, identify: bool = False) -> Access:
    """The visitor's Access to `cluster`.  `identify`: ask the cluster's API server who a token
    that is not the presenter's belongs to (a TokenReview), to tell a student from a viewer;
    without it such a visitor is a viewer.  Raises services.ClusterNotFound and the like."""
    info = await services.cluster_access(cluster)
    mode, owner = info.get("access") or OPEN, info.get("owner") or ""
    if _same(token, info.get("token") or "") or _same(token, teacher_token()):
        return Access(cluster, mode, PRESENTER, token, "kubernetes-admin", owner, info.get("token") or "")
    user = ""
    if token and identify:
        try:
            review = await services.token_review(cluster, token)
        except services.SimulationError:
            review = {}
        if review.get("authenticated"):
            user = (review.get("user") or {}).get("username") or ""
    if mode != "owned":
        return Access(cluster, mode, OPEN, token if user else "", user, owner, token if user else "")
    if user:
        return Access(cluster, mode, STUDENT, token, user, owner, token)
    return Access(cluster, mode, VIEWER, "", "", owner, proxy_token=info.get("token") or "")


def page_credentials(a: Access) -> dict | None:
    """The credentials the page's reads of objects send to the Kubernetes API for visitor `a`
    (cluster/api/credentials.py's shape; None: as the engine, which a presenter controls anyway):
    a student's or an open cluster's visitor's own token, a viewer impersonated (see the module
    docstring)."""
    if a.role == PRESENTER or not a.api_token and a.role == OPEN:
        return None
    if a.api_token:
        return {"token": a.api_token}
    return {"token": a.proxy_token,
            "impersonate": {"user": VIEWER_USER, "groups": [VIEWERS_GROUP], "uid": "", "extra": {}}}


async def of_request(request, cluster: str, identify: bool = False) -> Access:
    return await resolve(cluster, token_of_request(request, cluster), identify)


async def of_scope(scope: dict, cluster: str, identify: bool = False) -> Access:
    return await resolve(cluster, token_of_scope(scope, cluster), identify)


def forbidden(access: Access, what: str):
    """The 403 Status for a visitor who may not do `what`."""
    who = "a student" if access.role == STUDENT else "an anonymous viewer"
    return status_response(403, "Forbidden",
                           f'{what} on cluster "{access.cluster}" is forbidden: it is owned, and {who} only '
                           f"watches it; open the presenter link (or send the presenter's token as "
                           f"Authorization: Bearer) to control it")


# -- the middleware ----------------------------------------------------------------------------

DASHBOARD = re.compile(r"^/clusters/(?P<cluster>[^/]+)/dashboard/")
CONTROL = re.compile(r"^/clusters/(?P<cluster>[^/]+)/sim/v1/(?P<rest>.*)$")
CLUSTER_ITEM = re.compile(r"^/sim/v1/clusters/(?P<cluster>[^/]+)$")
KUBECONFIG = re.compile(r"^/sim/v1/clusters/(?P<cluster>[^/]+)/kubeconfig$")
KUBE_API = re.compile(r"^/clusters/(?P<cluster>[^/]+)/(?:api|apis|version|openapi|healthz|livez|readyz|metrics)(?:/|$)")
# Reads of the control API that show what viewers may not see: every stored key and value (the
# etcd snapshot, a past moment's keyspace and objects), or the run's export, which carries the
# cluster's admin token and ServiceAccount signing key (cluster/worker/timeline.py).
SECRET_READS = ("etcd/snapshot", "export")
SECRET_READ_PREFIXES = ("history/",)


def guarded(method: str, path: str) -> tuple[str, str] | None:
    """(cluster, what) when the request needs more than watching on an owned cluster."""
    unsafe = method not in SAFE_METHODS
    m = DASHBOARD.match(path)
    if m and unsafe:
        return m["cluster"], "changing the cluster from the page"
    m = CONTROL.match(path)
    if m and (unsafe or m["rest"] in SECRET_READS or m["rest"].startswith(SECRET_READ_PREFIXES)):
        return m["cluster"], f"{method} {path}"
    m = CLUSTER_ITEM.match(path)
    if m and unsafe:
        return m["cluster"], f"{method} {path}"
    m = KUBECONFIG.match(path)
    if m:
        return m["cluster"], "the kubeconfig"
    return None


class AccessMiddleware(DualModeMiddleware):
    """See the module docstring.  Async only in practice (Daphne); the sync path, for
    completeness, lets requests through unchecked only when no cluster is involved."""

    def _call(self, request):
        from asgiref.sync import async_to_sync
        return async_to_sync(self._acall)(request)

    async def _acall(self, request):
        target = guarded(request.method, request.path)
        if target is not None:
            cluster, what = target
            try:
                # The kubeconfig goes to students too: identify them.
                identify = bool(KUBECONFIG.match(request.path))
                access = await of_request(request, cluster, identify=identify)
            except services.ClusterNotFound:
                access = None   # no such cluster: the view answers that
            except services.SimulationError as e:
                # Who is asking cannot be told: refuse rather than let anyone through.
                return status_response(e.status, e.reason, e.message)
            if access is not None:
                request.pilothouse_access = access
                allowed = access.controls or (identify and access.role == STUDENT)
                if not allowed:
                    return forbidden(access, what)
        else:
            m = KUBE_API.match(request.path)
            if m and "HTTP_AUTHORIZATION" not in request.META and (
                    request.COOKIES.get(cookie_name(m["cluster"])) or request.COOKIES.get(TEACHER_COOKIE)):
                # The page's own reads act as whoever opened it (its cookie is SameSite=Lax and
                # the API refuses other origins' writes: cluster/api/guard.py).
                try:
                    token = (await of_request(request, m["cluster"], identify=True)).api_token
                except services.SimulationError:
                    token = ""
                if token:
                    request.META["HTTP_AUTHORIZATION"] = f"Bearer {token}"
                    request.__dict__.pop("headers", None)
        return await self.get_response(request)
