"""CNI plugins, one module each (sim/cni/<plugin>.py), chosen per cluster by ClusterConfig
`cni`; see docs/networking/cni.md."""
from __future__ import annotations

from sim.cni.bridge import BridgePlugin
from sim.cni.calico import CalicoPlugin
from sim.cni.flannel import FlannelPlugin
from sim.cni.plugin import CNIError, CNIPlugin  # noqa: F401

PLUGINS: dict[str, type[CNIPlugin]] = {"flannel": FlannelPlugin, "calico": CalicoPlugin, "bridge": BridgePlugin}
DEFAULT = "flannel"
_INSTANCES = {name: cls() for name, cls in PLUGINS.items()}


def plugin_named(name: str | None) -> CNIPlugin:
    return _INSTANCES[name or DEFAULT]


def plugin_for(cluster) -> CNIPlugin:
    return plugin_named(getattr(cluster.config, "cni", None))
