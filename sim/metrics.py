"""Prometheus metrics of the control plane, under upstream's names.

kube-apiserver counts what it serves (`RequestMetrics.observe`, one dict update per request,
in virtual seconds from the request's arrival to its reply), as
k8s.io/apiserver/pkg/endpoints/metrics/metrics.go does; `render` writes the text exposition
format (version 0.0.4) for the whole cluster: every kube-apiserver's series carry an
`apiserver` label (its host), every etcd member's a `member` label, since one endpoint shows
the cluster (a real one is scraped per process, the scraper adding `instance`).  The etcd
gauges are read from the members' state when rendered (etcd's server/etcdserver/metrics.go
and server/storage/mvcc/metrics.go).
"""
from __future__ import annotations

from bisect import bisect_left
from typing import Any


# apiserver_request_duration_seconds' buckets (metrics.go, requestLatencies).
REQUEST_DURATION_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3,
                            4, 5, 6, 8, 10, 15, 20, 30, 45, 60)
_NB = len(REQUEST_DURATION_BUCKETS)

# Label names, in upstream's order (requestCounter / requestLatencies).
REQUEST_LABELS = ("verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component")

# metrics.go's cleanVerb: the HTTP verb, LIST for a collection GET, APPLY for server-side apply.
_VERBS = {"get": "GET", "list": "LIST", "watch": "WATCH", "create": "POST", "update": "PUT",
          "patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETECOLLECTION"}


def request_labels(req: dict) -> tuple[str, ...]:
    """The (verb, dry_run, group, version, resource, subresource, scope, component) of a request."""
    verb = req.get("verb") or ""
    clean = _VERBS.get(verb, verb.upper())
    if verb == "patch" and req.get("patch_type") == "application/apply-patch+yaml":
        clean = "APPLY"
    query = req.get("query") or {}
    dry_run = "All" if query.get("dryRun") else ""
    # CleanScope: a named object (or a create) is "resource", else the namespace, else cluster.
    if req.get("name") or verb == "create":
        scope = "resource"
    elif req.get("namespace"):
        scope = "namespace"
    else:
        scope = "cluster"
    return (clean, dry_run, req.get("group") or "", req.get("version") or "", req.get("resource") or "",
            req.get("subresource") or "", scope, "apiserver")


class RequestMetrics:
    """One kube-apiserver's apiserver_request_total and apiserver_request_duration_seconds, and
    its etcd client's etcd_requests_total, etcd_request_errors_total and
    etcd_request_duration_seconds (k8s.io/apiserver/pkg/storage/etcd3/metrics/metrics.go)."""

    __slots__ = ("series", "etcd")

    def __init__(self) -> None:
        # labels -> {code: count}, and per labels: [bucket counts (not cumulative)..., +Inf, sum]
        self.series: dict[tuple[str, ...], tuple[dict[int, int], list[float]]] = {}
        # (operation, group, resource) -> [bucket counts..., +Inf, sum, errors]
        self.etcd: dict[tuple[str, str, str], list[float]] = {}

    def observe_etcd(self, labels: tuple[str, str, str], seconds: float, error: bool) -> None:
        hist = self.etcd.get(labels)
        if hist is None:
            hist = self.etcd[labels] = [0] * (_NB + 1) + [0.0, 0]
        hist[bisect_left(REQUEST_DURATION_BUCKETS, seconds)] += 1
        hist[-2] += seconds
        if error:
            hist[-1] += 1

    def observe(self, labels: tuple[str, ...], code: int, seconds: float) -> None:
        entry = self.series.get(labels)
        if entry is None:
            entry = self.series[labels] = ({}, [0] * (_NB + 1) + [0.0])
        codes, hist = entry
        codes[code] = codes.get(code, 0) + 1
        hist[bisect_left(REQUEST_DURATION_BUCKETS, seconds)] += 1  # le is inclusive
        hist[-1] += seconds


# -- the text format ------------------------------------------------------------------------

def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs) + "}"


def _num(x: float) -> str:
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return repr(float(x))


def _le(b: float) -> str:
    return repr(float(b))


def _histogram(out: list[str], name: str, base: list, hist: list, total: float) -> None:
    """One histogram series: cumulative buckets (REQUEST_DURATION_BUCKETS, then +Inf), _sum
    (`total`) and _count; `hist` holds the per-bucket counts, the +Inf overflow at _NB."""
    cumulative = 0
    for b, n in zip(REQUEST_DURATION_BUCKETS, hist):
        cumulative += n
        out.append(f"{name}_bucket{_labels(base + [('le', _le(b))])} {cumulative}")
    cumulative += hist[_NB]
    out.append(f"{name}_bucket{_labels(base + [('le', '+Inf')])} {cumulative}")
    out.append(f"{name}_sum{_labels(base)} {_num(total)}")
    out.append(f"{name}_count{_labels(base)} {cumulative}")


