"""The pod's DNS configuration as the kubelet builds it (pkg/kubelet/network/dns/dns.go:
Configurer.GetPodDNS) and the container runtime writes it into /etc/resolv.conf (containerd's
parseDNSOptions: `search`, then one `nameserver` line each, then `options`).

- ClusterFirst (the default), or ClusterFirstWithHostNet: the kubelet's --cluster-dns
  (kubeadm: the kube-dns Service's 10.96.0.10), the search path
  `<ns>.svc.<domain> svc.<domain> <domain>` followed by the node's own search domains, and
  `ndots:5`.  A hostNetwork pod with ClusterFirst falls back to Default, as upstream does.
- Default: the node's resolv.conf (the kubelet's --resolv-conf), here the simulated upstream
  resolver every node uses.
- None: nothing but the pod's dnsConfig.
dnsConfig's nameservers and searches are appended (duplicates dropped, first kept) and its
options merged by name, a later value replacing an earlier one (appendDNSConfig, mergeDNSOptions).
Then formDNSConfigFitsLimits: at most 3 nameservers (MaxDNSNameservers), at most 32 search
domains of at most 253 characters each, 2048 characters in all (MaxDNSSearchPaths /
MaxDNSSearchListChars with ExpandedDNSConfig, GA since 1.28); what is cut is said in a
DNSConfigForming warning event on the pod.
"""
from __future__ import annotations

CLUSTER_DOMAIN = "cluster.local"      # the kubelet's --cluster-domain (kubeadm's dnsDomain)
# The node's /etc/resolv.conf: the simulated network's upstream resolver (the gateway).
HOST_NAMESERVERS = ("192.168.0.1",)
HOST_SEARCHES: tuple[str, ...] = ()
HOST_OPTIONS: tuple[str, ...] = ()
DEFAULT_DNS_OPTIONS = ("ndots:5",)
MAX_NAMESERVERS = 3              # validation.MaxDNSNameservers
MAX_SEARCH_PATHS = 32            # validation.MaxDNSSearchPathsExpanded
MAX_SEARCH_CHARS = 2048          # validation.MaxDNSSearchListCharsExpanded
MAX_SEARCH_LENGTH = 253          # utilvalidation.DNS1123SubdomainMaxLength


def _dedup(items: list[str]) -> list[str]:
    """omitDuplicates: the first occurrence of each, in order."""
    seen, out = set(), []
    for i in items:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def _merge_options(existing: list[str], extra: list[dict]) -> list[str]:
    """mergeDNSOptions: options by name, a later value replacing an earlier one."""
    merged: dict[str, str | None] = {}
    for o in existing:
        name, _, value = o.partition(":")
        merged[name] = value if _ else None
    for o in extra:
        if isinstance(o, dict) and isinstance(o.get("name"), str):
            merged[o["name"]] = o.get("value") if isinstance(o.get("value"), str) else None
    return [n if v is None else f"{n}:{v}" for n, v in merged.items()]


def fits_limits(servers: list[str], searches: list[str]) -> tuple[list[str], list[str], list[str]]:
    """formDNSNameserversFitsLimits and formDNSSearchFitsLimits: (nameservers, searches, the
    DNSConfigForming messages for what was omitted)."""
    messages = []
    if len(servers) > MAX_NAMESERVERS:
        servers = servers[:MAX_NAMESERVERS]
        messages.append("Nameserver limits were exceeded, some nameservers have been omitted, "
                        f"the applied nameserver line is: {' '.join(servers)}")
    kept, exceeded = searches[:MAX_SEARCH_PATHS], len(searches) > MAX_SEARCH_PATHS
    searches = [s for s in kept if len(s) <= MAX_SEARCH_LENGTH]   # glibc 2.28 aborts on longer
    exceeded = exceeded or len(searches) < len(kept)
    while len(" ".join(searches)) > MAX_SEARCH_CHARS:
        searches, exceeded = searches[:-1], True      # cut from the end until the line fits
    if exceeded:
        messages.append("Search Line limits were exceeded, some search paths have been omitted, "
                        f"the applied search line is: {' '.join(searches)}")
    return servers, searches, messages


def pod_dns(pod: dict, cluster_dns: list[str], domain: str = CLUSTER_DOMAIN) -> tuple[list[str], list[str], list[str]]:
    """(nameservers, searches, options) for the pod."""
    servers, searches, options, _ = pod_dns_config(pod, cluster_dns, domain)
    return servers, searches, options


def pod_dns_config(pod: dict, cluster_dns: list[str], domain: str = CLUSTER_DOMAIN):
    """GetPodDNS: (nameservers, searches, options, DNSConfigForming messages)."""
    spec = pod.get("spec") or {}
    ns = (pod.get("metadata") or {}).get("namespace") or "default"
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "None":
        kind = "none"
    elif policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not spec.get("hostNetwork")):
        kind = "cluster"
    else:
        kind = "host"   # Default, and ClusterFirst on the host's network
    if kind == "cluster" and not cluster_dns:
        kind = "host"   # upstream also records a MissingClusterDNS event
    if kind == "cluster":
        servers = list(cluster_dns)
        searches = [f"{ns}.svc.{domain}", f"svc.{domain}", domain, *HOST_SEARCHES]
        options = list(DEFAULT_DNS_OPTIONS)
    elif kind == "host":
        servers, searches, options = list(HOST_NAMESERVERS), list(HOST_SEARCHES), list(HOST_OPTIONS)
    else:
        servers, searches, options = [], [], []
    cfg = spec.get("dnsConfig") or {}
    if isinstance(cfg, dict):
        servers = _dedup(servers + [s for s in cfg.get("nameservers") or [] if isinstance(s, str)])
        searches = _dedup(searches + [s for s in cfg.get("searches") or [] if isinstance(s, str)])
        options = _merge_options(options, cfg.get("options") or [])
    servers, searches, messages = fits_limits(servers, searches)
    return servers, searches, options, messages


def resolv_conf(pod: dict, cluster_dns: list[str], domain: str = CLUSTER_DOMAIN) -> str:
    """/etc/resolv.conf as containerd writes it from the kubelet's DNSConfig."""
    servers, searches, options = pod_dns(pod, cluster_dns, domain)
    out = ""
    if searches:
        out += f"search {' '.join(searches)}\n"
    out += "".join(f"nameserver {s}\n" for s in servers)
    if options:
        out += f"options {' '.join(options)}\n"
    return out
