"""The ingress-nginx controller (kubernetes/ingress-nginx), as the process its image runs.

The container running `/nginx-ingress-controller` *is* this component (the runtime asks
`pod_process` for it, as a control-plane container is its component, ContainerRuntime.
host_processes): it finds its own pod from POD_NAME / POD_NAMESPACE (k8s.GetPodDetails), lists
and watches Ingresses, IngressClasses, Services and EndpointSlices through the API as any
in-cluster client does, and turns them into nginx's configuration on each sync
(internal/ingress/controller/controller.go getConfiguration, createServers): one server per
host, one location per path, the upstreams' endpoints.  Syncs are rate limited as the sync queue
is (--sync-rate-limit 0.3/s, burst 1).  Requests to its port 80 are answered from the last synced
configuration:

- The server: the exact host; else the longest wildcard (`*.foo.com`, nginx's server_name
  matching, which takes any number of labels before the suffix); else the catch-all `_`, which
  holds the rules without a host and an Ingress's defaultBackend when it has no rules.
- The location (nginx's: an `=` location before prefixes, the longest prefix wins): Exact
  paths first; Prefix paths element by element (/foo matches /foo and /foo/bar, not /foobar;
  a trailing slash is ignored); ImplementationSpecific as Prefix (since ingress-nginx 0.41);
  the server's root location is the Ingress's defaultBackend, or the controller's default
  backend, which answers nginx's 404.
- Where two Ingresses define the same host and path, the older one wins (sortIngressSlice).
- The upstream is the Service's endpoints straight from its EndpointSlices (ready ones, the
  Service port's target), not its ClusterIP: ingress-nginx balances itself (round robin), so
  kube-proxy is never asked.  No Service or no ready endpoint: 503; no endpoint answering
  (after trying the next upstream up to 3 times, proxy_next_upstream_tries): 502, or 504 when the
  connections timed out (dropped by a NetworkPolicy).

Which Ingresses are its own (internal/ingress/controller/store, ingressclass): those whose
spec.ingressClassName names an IngressClass with spec.controller == --controller-class
(k8s.io/ingress-nginx), those annotated kubernetes.io/ingress.class == --ingress-class (nginx),
and class-less ones only with --watch-ingress-without-class.

Status (internal/ingress/status/status.go): the leader (Lease --election-id in its namespace)
writes every Ingress's status.loadBalancer.ingress at once on leading and then every 60 s
(UpdateInterval): --publish-status-address if given; else --publish-service's address (a
LoadBalancer's ingress points and external IPs, a NodePort's external IPs or ClusterIP, a
ClusterIP Service's ClusterIP); else the InternalIPs of the nodes running a ready controller
pod (the bare-metal install).
"""
from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from sim.client import ClientComponent
from sim.kubeproxy import BoundedFrequencyRunner
from sim.leaderelection import LeaderElector
from sim.registry.networking.ingressclasses import GROUP
from sim.registry.networking.ingresses import ANN_INGRESS_CLASS, EXACT, is_ip
from sim.runtime.process import Program, ProcessContext, ProgramGen, Sleep, Write
from sim.runtime.programs import FOREVER, register

if TYPE_CHECKING:
    from sim.cluster import Cluster

RELEASE, NGINX_VERSION = "v1.12.1", "1.25.5"
IMAGE = f"registry.k8s.io/ingress-nginx/controller:{RELEASE}"
BINARY = "/nginx-ingress-controller"
CONTROLLER_CLASS = "k8s.io/ingress-nginx"    # --controller-class default
INGRESS_CLASS = "nginx"                      # --ingress-class default
HTTP_PORT, HTTPS_PORT, HEALTHZ_PORT, WEBHOOK_PORT = 80, 443, 10254, 8443
SYNC_RATE_LIMIT = 0.3                        # --sync-rate-limit (syncs per second)
STATUS_UPDATE_INTERVAL = 60.0                # status.UpdateInterval
PROXY_NEXT_UPSTREAM_TRIES = 3                # proxy-next-upstream-tries
CATCH_ALL = "_"
DISCOVERY_GROUP = "discovery.k8s.io"
MAX_UPSTREAM_ENDPOINTS = 1000                # what one upstream keeps (bounds a sync's work)


