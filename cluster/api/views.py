"""Views of the Kubernetes-compatible API.  Thin: parse (requestinfo), call the engine through
cluster.services, render (status/tables/watch)."""
from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from cluster import services
from cluster.api import credentials, discovery, openapi, podlogs, tables
from cluster.api.requestinfo import MAX_REQUEST_BODY_BYTES, RequestError, UnknownResource, parse, too_large
from cluster.api.status import encoded_json, kube_json, not_found_path, status_response
from cluster.api.watch import watch_events, watch_timeout


# Prometheus' text exposition format, as kube-apiserver's /metrics answers.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _query(request) -> dict[str, str]:
    # Kubernetes' query parameters are single-valued; like Go's url.Values.Get, take the first.
    return {k: values[0] for k, values in request.GET.lists() if values}


def _body(request) -> bytes:
    """The body, read no further than the limit (a chunked body has no Content-Length for
    the guard to refuse it by)."""
    raw = request.read(MAX_REQUEST_BODY_BYTES + 1)
    if len(raw) > MAX_REQUEST_BODY_BYTES:
        raise too_large()
    return raw


def _error(e: services.SimulationError):
    if isinstance(e, services.Refused):
        return kube_json(e.body, e.status)  # kube-apiserver's own 401/403 Status
    return status_response(e.status, e.reason, e.message)


@csrf_exempt
async def kube_api(request, cluster: str, path: str, via: str = ""):
    """Everything under /clusters/<cluster>/ that the Kubernetes API serves.  `via` marks the
    requests of the page's kubectl console (served under /clusters/<cluster>/console/kube/):
    they travel from the console's own address in the diagram."""
    parts = path.split("/")
    if parts and parts[-1] == "":  # a trailing slash, as in /api/v1/
        parts = parts[:-1]
    creds = credentials.of_request(request)
    url_path = "/" + path
    try:
        if parts[:1] in (["api"], ["apis"]) and len(parts) <= (2 if parts[0] == "api" else 3):
            return await _discovery(cluster, parts, request.headers.get("Accept", ""), creds, url_path)
        if parts == ["version"]:
            # 404 for an unknown cluster; 401/403 for who may not (system:public-info-viewer)
            await services.authorize_path(cluster, creds, url_path)
            return kube_json(discovery.KUBERNETES_VERSION)
        if parts[0] in ("healthz", "livez", "readyz") and len(parts) == 1:
            await services.authorize_path(cluster, creds, url_path)
            return HttpResponse("ok", content_type="text/plain")
        if parts == ["metrics"]:
            await services.authorize_path(cluster, creds, url_path)
            return HttpResponse(await services.metrics(cluster), content_type=METRICS_CONTENT_TYPE)
        if parts[:2] == ["openapi", "v3"]:
            served = (await _served(cluster, creds, url_path)).resources  # 404 for an unknown cluster
            if len(parts) == 2:
                # The root lists per-group-version documents by server-relative URL, which
                # must keep this cluster's prefix (request.path ends in /openapi/v3).
                return kube_json(openapi.root_document(served, request.path[: -len("/openapi/v3")].rstrip("/")))
            doc = openapi.document_for_path(served, parts[2:])
            return kube_json(doc) if doc is not None else kube_json(not_found_path(), 404)
        if parts == ["openapi", "v2"]:
            served = (await _served(cluster, creds, url_path)).resources
            return HttpResponse(openapi.v2_document_protobuf(served), content_type=openapi.OPENAPI_V2_PROTOBUF)
        if parts[:1] not in (["api"], ["apis"]):
            # Anything else: a clean 404 Status, which kubectl treats as "not served".
            return kube_json(not_found_path(), 404)
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 7 and parts[4] == "pods" \
                and parts[6] in ("exec", "attach", "portforward"):
            return _stream_refused(request, parts[6])  # these come as WebSockets (config/asgi.py)
        query, content_type, raw = _query(request), request.content_type or "", _body(request)
        try:
            rr = parse(request.method, parts, query, content_type, raw)
        except UnknownResource:
            # Not a built-in kind: perhaps one the cluster's CRDs serve.
            rr = parse(request.method, parts, query, content_type, raw, await _served(cluster))
        rr.user_agent = request.headers.get("User-Agent", "")
        rr.credentials = creds
        table = tables.table_request(request.headers.get("Accept", ""), rr.query)
    except RequestError as e:
        return status_response(e.code, e.reason, e.message)
    except services.SimulationError as e:
        return _error(e)

    try:
        if rr.verb == "watch":
            await services.get_clock(cluster)  # unknown cluster: a 404 now, not an ERROR event
            return StreamingHttpResponse(
                watch_events(cluster, rr, watch_timeout(rr.query), table=table),
                content_type="application/json",
            )
        if podlogs.wants_follow(rr):
            first = await podlogs.first_read(cluster, rr)
            if first.get("code") != 200:
                return kube_json(first["body"], first["code"])
            return StreamingHttpResponse(podlogs.follow(cluster, rr, first), content_type="text/plain")
        api_request = rr.as_api_request()
        if via:
            api_request["via"] = via
        if table is not None:
            api_request["as"] = table.to_json()  # the apiserver answers a get or list with a Table
        resp = await services.cluster_api_encoded(cluster, api_request)
    except services.SimulationError as e:
        return _error(e)

    if "text" in resp:  # pods/log: the container's log as plain text
        response = HttpResponse(resp["text"], status=resp["code"], content_type="text/plain")
    else:
        response = encoded_json(resp["json"], resp["code"])
    if resp.get("warnings"):
        response["Warning"] = warning_header(resp["warnings"])
    return response


