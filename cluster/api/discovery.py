"""Discovery documents, built from the cluster's resource registry (sim/registry), as its
kube-apiserver describes it (`Served`).

Shapes follow k8s.io/apimachinery/pkg/apis/meta/v1 (APIVersions, APIGroupList, APIGroup,
APIResourceList), and for /api and /apis also k8s.io/api/apidiscovery/v2 (aggregated discovery,
KEP-3352, GA in 1.30): a client whose Accept list names
`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList` before plain JSON (kubectl
since 1.30) gets every group, version and resource in one APIGroupDiscoveryList, and asks for no
per-group-version document.  v2beta1 is not served, as by kube-apiserver since 1.33
(AggregatedDiscoveryRemoveBetaType): kubectl 1.27-1.29, which ask for v2beta1 only, get the legacy
documents, see application/json in the Content-Type, and fall back as client-go does.
"""
from __future__ import annotations

from collections import OrderedDict

from sim.api.metricsapi import METRICS
from sim.api.reviews import REVIEWS
from sim.registry import BUILTIN, Resource

from cluster.api import reviewproto  # noqa: F401  (the reviews' protobuf descriptors)

# What /version reports: kube-apiserver v1.36.4 (its release's gitCommit, buildDate and Go, as
# the official v1.36.4 binaries report them), with the compatibility-version fields every
# apiserver since 1.33 adds (KEP-4330: emulation = binary version, min compatibility one minor
# below).  kubectl warns only in `kubectl version`, and only when client and server minors differ
# by more than one ("version difference between client (1.37) and server (1.32) exceeds the
# supported minor version skew of +/-1"), so 1.36 is the oldest release that the newest kubectl
# (1.37) and 1.36 accept quietly; the Cloud SDK's kubectl dispatcher, finding no kubectl.1.36
# beside it, runs its own built-in 1.32.  The engine's scheduler, controllers and validation
# cite the release whose code they follow (mostly v1.32) in their own docstrings.
KUBERNETES_VERSION = {
    "major": "1",
    "minor": "36",
    "emulationMajor": "1",
    "emulationMinor": "36",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "35",
    "gitVersion": "v1.36.4",
    "gitCommit": "bb826b1d48562f110659e64e8ec444327433db95",
    "gitTreeState": "clean",
    "buildDate": "2026-08-20T03:09:25Z",
    "goVersion": "go1.26.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# The address clients should use, as the apiserver announces it; kubectl ignores it over HTTP.
_SERVER_ADDRESS = [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]

_SUBRESOURCE_VERBS = {
    "status": ("get", "patch", "update"),
    "scale": ("get", "patch", "update"),
    "binding": ("create",),
    "eviction": ("create",),
    "log": ("get",),
    "exec": ("create", "get"),
    "attach": ("create", "get"),
    "portforward": ("create", "get"),
    "ephemeralcontainers": ("get", "patch", "update"),
    "approval": ("get", "patch", "update"),
    "token": ("create",),
}
_SUBRESOURCE_KIND = {"binding": ("Binding", None, None), "scale": ("Scale", "autoscaling", "v1"),
                     "eviction": ("Eviction", "policy", "v1"), "exec": ("PodExecOptions", None, None),
                     "attach": ("PodAttachOptions", None, None),
                     "portforward": ("PodPortForwardOptions", None, None),
                     "token": ("TokenRequest", "authentication.k8s.io", "v1")}


class Served:
    """The kinds one cluster serves - its kube-apiserver's registry, built-in and custom - then
    the create-only reviews (sim.api.reviews) and the aggregated metrics.k8s.io (sim.api.metricsapi)."""

    def __init__(self, resources: list[Resource], revision: int = 0):
        self.resources = [*resources, *REVIEWS.values(), *METRICS.values()]
        self.revision = revision

    @classmethod
    def builtin(cls) -> "Served":
        """The built-in kinds only: what every cluster serves before any CRD."""
        return _BUILTIN_SERVED

    @classmethod
    def from_discovery(cls, body: dict) -> "Served":
        """From the API server's {"verb": "discovery"} answer: built-in kinds are the registry's
        own objects (with their printers); custom ones are rebuilt from their description."""
        out = []
        for d in body.get("resources", []):
            res = BUILTIN.lookup(d["group"], d["name"]) if d.get("source") == "builtin" else None
            out.append(res if res is not None else Resource.from_description(d))
        return cls(out, body.get("revision", 0))

    def group_versions(self) -> "OrderedDict[str, list[str]]":
        """{group: [versions]} in registry order, the preferred version first; the core group is ""."""
        out: OrderedDict[str, list[str]] = OrderedDict()
        for r in self.resources:
            versions = out.setdefault(r.group, [])
            for v in r.served_versions:
                if v not in versions:
                    versions.append(v)
        return out

    def resources_for(self, group: str, version: str) -> list[Resource]:
        return [r for r in self.resources if r.group == group and version in r.served_versions]

    def lookup(self, group: str, version: str, resource: str) -> Resource | None:
        for r in self.resources_for(group, version):
            if r.name == resource:
                return r
        return None


_BUILTIN_SERVED = Served(BUILTIN.served())


def api_versions(served: Served) -> dict:
    """GET /api"""
    return {
        "kind": "APIVersions",
        "versions": served.group_versions().get("", []),
        "serverAddressByClientCIDRs": _SERVER_ADDRESS,
    }


def _group(name: str, versions: list[str]) -> dict:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(served: Served) -> dict:
    """GET /apis"""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, vs) for g, vs in served.group_versions().items() if g],
    }


