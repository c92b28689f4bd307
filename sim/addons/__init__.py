"""Add-ons a cluster can be made with (ClusterConfig `addons`), each the manifest its project
publishes, applied as `kubectl apply -f` would: `ingress-nginx` (ingress-nginx.yaml, the
controller's bare-metal install; sim/ingressnginx.py is the program its image runs).  The same
files are under docs/examples/ for `kubectl apply -f`."""
from __future__ import annotations

from pathlib import Path

from sim import yamlio as yaml

ADDONS = ("ingress-nginx",)
_DIR = Path(__file__).parent


def manifest(name: str) -> list[tuple[str, str, dict]]:
    """(group, resource, object) of an add-on's manifest, in the file's order."""
    if name not in ADDONS:
        raise ValueError(f"unknown add-on {name!r}; known: {', '.join(ADDONS)}")
    from sim.registry import BUILTIN
    out = []
    for doc in yaml.safe_load_all((_DIR / f"{name}.yaml").read_text()):
        if not doc:
            continue
        group = doc["apiVersion"].rpartition("/")[0]
        res = next(r for r in BUILTIN.served() if r.group == group and r.kind == doc["kind"])
        out.append((group, res.name, doc))
    return out
