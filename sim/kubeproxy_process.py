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

from typing import TYPE_CHECKING

import yaml

from sim.kubeproxy import MODES
from sim.runtime.controlplane import _klog
from sim.runtime.process import Program, ProcessContext, ProgramGen, Sleep, Write
from sim.runtime.programs import FOREVER, register

if TYPE_CHECKING:
    from sim.cluster import Cluster

BINARY = "kube-proxy"
MAX_CONFIG_CHARS = 256 * 1024   # a ConfigMap's data is at most 1 MiB; kube-proxy's own is 2 KiB


def _flag(argv: list[str], name: str) -> str | None:
    """The value of --name=value (or --name value) in argv, the last one given, or None."""
    found = None
    for i, arg in enumerate(argv):
        if arg.startswith(f"--{name}="):
            found = arg.split("=", 1)[1]
        elif arg == f"--{name}" and i + 1 < len(argv):
            found = argv[i + 1]
    return found


def read_config(argv: list[str], read) -> tuple[dict | None, str | None]:
    """The KubeProxyConfiguration --config names, read with `read(path) -> text | None`:
    ({"mode", "clusterCIDR", "hostnameOverride"}, None), or (None, the error kube-proxy exits with)."""
    path = _flag(argv, "config")
    mode_flag = _flag(argv, "proxy-mode")
    config: dict = {}
    if path:
        text = read(path)
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
    mode = mode_flag if mode_flag is not None else config.get("mode") or ""
    if not isinstance(mode, str) or (mode and mode not in MODES):
        return None, (f'invalid configuration: KubeProxyConfiguration.ProxyMode: Invalid value: "{mode}": must be '
                      f'{", ".join(MODES)} or blank (blank means the best-available proxy [currently iptables])')
    cidr = config.get("clusterCIDR")
    host = _flag(argv, "hostname-override") or config.get("hostnameOverride") or ""
    return {"mode": mode, "clusterCIDR": cidr if isinstance(cidr, str) else "",
            "hostnameOverride": host if isinstance(host, str) else ""}, None


def _run(ctx: ProcessContext) -> ProgramGen:
    config, error = read_config(list(ctx.argv), ctx.fs.read if ctx.fs is not None else lambda p: None)
    if error is not None:
        line = _klog(ctx, "run.go:72", f'"command failed" err="{error}"')
        yield Write("E" + line.text[1:], "stderr")   # klog's error severity
        return 1
    mode = config["mode"] or "iptables"
    yield _klog(ctx, "server_linux.go:66", f'"Using {mode} proxy"')
    yield _klog(ctx, "server.go:677", f'"Successfully retrieved node IP(s)" hostname="{config["hostnameOverride"]}"')
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
    config, error = read_config(list(c.ctx.argv), c.ctx.fs.read if c.ctx.fs is not None else lambda p: None)
    proxy = cluster.kube_proxy(node)
    if error is not None or proxy.running:
        return None
    proxy.configure(config["mode"], config["clusterCIDR"] or None)
    return proxy