def api_group(served: Served, name: str) -> dict | None:
    """GET /apis/<group>"""
    versions = served.group_versions().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def api_resource_list(served: Served, group: str, version: str) -> dict | None:
    """GET /api/v1 or /apis/<group>/<version>"""
    found = served.resources_for(group, version)
    if not found:
        return None
    resources = []
    for r in found:
        entry = {
            "name": r.name,
            "singularName": r.singular or r.kind.lower(),
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": sorted(r.verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        resources.append(entry)
        for sub in r.subresources:
            kind, sub_group, sub_version = _SUBRESOURCE_KIND.get(sub, (r.kind, None, None))
            sub_entry = {
                "name": f"{r.name}/{sub}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": kind,
                "verbs": list(_SUBRESOURCE_VERBS.get(sub, ("get",))),
            }
            if sub_group is not None:
                sub_entry["group"], sub_entry["version"] = sub_group, sub_version
            resources.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


# -- aggregated discovery (apidiscovery.k8s.io/v2) ---------------------------------------------
AGGREGATED_V2_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """Whether the first media range of `accept` that this server serves is aggregated v2 JSON
    (rather than plain JSON, or anything at all); unserved ranges (v2beta1, protobuf) are passed
    over, as the apiserver's negotiation does."""
    for media in accept.split(","):
        mtype, *raw = (part.strip() for part in media.split(";"))
        params = dict(p.split("=", 1) for p in raw if "=" in p)
        params.pop("q", None)
        params.pop("charset", None)
        if mtype.lower() not in ("application/json", "application/*", "*/*"):
            continue
        if not params:
            return False
        if mtype.lower() == "application/json" and params == {"g": "apidiscovery.k8s.io", "v": "v2",
                                                             "as": "APIGroupDiscoveryList"}:
            return True
    return False


def _gvk(group: str, version: str, kind: str) -> dict:
    return {"group": group, "version": version, "kind": kind}


def _resource_discovery(r: Resource, version: str) -> dict:
    """An APIResourceDiscovery: the resource (at `version`), its kind, scope, verbs and
    subresources."""
    entry = {
        "resource": r.name,
        "responseKind": _gvk(r.group, version, r.kind),
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular or r.kind.lower(),
        "verbs": sorted(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    subresources = []
    for sub in r.subresources:
        kind, sub_group, sub_version = _SUBRESOURCE_KIND.get(sub, (r.kind, None, None))
        subresources.append({
            "subresource": sub,
            "responseKind": _gvk(r.group if sub_group is None else sub_group,
                                 version if sub_version is None else sub_version, kind),
            "verbs": list(_SUBRESOURCE_VERBS.get(sub, ("get",))),
        })
    if subresources:
        entry["subresources"] = subresources
    return entry


def _group_discovery(served: Served, name: str, versions: list[str]) -> dict:
    """An APIGroupDiscovery (the core group's name is empty), its versions in preference order."""
    metadata = {"name": name, "creationTimestamp": None} if name else {"creationTimestamp": None}
    return {
        "metadata": metadata,
        "versions": [{"version": v, "resources": [_resource_discovery(r, v) for r in served.resources_for(name, v)],
                      "freshness": "Current"} for v in versions],
    }


def aggregated_discovery(served: Served, core: bool) -> dict:
    """GET /api (core=True) or /apis as an APIGroupDiscoveryList."""
    groups = served.group_versions()
    items = ([_group_discovery(served, "", groups.get("", []))] if core
             else [_group_discovery(served, g, vs) for g, vs in groups.items() if g])
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": items}