def _header(out: list[str], name: str, kind: str, help_text: str) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")


def render(cluster: Any) -> str:
    """The exposition text for a sim.cluster.Cluster."""
    out: list[str] = []
    apiservers = [(a.host, a) for a in cluster.apiservers]

    _header(out, "apiserver_request_total", "counter",
            "[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, "
            "version, resource, scope, component, and HTTP response code.")
    for host, api in apiservers:
        for labels, (codes, _hist) in sorted(api.metrics.series.items()):
            base = [("apiserver", host), *zip(REQUEST_LABELS, labels)]
            for code, n in sorted(codes.items()):
                out.append(f"apiserver_request_total{_labels(base + [('code', str(code))])} {n}")

    name = "apiserver_request_duration_seconds"
    _header(out, name, "histogram",
            "[STABLE] Response latency distribution in seconds for each verb, dry run value, group, "
            "version, resource, subresource, scope and component.")
    for host, api in apiservers:
        for labels, (_codes, hist) in sorted(api.metrics.series.items()):
            _histogram(out, name, [("apiserver", host), *zip(REQUEST_LABELS, labels)], hist, hist[-1])

    etcd_labels = ("operation", "group", "resource")
    _header(out, "etcd_requests_total", "counter", "[ALPHA] Etcd request counts for each operation and object type.")
    for host, api in apiservers:
        for labels, hist in sorted(api.metrics.etcd.items()):
            base = [("apiserver", host), *zip(etcd_labels, labels)]
            out.append(f"etcd_requests_total{_labels(base)} {sum(hist[:_NB + 1])}")
    _header(out, "etcd_request_errors_total", "counter",
            "[ALPHA] Etcd failed request counts for each operation and object type.")
    for host, api in apiservers:
        for labels, hist in sorted(api.metrics.etcd.items()):
            base = [("apiserver", host), *zip(etcd_labels, labels)]
            out.append(f"etcd_request_errors_total{_labels(base)} {hist[-1]}")
    name = "etcd_request_duration_seconds"
    _header(out, name, "histogram", "[ALPHA] Etcd request latency in seconds for each operation and object type.")
    for host, api in apiservers:
        for labels, hist in sorted(api.metrics.etcd.items()):
            _histogram(out, name, [("apiserver", host), *zip(etcd_labels, labels)], hist, hist[-2])

    _header(out, "apiserver_storage_objects", "gauge",
            "[STABLE] Number of stored objects at the time of last check split by kind. In case of a "
            "fetching error, the value will be -1.")
    for host, api in apiservers:
        if not api.running:
            continue
        for res in sorted(api.registry.stored(), key=lambda r: (r.group, r.name)):
            out.append(f"apiserver_storage_objects{_labels([('apiserver', host), ('resource', res.gr)])} "
                       f"{len(api.cache.objects(res.gr))}")

    members = cluster.etcd_members
    statuses = [(m, m.status()) for m in members]

    def gauge(metric: str, kind: str, help_text: str, value) -> None:
        _header(out, metric, kind, help_text)
        for m, s in statuses:
            v = value(m, s)
            if v is not None:
                out.append(f"{metric}{_labels([('member', m.name)])} {_num(v)}")

    gauge("etcd_server_has_leader", "gauge", "Whether or not a leader exists. 1 is existence, 0 is not.",
          lambda m, s: None if s["role"] == "stopped" else int(s["leader"] is not None))
    gauge("etcd_server_is_leader", "gauge", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
          lambda m, s: None if s["role"] == "stopped" else int(m.is_leader))
    gauge("etcd_server_is_learner", "gauge", "Whether or not this member is a learner. 1 if is, 0 otherwise.",
          lambda m, s: None if s["role"] == "stopped" else int(bool(m.raft.is_learner)))
    gauge("etcd_server_leader_changes_seen_total", "counter", "The number of leader changes seen.",
          lambda m, s: None if s["role"] == "stopped" else m.leader_changes_seen)
    gauge("etcd_server_proposals_committed_total", "gauge", "The total number of consensus proposals committed.",
          lambda m, s: None if s["role"] == "stopped" else s["commitIndex"])
    gauge("etcd_mvcc_db_total_size_in_bytes", "gauge",
          "Total size of the underlying database physically allocated in bytes.",
          lambda m, s: None if s["role"] == "stopped" else s["dbSize"])
    gauge("etcd_debugging_mvcc_keys_total", "gauge", "Total number of keys.",
          lambda m, s: None if s["role"] == "stopped" else len(m.store.current))
    return "\n".join(out) + "\n"
