"""kube-proxy: runs on every node and programs Service virtual IPs in iptables mode.

As cmd/kube-proxy and pkg/proxy do: informers on core/v1 Services and discovery.k8s.io/v1
EndpointSlices feed a ServiceChangeTracker and an EndpointsChangeTracker (pkg/proxy/servicechangetracker.go,
endpointschangetracker.go); a change asks the BoundedFrequencyRunner (pkg/util/async) for a sync,
which runs at most `burstSyncs` times back to back and then once per --iptables-min-sync-period
(1 s), and at least once per --iptables-sync-period (30 s).  A sync applies the pending changes
and writes the rules (sim/kubeproxy_iptables.py sync_rules: syncProxyRules): the first sync, and
one an hour outside large-cluster mode, is full; the others are partial - the top-level chains
in full, and only the changed Services' own chains.  `match` walks the rules for a packet.  Nothing is synced until both informers have listed
(proxier.isInitialized), as upstream waits for its config handlers' OnServiceSynced /
OnEndpointSlicesSynced.

Dual-stack (a node with addresses of both families): as cmd/kube-proxy does, one proxier per
family under a meta-proxier (pkg/proxy/metaproxier): each family's trackers keep only that
family's ClusterIP of every Service and the EndpointSlices of its addressType, and each writes
its own rules - iptables for IPv4, ip6tables for IPv6 (the text of `ip6tables-save`).  One sync
runs both, as the meta-proxier's Sync does; a packet is walked through its family's rules.

The rules live in the node's kernel, not in the process: a kube-proxy that stops leaves them in
place (traffic keeps flowing to endpoints that may be gone) until it starts again and resyncs.
One KubeProxy per node holds that kernel state; the process is the node's kube-proxy pod's
container (kubeadm's DaemonSet, sim/kubeproxy_process.py), which starts and stops it.
"""
from __future__ import annotations

from sim.client import ClientComponent
from sim.flowcontrol import KUBE_PROXY_BURST, KUBE_PROXY_QPS
from sim.ipfamily import IPV4, IPV6, family_of, of_family, split_cidrs
from sim.kubeproxy_healthcheck import HEALTHZ_PATH, PROXIER_HEALTHZ_PORT, ServiceHealthServer, proxier_healthz
from sim.kubeproxy_iptables import (FULL_SYNC_PERIOD, Endpoint, IptablesProxier, ServicePort,  # noqa: F401
                                    service_ports, slice_endpoints)
from sim.kubeproxy_ipvs import IpvsProxier
from sim.kubeproxy_nftables import NftablesProxier

DISCOVERY_GROUP = "discovery.k8s.io"
SYNC_PERIOD = 30.0      # KubeProxyIPTablesConfiguration.SyncPeriod default
BURST_SYNCS = 2         # pkg/proxy/iptables/proxier.go burstSyncs
CLUSTER_CIDR = "10.244.0.0/16"  # kubeadm's podSubnet, which kube-proxy's --cluster-cidr is
DEFAULT_MODE = "iptables"  # cmd/kube-proxy: an empty mode is iptables on Linux
PROXIERS = {"iptables": IptablesProxier, "ipvs": IpvsProxier, "nftables": NftablesProxier}
MODES = tuple(PROXIERS)


def new_proxier(mode: str, node: str, node_ips: list[str], cluster_cidr: str, service_cidrs: tuple = ()):
    """The proxier for KubeProxyConfiguration.mode (cmd/kube-proxy/app/server_linux.go createProxier)."""
    if mode == "iptables":
        return IptablesProxier(node, node_ips, cluster_cidr)
    return PROXIERS[mode](node, node_ips, cluster_cidr, service_cidrs)


