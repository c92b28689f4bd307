"""The kube-proxy binary as kubeadm's DaemonSet runs it (sim/kubeadm_proxy.py): one pod per node,
on the host's network, `/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf
--hostname-override=$(NODE_NAME)`, the kube-proxy ConfigMap mounted at /var/lib/kube-proxy.

As the CNI agents and ingress-nginx's controller are, the container's process *is* a simulated
component - the node's KubeProxy (sim/kubeproxy.py): the runtime asks `pod_process` for it when
the container starts (ContainerRuntime.pod_process), so it starts with the container and stops
when the container does (its pod deleted, the node powered off).  What it runs reads its
--config file as cmd/kube-proxy's Options.loadConfigFromFile and Validate do: a missing file or
an invalid `mode` (pkg/proxy/apis/config/validation validateProxyModeLinux) ends the process
with status 1 before it programs anything, as upstream exits, and the kubelet restarts it with
back-off.  Its `mode` and `clusterCIDR` configure the node's kube-proxy before it starts.

The node's rules are the kernel's, not the process's (sim/kubeproxy.py): a kube-proxy pod deleted
leaves them in place - packets keep following the last programmed rules - until the DaemonSet's
replacement starts and resyncs; without one (the DaemonSet deleted), nothing programs new
Services on that node.
"""
from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from sim import yamlio as yaml

from sim.kubeproxy import MODES
from sim.runtime.controlplane import _flag, _klog
from sim.runtime.process import Program, ProcessContext, ProgramGen, Sleep, Write
from sim.runtime.programs import FOREVER, register

if TYPE_CHECKING:
    from sim.cluster import Cluster

BINARY = "kube-proxy"
MAX_CONFIG_CHARS = 256 * 1024   # a ConfigMap's data is at most 1 MiB; kube-proxy's own is 2 KiB


def read_config(ctx: ProcessContext) -> tuple[dict | None, str | None]:
    """The KubeProxyConfiguration the process's --config names, in its container's files:
    ({"mode", "clusterCIDR"}, None), or (None, the error kube-proxy exits with)."""
    path = _flag(ctx, "config")
    mode_flag = _flag(ctx, "proxy-mode")
    config: dict = {}
    if path:
        text = ctx.fs.read(path) if ctx.fs is not None else None
        if text is None:
            return None, f'failed to read config file "{path}", error: open {path}: no such file or directory'
        if len(text) > MAX_CONFIG_CHARS:
            return None, f'failed to read config file "{path}", error: file too large'
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as e:
            return None, f'failed to decode config file "{path}": {str(e).splitlines()[0]}'
        if not isinstance(loaded, dict) or loaded.get("kind") != "KubeProxyConfiguration":
            return None, f'failed to decode config file "{path}": not a KubeProxyConfiguration'
        config = loaded
    # Flags override the file (cmd/kube-proxy/app/options.go: the flags' values are applied last).
    mode = mode_flag or config.get("mode") or ""
    if not isinstance(mode, str) or (mode and mode not in MODES):
        return None, (f'invalid configuration: KubeProxyConfiguration.ProxyMode: Invalid value: "{mode}": must be '
                      f'{", ".join(MODES)} or blank (blank means the best-available proxy [currently iptables])')
    cidr = config.get("clusterCIDR") or ""
    problem = _cluster_cidr_problem(cidr)
    if problem:
        return None, f'invalid configuration: KubeProxyConfiguration.ClusterCIDR: Invalid value: "{cidr}": {problem}'
    return {"mode": mode, "clusterCIDR": cidr}, None


def _cluster_cidr_problem(cidr) -> str | None:
    """pkg/proxy/apis/config/validation Validate's ClusterCIDR check: one CIDR, or two of
    different families."""
    if cidr == "":
        return None
    cidrs = cidr.split(",") if isinstance(cidr, str) else None
    if cidrs is None or len(cidrs) > 2:
        return "only one CIDR allowed or a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)"
    try:
        versions = {ipaddress.ip_network(c.strip(), strict=False).version for c in cidrs}
    except ValueError:
        versions = set()
    if len(cidrs) == 2 and len(versions) != 2:
        return "must be a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)"
    if len(cidrs) == 1 and not versions:
        return "must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)"
    return None


def _run(ctx: ProcessContext) -> ProgramGen:
    config, error = read_config(ctx)
    if error is not None:
        line = _klog(ctx, "run.go:72", f'"command failed" err="{error}"')
        yield Write("E" + line.text[1:], "stderr")   # klog's error severity
        return 1
    mode = config["mode"] or "iptables"
    yield _klog(ctx, "server_linux.go:66", f'"Using {mode} proxy"')
    yield _klog(ctx, "server_linux.go:170", f'"Using {mode} Proxier"')
    yield _klog(ctx, "config.go:199", '"Starting service config controller"')
    yield _klog(ctx, "config.go:105", '"Starting endpoint slice config controller"')
    while True:
        yield Sleep(FOREVER)


# kube-proxy exits on SIGTERM (its informers' stop channel closes).
register(Program(BINARY, _run, on_sigterm=0))


def pod_process(cluster: "Cluster", node: str, c):
    """The node's KubeProxy, configured from the container's --config, when a starting container
    runs kube-proxy; None otherwise (not kube-proxy, a configuration it exits on, or the node's
    kube-proxy already running in another container: the later one programs nothing)."""
    if c.program is None or c.program.name != BINARY or c.ctx is None:
        return None
    config, error = read_config(c.ctx)
    proxy = cluster.kube_proxy(node)
    if error is not None or proxy.running:
        return None
    proxy.configure(config["mode"], config["clusterCIDR"] or None)
    return proxy
