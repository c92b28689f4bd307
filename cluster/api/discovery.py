"""Discovery documents, built from the cluster's resource registry (sim/registry), as its
kube-apiserver describes it (`Served`).

Shapes follow k8s.io/apimachinery/pkg/apis/meta/v1 (APIVersions, APIGroupList, APIGroup,
APIResourceList).  The aggregated discovery format (apidiscovery.k8s.io/v2) is not served:
clients that ask for it with an Accept list that ends in application/json get this legacy
format, see it in the Content-Type, and fall back as client-go does.
"""
from __future__ import annotations

from collections import OrderedDict

from sim.api.reviews import REVIEWS
from sim.registry import BUILTIN, Resource

from cluster.api import reviewproto  # noqa: F401  (the reviews' protobuf descriptors)

# What /version reports.  kubectl's version dispatcher picks the matching client by minor, so
# this names the Kubernetes release whose behaviour the engine mirrors.
KUBERNETES_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T00:00:00Z",
    "goVersion": "go1.23.8",
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
}
_SUBRESOURCE_KIND = {"binding": ("Binding", None, None), "scale": ("Scale", "autoscaling", "v1"),
                     "eviction": ("Eviction", "policy", "v1")}


class Served:
    """The kinds one cluster serves - its kube-apiserver's registry, built-in and custom - then
    the create-only reviews (sim.api.reviews)."""

    def __init__(self, resources: list[Resource], revision: int = 0):
        self.resources = [*resources, *REVIEWS.values()]
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