class BoundedFrequencyRunner:
    """pkg/util/async/bounded_frequency_runner.go: `run()` asks for `fn` to run; it runs at once
    if the token bucket (qps 1/min_interval, `burst`) has a token, else when the next token is
    due; requests made meanwhile coalesce into that one run.  It also runs `max_interval` after
    the last run, asked or not."""

    def __init__(self, component, fn, min_interval: float, max_interval: float, burst: int):
        self.c, self.fn = component, fn
        self.min_interval, self.max_interval, self.burst = min_interval, max_interval, burst
        self.tokens = float(burst)
        self.stamp = component.now
        self.timer: int | None = None
        self.due: float | None = None

    def _refill(self) -> None:
        now = self.c.now
        if self.min_interval > 0:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) / self.min_interval)
        else:
            self.tokens = float(self.burst)
        self.stamp = now

    def _has_token(self) -> bool:
        # A token due "now" may still read 0.999...: a wait shorter than the clock can step
        # would come back at the same instant forever.
        return self.tokens >= 1 - 1e-6

    def _schedule(self, at: float) -> None:
        if self.timer is not None:
            self.c.cancel_timer(self.timer)
        self.due = at
        self.timer = self.c.call_later(max(0.0, at - self.c.now), self._try_run)

    def run(self) -> None:
        """A change: run as soon as allowed.  The run itself waits for the end of this instant
        (call_later 0), so the events of one watch message cost one sync."""
        self._refill()
        soonest = self.c.now if self._has_token() else self.c.now + (1 - self.tokens) * self.min_interval
        if self.due is None or soonest < self.due:
            self._schedule(soonest)

    def start(self) -> None:
        self._schedule(self.c.now + self.max_interval)

    def _try_run(self) -> None:
        self.timer = self.due = None
        self._refill()
        if not self._has_token():  # a periodic run finding the bucket empty: when a token is due
            self._schedule(self.c.now + (1 - self.tokens) * self.min_interval)
            return
        self.tokens = max(0.0, self.tokens - 1)
        self._schedule(self.c.now + self.max_interval)
        self.fn()


class ServiceChangeTracker:
    """pkg/proxy/servicechangetracker.go: the Services' ports as kube-proxy proxies them, and the
    changes not yet synced (previous and current, dropped when they end up equal)."""

    def __init__(self, family: str = IPV4):
        self.family = family
        self.ports: dict[tuple[str, str], list[ServicePort]] = {}  # the svcPortMap, by Service
        self.items: dict[tuple[str, str], tuple[list, list]] = {}
        self._port_list: list[ServicePort] | None = None

    def port_list(self) -> list[ServicePort]:
        """Every Service's ports in Service order.  The same list object until a Service's ports
        change (`apply` with changes), so a proxier can tell that no Service changed by identity;
        never to be mutated by the caller."""
        if self._port_list is None:
            self._port_list = [p for key in sorted(self.ports) for p in self.ports[key]]
        return self._port_list

    def update(self, previous: dict | None, current: dict | None) -> bool:
        obj = current or previous
        md = obj["metadata"]
        key = (md.get("namespace") or "", md["name"])
        prev = self.items[key][0] if key in self.items else self.ports.get(key, [])
        cur = service_ports(current, self.family) if current is not None else []
        if prev == cur:
            self.items.pop(key, None)
        else:
            self.items[key] = (prev, cur)
        return bool(self.items)

    def apply(self) -> set[tuple[str, str]]:
        """svcPortMap.Update: move the pending changes into the map; the Services that changed
        (UpdateServiceMapResult.UpdatedServices)."""
        changed = set(self.items)
        if changed:
            self._port_list = None
        for key, (_prev, cur) in self.items.items():
            if cur:
                self.ports[key] = cur
            else:
                self.ports.pop(key, None)
        self.items.clear()
        return changed


class EndpointsChangeTracker:
    """pkg/proxy/endpointschangetracker.go and endpointslicecache.go: every slice's endpoints,
    by the Service it belongs to, and which Services changed since the last sync."""

    def __init__(self, node_name: str, family: str = IPV4, memo: dict | None = None):
        self.node_name, self.family, self.memo = node_name, family, memo
        self.slices: dict[tuple[str, str], dict[str, dict[str, tuple[Endpoint, ...]]]] = {}
        self.pending: set[tuple[str, str]] = set()
        self.endpoints: dict[str, tuple[Endpoint, ...]] = {}  # the endpointsMap, by service port key
        self.keys: dict[tuple[str, str], list[str]] = {}  # the endpointsMap's keys, by Service

    def update(self, slc: dict, removed: bool) -> bool:
        md = slc["metadata"]
        svc = (md.get("labels") or {}).get("kubernetes.io/service-name")
        if not svc:
            return bool(self.pending)
        key = (md.get("namespace") or "", svc)
        by_slice = self.slices.setdefault(key, {})
        new = None if removed else slice_endpoints(slc, self.family, self.memo)
        if by_slice.get(md["name"]) != new:
            if new is None:
                by_slice.pop(md["name"], None)
            else:
                by_slice[md["name"]] = new
            if not by_slice:
                self.slices.pop(key, None)
            self.pending.add(key)
        return bool(self.pending)

    def apply(self) -> set[tuple[str, str]]:
        """endpointsMap.Update: the pending Services' endpoints merged from their slices; the
        Services that changed (UpdateEndpointsMapResult.UpdatedServices)."""
        changed = set(self.pending)
        for key in sorted(self.pending):
            for k in self.keys.pop(key, ()):
                del self.endpoints[k]
            merged: dict[str, dict[str, Endpoint]] = {}
            for name in sorted(self.slices.get(key, {})):
                for spn, eps in self.slices[key][name].items():
                    for ep in eps:
                        # one endpoint per ip:port, the first slice's (endpointslicecache.go)
                        merged.setdefault(spn, {}).setdefault(str(ep), ep)
            for spn, eps in merged.items():
                self.endpoints[spn] = tuple(eps[k] for k in sorted(eps))  # byEndpoint order
            if merged:
                self.keys[key] = list(merged)
        self.pending.clear()
        return changed