def _stream_refused(request, subresource: str):
    """exec / attach / port-forward over plain HTTP.  kube-apiserver answers a request without an
    upgrade "400 Upgrade request required"; Pilothouse streams over WebSocket only, so a SPDY
    upgrade (kubectl 1.29 and older) is told which kubectl speaks WebSocket."""
    upgrade = request.headers.get("Upgrade", "")
    if upgrade.lower().startswith("spdy"):
        # exec speaks v5.channel.k8s.io from kubectl 1.30; port-forward tunnels SPDY in a
        # WebSocket from 1.31 (KEP-4006: PortForwardWebsockets, beta and on by default).
        protocol, minor = ("SPDY/3.1+portforward.k8s.io", 31) if subresource == "portforward" else \
            ("v5.channel.k8s.io", 30)
        return status_response(400, "BadRequest", f"pods/{subresource} is served over WebSocket "
                               f"({protocol}) only, not SPDY: use kubectl 1.{minor} or newer (as `make venv` "
                               "installs in .venv/bin/kubectl)")
    return status_response(400, "BadRequest", "Upgrade request required")


def warning_header(warnings: list[str]) -> str:
    """RFC 7234 Warning values with code 299, as kube-apiserver sends them (kubectl prints
    each as `Warning: <text>`)."""
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return ", ".join(f"299 - {quoted(w)}" for w in warnings)


async def _served(cluster: str, creds: dict | None = None, path: str = "") -> discovery.Served:
    """The kinds the cluster serves now (one request to its kube-apiserver's registry), asked
    as a GET of `path` by whoever brings `creds` (None: no one, for routing)."""
    return discovery.Served.from_discovery(await services.served_kinds(cluster, creds, path))


async def _discovery(cluster: str, parts: list[str], accept: str = "", creds: dict | None = None, path: str = ""):
    served = await _served(cluster, creds, path)  # 404 for an unknown cluster
    if parts in (["api"], ["apis"]) and discovery.wants_aggregated(accept):
        resp = kube_json(discovery.aggregated_discovery(served, core=parts == ["api"]))
        resp["Content-Type"] = discovery.AGGREGATED_V2_CONTENT_TYPE
        resp["Vary"] = "Accept"
        return resp
    if parts == ["api"]:
        doc = discovery.api_versions(served)
    elif parts == ["apis"]:
        doc = discovery.api_group_list(served)
    elif parts[0] == "api":
        doc = discovery.api_resource_list(served, "", parts[1])
    elif len(parts) == 2:
        doc = discovery.api_group(served, parts[1])
    else:
        doc = discovery.api_resource_list(served, parts[1], parts[2])
    if doc is None:
        return kube_json(not_found_path(), 404)
    return kube_json(doc)