def _page(code: int, reason: str) -> str:
    """nginx's error page with server_tokens off (ngx_http_special_response.c)."""
    return (f"<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}"
            "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


NOT_FOUND = (404, _page(404, "Not Found"))          # the default backend
UNAVAILABLE = (503, _page(503, "Service Temporarily Unavailable"))
BAD_GATEWAY = (502, _page(502, "Bad Gateway"))
GATEWAY_TIMEOUT = (504, _page(504, "Gateway Time-out"))


# -- the configuration: servers and locations -------------------------------------------------
@dataclass
class Location:
    path: str
    exact: bool                       # pathType Exact: `location = /path`
    upstream: str | None              # "<ns>-<svc>-<port>", None: the default backend (404)
    ingress: str = ""                 # ns/name of the Ingress it came from
    backend: dict | None = None       # the IngressBackend
    root: bool = False                # the server's root location nobody's path made yet


@dataclass
class Server:
    hostname: str
    locations: dict = field(default_factory=dict)   # (normalized path, exact) -> Location


def upstream_name(namespace: str, backend: dict | None) -> str | None:
    """upstreamName: <namespace>-<service>-<port>; None for no (service) backend."""
    service = (backend or {}).get("service")
    if not isinstance(service, dict) or not service.get("name"):
        return None
    port = service.get("port") or {}
    return f"{namespace}-{service['name']}-{port.get('number') or port.get('name') or ''}"


def _key(ing: dict) -> tuple:
    md = ing.get("metadata") or {}
    return md.get("creationTimestamp") or "", md.get("namespace") or "", md.get("name") or ""


def build_servers(ingresses: list[dict]) -> dict[str, Server]:
    """createServers + the locations of every rule, the older Ingress first."""
    servers = {CATCH_ALL: Server(CATCH_ALL, {("/", False): Location("/", False, None, root=True)})}
    ordered = sorted(ingresses, key=_key)
    for ing in ordered:
        md, spec = ing["metadata"], ing.get("spec") or {}
        ns, name = md.get("namespace", ""), f"{md.get('namespace', '')}/{md.get('name', '')}"
        default = spec.get("defaultBackend")
        up = upstream_name(ns, default)
        rules = spec.get("rules") or []
        if not rules and default is not None:
            root = servers[CATCH_ALL].locations[("/", False)]
            if root.root:      # the catch-all's default backend: the oldest such Ingress's
                servers[CATCH_ALL].locations[("/", False)] = Location("/", False, up, name, default, root=False)
        for rule in rules:
            host = (rule.get("host") or CATCH_ALL).lower()
            server = servers.setdefault(host, Server(host))
            root = server.locations.get(("/", False))
            if root is None:
                server.locations[("/", False)] = Location("/", False, up if default else None, name, default,
                                                          root=True)
            elif root.root and root.upstream is None and default is not None:
                server.locations[("/", False)] = Location("/", False, up, name, default, root=True)
    for ing in ordered:
        md, spec = ing["metadata"], ing.get("spec") or {}
        ns, name = md.get("namespace", ""), f"{md.get('namespace', '')}/{md.get('name', '')}"
        for rule in spec.get("rules") or []:
            server = servers[(rule.get("host") or CATCH_ALL).lower()]
            for p in ((rule.get("http") or {}).get("paths") or []):
                exact = p.get("pathType") == EXACT
                path = p.get("path") or "/"
                norm = path if exact else (path.rstrip("/") or "/")
                existing = server.locations.get((norm, exact))
                if existing is not None and not existing.root:
                    continue   # the older Ingress keeps the path
                server.locations[(norm, exact)] = Location(path, exact, upstream_name(ns, p.get("backend")), name,
                                                           p.get("backend"))
    return servers


def select_server(servers: dict[str, Server], host: str) -> Server:
    """nginx's server_name: the exact name, then the longest leading wildcard, then `_`."""
    host = (host or "").lower().rsplit(":", 1)[0] if host and not host.startswith("[") else (host or "").lower()
    if host in servers:
        return servers[host]
    wild = [h for h in servers if h.startswith("*.") and host.endswith(h[1:]) and len(host) > len(h) - 1]
    if wild:
        return servers[max(wild, key=len)]
    return servers[CATCH_ALL]


def prefix_matches(prefix: str, path: str) -> bool:
    """Prefix pathType: element by element (/foo/bar matches /foo/bar/baz, not /foo/barbaz)."""
    p = prefix.rstrip("/")
    return p == "" or path == p or path.startswith(p + "/")


def select_location(server: Server, path: str) -> Location | None:
    """An `=` location equal to the path, else the longest matching prefix."""
    path = path.split("?", 1)[0].split("#", 1)[0] or "/"
    exact = server.locations.get((path, True))
    if exact is not None:
        return exact
    best = None
    for (norm, is_exact), loc in server.locations.items():
        if not is_exact and prefix_matches(norm, path) and (best is None or len(norm) > len(best[0])):
            best = (norm, loc)
    return best[1] if best else None


def service_endpoints(svc: dict | None, backend: dict | None, slices: list[dict]) -> list[str] | None:
    """getEndpointsFromSlices: the ready endpoints ("ip:port") of the Service port the backend
    names (by number or name), from its EndpointSlices; None when the Service does not exist."""
    if svc is None:
        return None
    want = ((backend or {}).get("service") or {}).get("port") or {}
    sport = next((p for p in (svc.get("spec") or {}).get("ports") or []
                  if (want.get("number") and p.get("port") == want["number"])
                  or (want.get("name") and p.get("name") == want["name"])), None)
    if sport is None:
        return []
    out: list[str] = []
    for sl in slices:
        for port in sl.get("ports") or []:
            if (port.get("name") or "") != (sport.get("name") or "") or not port.get("port"):
                continue
            for ep in sl.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                for addr in ep.get("addresses") or []:
                    hostport = f"{addr}:{port['port']}"
                    if hostport not in out and len(out) < MAX_UPSTREAM_ENDPOINTS:
                        out.append(hostport)
    return sorted(out)


# -- flags -------------------------------------------------------------------------------------
def parse_flags(argv: list[str]) -> dict[str, str]:
    """--name=value and bare --name (true) after the binary."""
    flags: dict[str, str] = {}
    for arg in argv[1:]:
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            flags[name] = value if eq else "true"
    return flags


def _true(value: str | None, default: bool) -> bool:
    return default if value is None else value.lower() in ("true", "1", "t")


class IngressNginxController(ClientComponent):
    component = "nginx-ingress-controller"
    kube_api_qps, kube_api_burst = 5.0, 10    # client-go's rest.Config defaults, which it keeps

    def __init__(self, host: str, apiserver, pod_namespace: str, pod_name: str, argv: list[str], container_id: str,
                 proxy: Callable[[str, str], tuple | None], log: Callable[[str], None]):
        super().__init__(host, apiserver)
        self.address = f"{self.component}/{container_id}@{host}"   # one process per container
        self.namespace, self.pod_name = pod_namespace, pod_name
        flags = parse_flags(argv)
        self.ingress_class = flags.get("ingress-class", INGRESS_CLASS)
        self.controller_class = flags.get("controller-class", CONTROLLER_CLASS)
        self.watch_without_class = _true(flags.get("watch-ingress-without-class"), False)
        self.publish_service = flags.get("publish-service", "").replace("$(POD_NAMESPACE)", pod_namespace)
        self.publish_status_address = flags.get("publish-status-address", "")
        self.update_status = _true(flags.get("update-status"), True)
        self.election_id = flags.get("election-id", "ingress-controller-leader")
        try:
            rate = float(flags.get("sync-rate-limit", SYNC_RATE_LIMIT))
        except ValueError:
            rate = SYNC_RATE_LIMIT
        self.min_sync_interval = 1.0 / rate if rate > 0 else 0.0
        self.proxy, self.log = proxy, log

    # -- lifecycle ---------------------------------------------------------------------------
    def on_start(self) -> None:
        self.servers: dict[str, Server] = {}
        self.upstreams: dict[str, list[str] | None] = {}
        self.next_endpoint: dict[str, int] = {}
        self.configured = False
        self.syncs = 0
        self.pod_labels: dict = {}
        self.informers: list = []
        self.leading = False
        self.runner = BoundedFrequencyRunner(self, self.sync_ingress, self.min_sync_interval, FOREVER, 1)
        self.api.request({"verb": "get", "resource": "pods", "namespace": self.namespace, "name": self.pod_name},
                         self._got_pod, "get own pod")

    def on_stop(self) -> None:
        for inf in self.informers:
            inf.stop()
        self.kernel.remove_component(self)

    def _got_pod(self, resp: dict) -> None:
        if resp.get("code") != 200:
            self.call_later(1.0, lambda: self.api.request(
                {"verb": "get", "resource": "pods", "namespace": self.namespace, "name": self.pod_name},
                self._got_pod, "get own pod"))
            return
        self.pod_labels = dict((resp["body"].get("metadata") or {}).get("labels") or {})
        changed = lambda *_: self._changed()
        for resource, group in (("ingressclasses", GROUP), ("ingresses", GROUP), ("services", ""),
                                ("endpointslices", DISCOVERY_GROUP)):
            inf = self.informer(resource, group=group, on_add=changed, on_update=changed, on_delete=changed,
                                on_synced=changed)
            self.informers.append(inf)
            inf.start()
        self.runner.start()
        if self.update_status:
            self.elector = LeaderElector(self, self.election_id, self._started_leading, self._stopped_leading,
                                         namespace=self.namespace)
            self.elector.run()

    def _changed(self) -> None:
        if all(inf.synced for inf in self.informers):
            self.runner.run()

    # -- which Ingresses are ours ----------------------------------------------------------------
    def is_ours(self, ing: dict) -> bool:
        annotations = (ing.get("metadata") or {}).get("annotations") or {}
        if ANN_INGRESS_CLASS in annotations:
            return annotations[ANN_INGRESS_CLASS] == self.ingress_class
        name = (ing.get("spec") or {}).get("ingressClassName")
        if name:
            ic = self.informers[0].get(None, name)
            return ic is not None and (ic.get("spec") or {}).get("controller") == self.controller_class
        return self.watch_without_class

    def ingresses(self) -> list[dict]:
        return sorted((i for i in self.informers[1].list() if self.is_ours(i)), key=_key)

    # -- the sync: nginx's configuration ------------------------------------------------------------
    def sync_ingress(self) -> None:
        if not self.informers or not all(inf.synced for inf in self.informers):
            return
        ingresses = self.ingresses()
        servers = build_servers(ingresses)
        slices: dict[tuple[str, str], list[dict]] = {}
        for sl in self.informers[3].list():
            md = sl["metadata"]
            svc = (md.get("labels") or {}).get("kubernetes.io/service-name")
            if svc:
                slices.setdefault((md.get("namespace", ""), svc), []).append(sl)
        upstreams: dict[str, list[str] | None] = {}
        for server in servers.values():
            for loc in server.locations.values():
                if loc.upstream is None or loc.upstream in upstreams:
                    continue
                ns = loc.ingress.split("/", 1)[0]
                name = loc.backend["service"]["name"]
                upstreams[loc.upstream] = service_endpoints(self.informers[2].get(ns, name), loc.backend,
                                                            sorted(slices.get((ns, name), []),
                                                                   key=lambda s: s["metadata"]["name"]))
        first = not self.configured
        if first or servers != self.servers:
            self.action(f"nginx-ingress-controller {self.pod_name}: configuration "
                        f"{'loaded' if first else 'reloaded'} ({len(ingresses)} "
                        f"Ingress{'' if len(ingresses) == 1 else 'es'}, {len(servers) - 1} "
                        f"host{'' if len(servers) == 2 else 's'})")
        self.servers, self.upstreams, self.configured = servers, upstreams, True
        self.syncs += 1

    # -- requests -----------------------------------------------------------------------------------
    def serve_http(self, port: int, host: str, path: str, client: str = "-") -> tuple[int, str] | None:
        if port not in (HTTP_PORT, HTTPS_PORT):
            return controller_http(None, path, 0.0)
        if not self.configured:
            return None          # nginx is not running yet: the connection is refused
        loc = select_location(select_server(self.servers, host), path)
        upstream = loc.upstream if loc is not None else None
        if upstream is None:
            return self._logged(client, host, path, NOT_FOUND, "upstream-default-backend", "-")
        endpoints = self.upstreams.get(upstream)
        if not endpoints:
            return self._logged(client, host, path, UNAVAILABLE, upstream, "-")
        start = self.next_endpoint.get(upstream, 0)
        tried, timed_out = [], False
        for i in range(min(PROXY_NEXT_UPSTREAM_TRIES, len(endpoints))):
            ep = endpoints[(start + i) % len(endpoints)]
            tried.append(ep)
            reply = self.proxy(f"http://{ep}{path}", host)
            if isinstance(reply, tuple):
                self.next_endpoint[upstream] = (start + i + 1) % len(endpoints)
                return self._logged(client, host, path, reply, upstream, ", ".join(tried))
            timed_out = timed_out or reply is not None      # TIMED_OUT: dropped (a NetworkPolicy)
        self.next_endpoint[upstream] = (start + len(tried)) % len(endpoints)
        # proxy_next_upstream error timeout: every try failed; a connect timeout answers 504.
        return self._logged(client, host, path, GATEWAY_TIMEOUT if timed_out else BAD_GATEWAY, upstream,
                            ", ".join(tried))

    def _logged(self, client: str, host: str, path: str, reply: tuple, upstream: str, addr: str) -> tuple:
        """log-format-upstream, ingress-nginx's access log line."""
        status, body = reply
        stamp = _time.strftime("%d/%b/%Y:%H:%M:%S +0000", _time.gmtime(self.api_now))
        req_id = f"{self.rng.getrandbits(128):032x}"
        self.log(f'{client} - - [{stamp}] "GET {path} HTTP/1.1" {status} {len(body)} "-" "curl/8.11.1" '
                 f"{len(path) + len(host or '') + 60} 0.001 [{upstream}] [] {addr} {len(body)} 0.001 {status} {req_id}")
        return reply

    # -- status ---------------------------------------------------------------------------------------
    def _started_leading(self) -> None:
        self.leading = True
        self.action(f"nginx-ingress-controller {self.pod_name}: new leader elected, updating Ingress status")
        self._status_tick()

    def _stopped_leading(self) -> None:
        self.leading = False

    def _status_tick(self) -> None:
        if not self.leading:
            return
        self.running_addresses(self._update_status)
        self.call_later(STATUS_UPDATE_INTERVAL, self._status_tick)

    def running_addresses(self, done: Callable[[list[dict]], None]) -> None:
        """statusSync.runningAddresses."""
        if self.publish_status_address:
            return done(sorted(({"ip": a} if is_ip(a) else {"hostname": a})
                               for a in self.publish_status_address.split(",") if a))
        if self.publish_service:
            ns, _, name = self.publish_service.partition("/")
            return self.api.request({"verb": "get", "resource": "services", "namespace": ns, "name": name},
                                    lambda resp: done(_service_addresses(resp.get("body"))
                                                      if resp.get("code") == 200 else []), "get publish service")
        selector = ",".join(f"{k}={v}" for k, v in sorted(self.pod_labels.items()))

        def listed(resp: dict) -> None:
            if resp.get("code") != 200:
                return done([])
            nodes = sorted({(p.get("spec") or {}).get("nodeName") for p in resp["body"].get("items") or []
                            if _running_and_ready(p) and (p.get("spec") or {}).get("nodeName")})
            found: dict[str, str] = {}

            def got(node: str, r: dict) -> None:
                found[node] = _node_ip(r.get("body")) if r.get("code") == 200 else ""
                if len(found) == len(nodes):
                    done([{"ip": ip} for ip in sorted({ip for ip in found.values() if ip})])
            if not nodes:
                return done([])
            for node in nodes:
                self.api.request({"verb": "get", "resource": "nodes", "name": node}, lambda r, n=node: got(n, r),
                                 "get node")
        self.api.request({"verb": "list", "resource": "pods", "namespace": self.namespace,
                          "query": {"labelSelector": selector}}, listed, "list controller pods")

    def _update_status(self, addresses: list[dict]) -> None:
        """updateStatus: every Ingress of the class whose addresses differ gets them."""
        if not self.leading or not self.informers:
            return
        for ing in self.ingresses():
            current = ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            if current == addresses:
                continue
            obj = {"apiVersion": f"{GROUP}/v1", "kind": "Ingress", "metadata": dict(ing["metadata"]),
                   "spec": ing.get("spec"), "status": {"loadBalancer": {"ingress": addresses} if addresses else {}}}
            md = ing["metadata"]
            self.api.update("ingresses", obj, lambda r: None, group=GROUP, subresource="status")
            self.action(f"nginx-ingress-controller {self.pod_name}: updating Ingress "
                        f"{md.get('namespace')}/{md.get('name')} status from {_ips(current)} to {_ips(addresses)}")


def _ips(points: list[dict]) -> str:
    return "[" + " ".join(p.get("ip") or p.get("hostname") or "" for p in points) + "]"


def _running_and_ready(pod: dict) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _node_ip(node: dict | None) -> str:
    """k8s.GetNodeIPOrName without --report-node-internal-ip-address: the ExternalIP, else the InternalIP."""
    addrs = ((node or {}).get("status") or {}).get("addresses") or []
    for kind in ("ExternalIP", "InternalIP"):
        for a in addrs:
            if a.get("type") == kind and a.get("address"):
                return a["address"]
    return ""


def _service_addresses(svc: dict | None) -> list[dict]:
    """statusAddressFromService."""
    spec, status = (svc or {}).get("spec") or {}, (svc or {}).get("status") or {}
    kind, external = spec.get("type"), [{"ip": ip} for ip in spec.get("externalIPs") or []]
    if kind == "ExternalName":
        return [{"hostname": spec.get("externalName", "")}]
    if kind == "ClusterIP" or (kind == "NodePort" and not external):
        return [{"ip": spec["clusterIP"]}] if spec.get("clusterIP") else []
    if kind == "NodePort":
        return external
    points = [({"ip": p["ip"]} if p.get("ip") else {"hostname": p["hostname"]})
              for p in (status.get("loadBalancer") or {}).get("ingress") or [] if p.get("ip") or p.get("hostname")]
    return points + external


# -- the image's program --------------------------------------------------------------------------
def _controller(ctx: ProcessContext) -> ProgramGen:
    """main.go: the banner, then the controller's start-up; it needs its pod's identity."""
    yield Write("-------------------------------------------------------------------------------\n"
                f"NGINX Ingress controller\n  Release:       {RELEASE}\n  Build:         d4e8f1a\n"
                f"  Repository:    https://github.com/kubernetes/ingress-nginx\n  nginx version: nginx/{NGINX_VERSION}\n\n"
                "-------------------------------------------------------------------------------\n\n")
    stamp = _time.strftime("%m%d %H:%M:%S.000000", _time.gmtime(ctx.clock()))
    if not ctx.env.get("POD_NAME") or not ctx.env.get("POD_NAMESPACE"):
        yield Write(f"F{stamp}       7 main.go:64] unexpected error obtaining pod information: "
                    "unable to get POD information (missing POD_NAME or POD_NAMESPACE environment variable\n",
                    "stderr")
        return 255
    for line in ("main.go:205] \"Creating API client\" host=\"https://10.96.0.1:443\"",
                 "main.go:248] \"Running in Kubernetes cluster\" major=\"1\" minor=\"36\"",
                 "nginx.go:271] \"Starting NGINX Ingress controller\"",
                 f"leaderelection.go:257] attempting to acquire leader lease {ctx.env['POD_NAMESPACE']}/"
                 f"{parse_flags(ctx.argv).get('election-id', 'ingress-controller-leader')}..."):
        yield Write(f"I{stamp}       7 {line}\n", "stderr")
    while True:
        yield Sleep(FOREVER)


def controller_http(ctx, path: str, elapsed: float) -> tuple[int, str]:
    """The health and metrics server on --healthz-port (10254): /healthz is "ok"."""
    route = path.split("?", 1)[0]
    if route == "/healthz":
        return 200, "ok"
    if route == "/metrics":
        return 200, f'# TYPE nginx_ingress_controller_build_info gauge\nnginx_ingress_controller_build_info{{release="{RELEASE}"}} 1\n'
    return 404, "404 page not found\n"


for _name in (BINARY, BINARY.lstrip("/")):
    register(Program(_name, _controller, on_sigterm=0,
                     ports=lambda ctx: frozenset({HTTP_PORT, HTTPS_PORT, HEALTHZ_PORT, WEBHOOK_PORT}),
                     http=controller_http))


def _wait_shutdown(ctx: ProcessContext) -> ProgramGen:
    """/wait-shutdown, the preStop hook: SIGTERM to the controller, which drains and exits."""
    ctx.signal_main(0)
    return 0
    yield  # a generator


register(Program("wait-shutdown", _wait_shutdown))


def pod_process(cluster: "Cluster", node: str, runtime, c) -> IngressNginxController | None:
    """The component a starting container is, when it runs the controller (else None)."""
    if c.program is None or c.program.name not in (BINARY, BINARY.lstrip("/")) or c.ctx is None:
        return None
    env = c.ctx.env
    if not env.get("POD_NAME") or not env.get("POD_NAMESPACE"):
        return None

    def proxy(url: str, host: str):
        ip = (runtime.sandboxes.get(c.pod_uid) or {}).get("ip") or ""
        from sim import clusterdns   # the one HTTP request from a pod (its transport: sim/clusterdns.py)
        return clusterdns.http_get(cluster, node, ip, "", url, host=host)

    index = [s.name for s in cluster.config.nodes].index(node)
    process = IngressNginxController(node, cluster.apiserver_endpoints(node, index), env["POD_NAMESPACE"],
                                     env["POD_NAME"], list(c.ctx.argv), c.id, proxy,
                                     lambda line: runtime.write_log(c, line + "\n", "stdout"))
    cluster.kernel.add_component(process)
    return process