class KubeProxy(ClientComponent):
    component = "kube-proxy"
    kube_api_qps, kube_api_burst = KUBE_PROXY_QPS, KUBE_PROXY_BURST  # clientConnection defaults

    def __init__(self, host: str, apiserver, node_ip: str | None = None, min_sync_period: float | None = None,
                 sync_period: float = SYNC_PERIOD, mode: str = "", service_cidrs: tuple = (),
                 node_ip6: str | None = None, cluster_cidr: str = CLUSTER_CIDR, slice_memo: dict | None = None, **kw):
        super().__init__(host, apiserver, **kw)
        self.node_ips = [node_ip] if node_ip else []
        # A node with an IPv6 address too runs dual-stack: a proxier per family
        # (cmd/kube-proxy/app/server_linux.go: metaproxier.NewMetaProxier(ipv4Proxier, ipv6Proxier)).
        self.families = [IPV4] + ([IPV6] if node_ip6 else [])
        if node_ip6:
            self.node_ips.append(node_ip6)
        self.service_cidrs = tuple(c for text in service_cidrs for c in split_cidrs(text))
        # The parsed EndpointSlices, shared by the cluster's kube-proxies (slice_endpoints).
        self.slice_memo = {} if slice_memo is None else slice_memo
        self.min_sync_period_flag = min_sync_period
        self.sync_period = sync_period
        self.mode = self.cluster_cidr = ""
        self.configure(mode, cluster_cidr)
        self.synced_at: str | None = None
        self.syncs = self.full_syncs = self.partial_syncs = 0
        self.rules_written = 0        # rules (or IPVS / nftables operations) written, over all syncs
        self.last_sync_at: float | None = None   # sync_proxy_rules_last_timestamp_seconds
        self.last_full_sync = float("-inf")
        self.last_services = 0

    def configure(self, mode: str, cluster_cidr: str | None = None) -> None:
        """What a starting process's --config says (KubeProxyConfiguration.mode, clusterCIDR).
        The kernel's state (rules, xt_recent lists, IPVS tables, nftables sets) belongs to the
        node and outlives the process: a process of the same mode finds and resyncs it.  One of
        another mode starts from empty tables of its own: upstream leaves the old mode's rules
        behind (KEP-2448; an administrator reboots or runs `kube-proxy --cleanup`), which the
        simulator does not keep beside the new mode's."""
        mode = mode or DEFAULT_MODE  # KubeProxyConfiguration.mode: "" is iptables on Linux
        if mode not in MODES:
            raise ValueError(f"unknown kube-proxy mode {mode!r}; known: {', '.join(MODES)}")
        cidr = cluster_cidr or self.cluster_cidr or CLUSTER_CIDR
        if mode != self.mode or cidr != self.cluster_cidr:
            self.mode, self.cluster_cidr = mode, cidr
            self.reboot()

    def reboot(self) -> None:
        """The node's kernel starts empty (a power cycle): no rules until a kube-proxy syncs."""
        cidrs = split_cidrs(self.cluster_cidr) or [CLUSTER_CIDR]   # --cluster-cidr, one per family
        # `service_cidrs`: the ServiceCIDRs (nftables' cluster-ips-check).
        self.proxiers = {f: new_proxier(self.mode, self.host, of_family(self.node_ips, f),
                                        next(iter(of_family(cidrs, f)), cidrs[0]),
                                        tuple(of_family(list(self.service_cidrs), f)))
                         for f in self.families}
        self.proxier = self.proxiers[IPV4]   # the primary family's
        # --<mode>-min-sync-period's default differs by mode (iptables and nftables 1 s, ipvs 0).
        flag = self.min_sync_period_flag
        self.min_sync_period = self.proxier.default_min_sync_period if flag is None else flag

    def on_start(self) -> None:
        self.action(f"kube-proxy on {self.host} started ({self.mode} mode, --{self.mode}-min-sync-period="
                    f"{self.min_sync_period:g}s, --{self.mode}-sync-period={self.sync_period:g}s)")
        self.trackers = {f: (ServiceChangeTracker(f), EndpointsChangeTracker(self.host, f, self.slice_memo))
                         for f in self.families}
        self.services, self.endpoints = self.trackers[IPV4]
        self.runner = BoundedFrequencyRunner(self, self.sync_proxy_rules, self.min_sync_period,
                                             self.proxier.max_sync_interval(self.sync_period), BURST_SYNCS)
        self.service_informer = self.slice_informer = None
        self.needs_full_sync = True
        for proxier in self.proxiers.values():
            proxier.process_started()
        # The health servers (sim/kubeproxy_healthcheck.py) start with the process: healthy once
        # it has synced, the Services' listeners opened by that sync.
        self.health_server = ServiceHealthServer()
        self.proxier_synced = False
        self._discover()

    def _discover(self) -> None:
        """Start the informers once the API serves both kinds (a list of a kind not served
        would fail and relist every second); ask again after a sync period until it does."""
        def discovered(served) -> None:
            names = {(r.group, r.name) for r in served or []}
            if ("", "services") in names and (DISCOVERY_GROUP, "endpointslices") in names:
                self._start_informers()
            else:
                self.call_later(self.sync_period, self._discover)
        self.api.discover(discovered)

    def _start_informers(self) -> None:
        def svc_changed(prev, cur) -> None:
            if any([svcs.update(prev, cur) for svcs, _eps in self.trackers.values()]):
                self._changed()

        def slice_changed(slc, removed) -> None:
            if any([eps.update(slc, removed) for _svcs, eps in self.trackers.values()]):
                self._changed()

        # Services with the label service.kubernetes.io/service-proxy-name are another proxy's,
        # and headless ones have nothing to program: cmd/kube-proxy's label selector.
        selector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"
        self.service_informer = self.informer(
            "services", label_selector=selector, on_add=lambda o: svc_changed(None, o),
            on_update=svc_changed, on_delete=lambda o: svc_changed(o, None), on_synced=self._changed)
        self.slice_informer = self.informer(
            "endpointslices", group=DISCOVERY_GROUP, label_selector=selector,
            on_add=lambda o: slice_changed(o, False), on_update=lambda _o, n: slice_changed(n, False),
            on_delete=lambda o: slice_changed(o, True), on_synced=self._changed)
        self.service_informer.start()
        self.slice_informer.start()
        self.runner.start()

    def _changed(self) -> None:
        if self._initialized():
            self.runner.run()

    def _initialized(self) -> bool:
        return bool(self.service_informer and self.service_informer.synced
                    and self.slice_informer and self.slice_informer.synced)

    def sync_proxy_rules(self) -> None:
        """proxier.go syncProxyRules: apply the pending changes, then write the rules - all of
        them on a full sync (at start, after a failure, and once per FullSyncPeriod outside
        large-cluster mode), else only the changed Services' own (a partial sync)."""
        if not self._initialized():
            return
        p = self.proxier
        full = self.needs_full_sync or not p.partial_syncs or (
            p.full_sync_period is not None and self.now - self.last_full_sync > p.full_sync_period and not p.large)
        self.syncs += 1
        self.synced_at = self.micro_timestamp()
        before = self.last_services
        results = []
        for family in self.families:   # the meta-proxier's Sync: each family's proxier in turn
            svcs, eps = self.trackers[family]
            changed = svcs.apply() | eps.apply()
            if family == IPV4:
                primary_changed = changed
            ports = svcs.port_list()
            proxier = self.proxiers[family]
            # The trackers know what changed: a proxier that can use that redoes only it.
            kw = {"tracked": True} if getattr(proxier, "tracks_changes", False) else {}
            results.append(proxier.sync(ports, eps.endpoints, None if full else changed, self.now,
                                        self.sync_period, **kw))
        result = {"written": sum(r["written"] for r in results), "differs": any(r["differs"] for r in results),
                  "summary": " + ".join(f"{r['summary']} ({'ip6tables' if f == IPV6 else self.mode})"
                                        if len(results) > 1 else r["summary"]
                                        for f, r in zip(self.families, results))}
        # SyncServices / SyncEndpoints of the service health server, after the rules (the
        # primary family's view: a Service's local endpoints are counted once).
        self.health_server.sync(self.services.port_list(), self.endpoints.endpoints, self.host,
                                None if full else primary_changed, self.endpoints.keys)
        self.proxier_synced = True
        self.needs_full_sync = False
        if full:
            self.full_syncs += 1
            self.last_full_sync = self.now
        else:
            self.partial_syncs += 1
        self.rules_written += result["written"]
        self.last_sync_at = self.now
        services = self.last_services = len(self.services.ports)
        if result["differs"] and (services or before):
            self.action(f"kube-proxy on {self.host} synced {result['summary']} for {services} "
                        f"service{'' if services == 1 else 's'}")

    # -- the health servers: what a cloud load balancer's health checks reach ----------------
    def on_message(self, src: str, msg: dict) -> None:
        if msg.get("type") == "healthcheck":
            self.send(src, {"type": "healthcheck.reply", "id": msg.get("id"),
                            "answer": self.health_check(msg.get("port"), msg.get("path") or "/")},
                      f"health check {msg.get('port')} answered")

    def health_check(self, port, path: str = HEALTHZ_PATH) -> dict | None:
        """The HTTP answer to GET http://<node>:<port><path> ({"code", "headers", "body"}), or
        None when nothing listens there (connection refused)."""
        if port == PROXIER_HEALTHZ_PORT:
            if path != HEALTHZ_PATH:
                return {"code": 404, "headers": {}, "body": "404 page not found\n"}
            return proxier_healthz(self.proxier_synced, self.synced_at, self.micro_timestamp())
        if not isinstance(port, int) or isinstance(port, bool):
            return None
        return self.health_server.answer(port, self.proxier_synced)

    # -- reads ---------------------------------------------------------------------------------
    def proxy_rules(self) -> dict:
        """The node's rules in its mode's own shape (iptables-save, ipvsadm -Ln, nft list table)
        and what they were made from ("running": whether a kube-proxy process runs now - the
        rules are the kernel's either way); a dual-stack node's IPv6 rules too ("ipv6": the IPv6
        proxier's, ip6tables-save's text)."""
        return {"node": self.host, "mode": self.mode, "running": self.running,
                "text": self.proxier.text(self.now), "syncedAt": self.synced_at,
                "syncs": self.syncs, **self.proxier.info(), "services": self.last_services, "metrics": self.metrics(),
                "families": list(self.families), **self._ipv6()}

    def _ipv6(self) -> dict:
        p6 = self.proxiers.get(IPV6)
        return {"ipv6": {"text": p6.text(self.now), **p6.info()}} if p6 is not None else {}

    def metrics(self) -> dict:
        """kube-proxy's /metrics (pkg/proxy/metrics) as far as the simulator keeps them (the IPVS
        proxier, which has no partial syncs, observes only sync_proxy_rules_duration_seconds)."""
        split = {"sync_full_proxy_rules_duration_seconds_count": self.full_syncs,
                 "sync_partial_proxy_rules_duration_seconds_count": self.partial_syncs} \
            if self.proxier.partial_syncs else {}
        return {**split, "sync_proxy_rules_duration_seconds_count": self.full_syncs + self.partial_syncs,
                "sync_proxy_rules_last_timestamp_seconds": self.last_sync_at, **self.proxier.metrics()}

    def iptables(self) -> dict:
        """The node's iptables rules as `iptables-save` prints them (in IPVS mode, the few
        rules that mode still writes)."""
        got = self.proxy_rules()
        info = self.proxier.iptables_info()
        return {"node": self.host, "mode": self.mode, "running": self.running, "syncedAt": got["syncedAt"],
                "syncs": got["syncs"], **info,
                "services": self.last_services, "families": list(self.families), **self._ipv6()}

    def route(self, packet: dict) -> dict:
        """Walk one packet through the node's rules as the mode's kernel path would: the rules
        of its family (ip6tables for an IPv6 packet; none on a single-stack node)."""
        proxier = self.proxiers.get(family_of(packet.get("dst")) or IPV4)
        if proxier is None:
            return {"verdict": "ACCEPT", "endpoint": None, "rule": None, "path": [], "masquerade": False}
        return proxier.route(packet, self.rng, self.now)
