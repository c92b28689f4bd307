"""What stands in front of the Kubernetes API and the simulator control API (settings.MIDDLEWARE):

- cross-site requests: a browser on another origin may send a "simple" POST (text/plain, a form)
  without asking first, so an unsafe request whose `Origin` is not this server's own is refused
  (403), and so is any text/plain, form or multipart body (415): these endpoints take JSON (and,
  for the Kubernetes API, YAML, protobuf and the patch types).  kubectl and scripts send no
  Origin and JSON bodies, so nothing changes for them; the dashboard's own fetches are
  same-origin JSON, and its forms are not under these paths (they keep Django's CSRF);
- bodies too large, by their Content-Length, before anything is read: 413 (3 MiB, kube-apiserver's
  --max-request-body-bytes default, for the Kubernetes API; Django's upload limit for the
  control API, whose etcd snapshot restore reads its own larger limit);
- every error is a Kubernetes Status: a URL no view serves (Django's HTML 404), and any exception
  a view lets escape (a 500 Status, logged), as kube-apiserver's WithPanicRecovery answers.
"""
from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from cluster.api.requestinfo import MAX_REQUEST_BODY_BYTES, BODY_TYPES, PATCH_TYPES
from cluster.api.status import kube_json, status
from cluster.inlinemiddleware import DualModeMiddleware

log = logging.getLogger("pilothouse.api")

KUBE_API = re.compile(r"^/clusters/[^/]+/(?:console/kube/)?(?:api|apis|version|openapi|healthz|livez|readyz)(?:/|$)")
CONTROL_API = re.compile(r"^/(?:clusters/[^/]+/)?sim/v1(?:/|$)")
# The control API's endpoints that read their own, larger, limit (cluster/api/simcontrol.py):
# the etcd snapshot restore, and the creation of clusters, which may import a whole run.
OWN_LIMIT = re.compile(r"^(/clusters/[^/]+/sim/v1/etcd/snapshot/restore|/sim/v1/clusters)$")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The Content-Types a browser sends cross-site without a CORS preflight.
SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


def _api(path: str) -> str | None:
    if KUBE_API.match(path):
        return "kube"
    if CONTROL_API.match(path):
        return "control"
    return None


def _response(api: str, code: int, reason: str, message: str):
    body = status(code, reason, message)
    if api == "control":
        body["error"] = {"code": code, "reason": reason, "message": message}  # the control API's shape too
    return kube_json(body, code)


def _own_origin(request) -> str:
    host = request.META.get("HTTP_HOST", "")
    scheme = request.scheme
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}".lower()


def refusal(request, api: str):
    """The response refusing this request before any view runs, or None."""
    if request.method not in SAFE_METHODS:
        origin = request.META.get("HTTP_ORIGIN")
        if origin is not None:
            trimmed = origin.lower()
            for port in (":80", ":443"):
                if trimmed.startswith(("http://" if port == ":80" else "https://")) and trimmed.endswith(port):
                    trimmed = trimmed[: -len(port)]
            if trimmed != _own_origin(request):
                return _response(api, 403, "Forbidden",
                                 f"cross-origin request from {origin} refused: this API serves only its own "
                                 f"origin and clients that send no Origin (kubectl, scripts)")
        media_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if media_type in SIMPLE_TYPES:
            accepted = ", ".join(BODY_TYPES + PATCH_TYPES) if api == "kube" else "application/json"
            return _response(api, 415, "UnsupportedMediaType",
                             f"the body of the request was in an unknown format - accepted media types "
                             f"include: {accepted}")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _response(api, 400, "BadRequest", "invalid Content-Length")
    limit = MAX_REQUEST_BODY_BYTES if api == "kube" else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length > limit and not OWN_LIMIT.match(request.path):
        return _response(api, 413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")
    return None


def as_status(request, api: str, response):
    """An error response that is not JSON (Django's own 404/500 pages) becomes a Status."""
    if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
        reason = {404: "NotFound", 405: "MethodNotAllowed", 413: "RequestEntityTooLarge"}.get(
            response.status_code, "BadRequest" if response.status_code < 500 else "InternalError")
        message = "the server could not find the requested resource" if response.status_code == 404 \
            else f"{response.status_code} {getattr(response, 'reason_phrase', '')}".strip()
        return _response(api, response.status_code, reason, message)
    return response


class APIGuard(DualModeMiddleware):
    """The middleware (sync or async, as the stack around it is)."""

    def _call(self, request):
        api = _api(request.path)
        if api is None:
            return self.get_response(request)
        return refusal(request, api) or as_status(request, api, self.get_response(request))

    async def _acall(self, request):
        api = _api(request.path)
        if api is None:
            return await self.get_response(request)
        return refusal(request, api) or as_status(request, api, await self.get_response(request))

    def process_exception(self, request, exception):
        api = _api(request.path)
        if api is None:
            return None
        if isinstance(exception, RequestDataTooBig):
            return _response(api, 413, "RequestEntityTooLarge",
                             f"Request entity too large: limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE}")
        log.exception("uncaught exception serving %s %s", request.method, request.path)
        return _response(api, 500, "InternalError",
                         f"Internal error occurred: {type(exception).__name__}: {exception}")


class KubectlOrSameOrigin:
    """A WebSocket of the Kubernetes API (kubectl exec): clients that send no Origin header
    (kubectl, the Python client) connect; a browser page connects only from this site's own
    origin (AllowedHostsOriginValidator), so another site's page cannot exec into a cluster."""

    def __init__(self, app):
        from channels.security.websocket import AllowedHostsOriginValidator
        self.app = app
        self.browser = AllowedHostsOriginValidator(app)

    async def __call__(self, scope, receive, send):
        if not any(name == b"origin" for name, _ in scope.get("headers") or []):
            return await self.app(scope, receive, send)
        return await self.browser(scope, receive, send)
