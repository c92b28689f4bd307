"""NetworkPolicies (pkg/registry/networking/networkpolicy, pkg/apis/networking/validation):
networking.k8s.io/v1, namespaced, short name "netpol", generation tracked, no status (the
alpha NetworkPolicyStatus field was removed in 1.28).

A policy selects pods of its namespace (spec.podSelector; empty: all of them) and lists the
traffic they accept (ingress rules: from peers, on ports) and may send (egress rules: to peers,
on ports).  A peer is a podSelector (this namespace), a namespaceSelector, both (AND), or an
ipBlock (a CIDR with exceptions).  What the rules mean for packets is sim/networkpolicy.py;
here is the API object: its Go type, its defaults (SetDefaults_NetworkPolicy,
SetDefaults_NetworkPolicyPort in pkg/apis/networking/v1/defaults.go), its validation
(ValidateNetworkPolicy / ValidateNetworkPolicyUpdate, validation.go), the CIDR warnings its
strategy answers (networkPolicyWarnings, strategy.go) and its printer (printNetworkPolicy:
NAME POD-SELECTOR AGE).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import INT32, INT_OR_STRING, STRING, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, STRINGS, TYPE_META
from sim.api.validation import GoSyntax, invalid, not_supported, required
from sim.registry.core.services import port_name_errors
from sim.registry.printers import AGE, NAME, Printer, col, selector_string, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

GROUP = "networking.k8s.io"
INGRESS, EGRESS = "Ingress", "Egress"
POLICY_TYPES = (INGRESS, EGRESS)             # validation.go's order: []string{Ingress, Egress}
PROTOCOLS = ("TCP", "UDP", "SCTP")           # ValidateNetworkPolicyPort's order

# k8s.io/api/networking/v1/types.go (every list +listType=atomic)
NETWORK_POLICY_PORT = struct("v1.NetworkPolicyPort", protocol=enum("v1.Protocol"), port=INT_OR_STRING,
                             endPort=INT32)
IP_BLOCK = struct("v1.IPBlock", cidr=STRING, **{"except": STRINGS})
NETWORK_POLICY_PEER = struct("v1.NetworkPolicyPeer", podSelector=LABEL_SELECTOR,
                             namespaceSelector=LABEL_SELECTOR, ipBlock=IP_BLOCK)
NETWORK_POLICY = struct(
    "v1.NetworkPolicy", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.NetworkPolicySpec", podSelector=LABEL_SELECTOR,
                ingress=Slice(struct("v1.NetworkPolicyIngressRule", ports=Slice(NETWORK_POLICY_PORT),
                                     **{"from": Slice(NETWORK_POLICY_PEER)})),
                egress=Slice(struct("v1.NetworkPolicyEgressRule", ports=Slice(NETWORK_POLICY_PORT),
                                    to=Slice(NETWORK_POLICY_PEER))),
                policyTypes=Slice(enum("v1.PolicyType"))))

# The peers of each rule list: ingress rules name them `from`, egress rules `to`.
PEERS = {"ingress": "from", "egress": "to"}


def _items(value) -> list:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


# -- defaults (pkg/apis/networking/v1/defaults.go) ----------------------------------------------
def default_network_policy(obj: dict) -> dict:
    """SetDefaults_NetworkPolicy: no policyTypes means Ingress, plus Egress when there are egress
    rules; SetDefaults_NetworkPolicyPort: a port's protocol defaults to TCP."""
    obj = deep_copy(obj)
    obj["apiVersion"], obj["kind"] = f"{GROUP}/v1", "NetworkPolicy"
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        return obj
    spec.setdefault("podSelector", {})
    for direction in PEERS:
        for rule in _items(spec.get(direction)):
            for port in _items(rule.get("ports")):
                if port.get("protocol") is None:
                    port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        spec["policyTypes"] = [INGRESS] + ([EGRESS] if spec.get("egress") else [])
    return obj


# -- validation (pkg/apis/networking/validation/validation.go) ----------------------------------
CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
_IPV4_SLOPPY = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)$")


def parse_cidr_sloppy(text: Any) -> tuple[ipaddress._BaseAddress, ipaddress._BaseNetwork] | None:
    """netutils.ParseCIDRSloppy: Go's net.ParseCIDR that still accepts leading zeros in IPv4
    octets and in the prefix length; (the address as written, its network) or None.  The
    StrictIPCIDRValidation gate (alpha, off) is not on, so an address with bits past the
    prefix ("10.0.0.1/8") is a valid CIDR naming 10.0.0.0/8 (with a warning)."""
    if not isinstance(text, str) or "/" not in text:
        return None
    addr_text, _, prefix_text = text.rpartition("/")
    if not prefix_text.isdigit():
        return None
    m = _IPV4_SLOPPY.match(addr_text)
    if m:
        octets = [int(o) for o in m.groups()]
        if any(o > 255 for o in octets):
            return None
        addr_text = ".".join(map(str, octets))
    elif "." in addr_text and ":" not in addr_text:
        return None
    try:
        addr = ipaddress.ip_address(addr_text)
        prefix = int(prefix_text)
        if prefix > addr.max_prefixlen:
            return None
        return addr, ipaddress.ip_network(f"{addr}/{prefix}", strict=False)
    except ValueError:
        return None


def cidr_warnings(field: str, text: str) -> list[str]:
    """utilvalidation.GetWarningsForCIDR for a value that parsed."""
    parsed = parse_cidr_sloppy(text)
    if parsed is None:
        return []
    addr, net = parsed
    warnings = []
    if addr != net.network_address:
        warnings.append(f'{field}: CIDR value "{text}" is ambiguous in this context (should be "{net}" or '
                        f'"{addr}/{addr.max_prefixlen}"?)')
    canonical_ip = text.rpartition("/")[0]
    try:
        strict = ipaddress.ip_address(canonical_ip)
        mapped = getattr(strict, "ipv4_mapped", None) is not None
    except ValueError:      # leading zeros: ParseCIDRSloppy took it, netip.ParsePrefix does not
        strict, mapped = None, False
    prefix_text = text.rpartition("/")[2]
    if strict is None or mapped or (prefix_text != "0" and prefix_text.startswith("0")):
        warnings.append(f'{field}: non-standard CIDR value "{text}" will be considered invalid in a future '
                        f'Kubernetes release: use "{net}"')
    elif not warnings and addr.version == 6 and f"{strict}/{prefix_text}" != text:
        warnings.append(f'{field}: IPv6 CIDR value "{text}" should be in RFC 5952 canonical format '
                        f'("{strict}/{prefix_text}")')
    return warnings


def validate_ip_block(block: dict, field: str, valid_old: frozenset = frozenset()) -> list:
    """ValidateIPBlock: cidr required and a CIDR; each except a CIDR strictly inside it.  CIDRs
    the stored object already had are not revalidated (ValidateNetworkPolicyUpdate)."""
    cidr = block.get("cidr") or ""
    if not cidr:
        return [required(f"{field}.cidr", "")]
    parsed = parse_cidr_sloppy(cidr)
    errs = [] if parsed is not None or cidr in valid_old else [invalid(f"{field}.cidr", cidr, CIDR_MSG)]
    if parsed is None:
        return errs
    net = parsed[1]
    for i, text in enumerate(block.get("except") or []):
        path = f"{field}.except[{i}]"
        ex = parse_cidr_sloppy(text)
        if ex is None:
            if text not in valid_old:
                errs.append(invalid(path, text, CIDR_MSG))
            continue
        ex_net = ex[1]
        # !cidrIPNet.Contains(exceptCIDR.IP) || cidrMaskLen >= exceptMaskLen
        if ex_net.version != net.version or ex_net.network_address not in net or net.prefixlen >= ex_net.prefixlen:
            errs.append(invalid(path, text, "must be a strict subset of `cidr`"))
    return errs


def validate_port(port: dict, field: str) -> list:
    """ValidateNetworkPolicyPort."""
    errs = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        errs.append(not_supported(f"{field}.protocol", protocol, PROTOCOLS))
    number, end = port.get("port"), port.get("endPort")
    if number is not None:
        if isinstance(number, int) and not isinstance(number, bool):
            if not 1 <= number <= 65535:
                errs.append(invalid(f"{field}.port", number, v.PORT_RANGE_MSG))
            if end is not None:
                if end < number:
                    errs.append(invalid(f"{field}.endPort", end, "must be greater than or equal to `port`"))
                if not 1 <= end <= 65535:
                    errs.append(invalid(f"{field}.endPort", end, v.PORT_RANGE_MSG))
        else:
            if end is not None:
                errs.append(invalid(f"{field}.endPort", end, "may not be specified when `port` is non-numeric"))
            errs += [invalid(f"{field}.port", str(number), m) for m in port_name_errors(str(number))]
    elif end is not None:
        errs.append(invalid(f"{field}.endPort", end, "may not be specified when `port` is not specified"))
    return errs


def validate_peer(peer: dict, field: str, allow_invalid_label_value: bool, valid_old: frozenset) -> list:
    """ValidateNetworkPolicyPeer: at least one of podSelector, namespaceSelector, ipBlock, and
    ipBlock alone."""
    errs, count = [], 0
    for name in ("podSelector", "namespaceSelector"):
        if peer.get(name) is not None:
            count += 1
            errs += v.validate_label_selector(peer[name], f"{field}.{name}", allow_invalid_label_value)
    if peer.get("ipBlock") is not None:
        count += 1
        errs += validate_ip_block(peer["ipBlock"] if isinstance(peer["ipBlock"], dict) else {},
                                  f"{field}.ipBlock", valid_old)
    if count == 0:
        errs.append(required(field, "must specify a peer"))
    elif count > 1 and peer.get("ipBlock") is not None:
        errs.append(v.forbidden(field, "may not specify both ipBlock and another peer"))
    return errs


def _go_policy_types(types: list) -> GoSyntax:
    return GoSyntax("&[]networking.PolicyType{" + ", ".join(f'"{t}"' for t in types) + "}")


def validate_spec(spec: dict, allow_invalid_label_value: bool = False, valid_old: frozenset = frozenset()) -> list:
    """ValidateNetworkPolicySpec."""
    errs = v.validate_label_selector(spec.get("podSelector") or {}, "spec.podSelector", allow_invalid_label_value)
    for direction, peers in PEERS.items():
        for i, rule in enumerate(_items(spec.get(direction))):
            path = f"spec.{direction}[{i}]"
            for j, port in enumerate(_items(rule.get("ports"))):
                errs += validate_port(port, f"{path}.ports[{j}]")
            for j, peer in enumerate(_items(rule.get(peers))):
                errs += validate_peer(peer, f"{path}.{peers}[{j}]", allow_invalid_label_value, valid_old)
    types = spec.get("policyTypes") or []
    if len(types) > len(POLICY_TYPES):
        return errs + [invalid("spec.policyTypes", _go_policy_types(types), "may not specify more than two policyTypes")]
    for i, t in enumerate(types):
        if t not in POLICY_TYPES:
            errs.append(not_supported(f"spec.policyTypes[{i}]", t, POLICY_TYPES))
    return errs


def validate(np: dict, old: dict | None = None) -> list:
    """ValidateNetworkPolicy (and, with the stored object, ValidateNetworkPolicyUpdate's
    ratcheting: an update may keep an invalid podSelector label value or CIDR it already had)."""
    errs = v.validate_object_meta(np, namespaced=True)
    spec = np.get("spec")
    if not isinstance(spec, dict):
        return errs
    allow, valid_old = False, frozenset()
    if old is not None:
        old_spec = old.get("spec") or {}
        allow = bool(v.validate_label_selector(old_spec.get("podSelector") or {}, "spec.podSelector"))
        valid_old = frozenset(c for _, block in ip_blocks(old_spec)
                              for c in [block.get("cidr"), *(block.get("except") or [])] if isinstance(c, str))
    return errs + validate_spec(spec, allow, valid_old)


def ip_blocks(spec: dict):
    """(path, ipBlock) of every ipBlock peer of a spec, in order."""
    for direction, peers in PEERS.items():
        for i, rule in enumerate(_items(spec.get(direction))):
            for j, peer in enumerate(_items(rule.get(peers))):
                if isinstance(peer.get("ipBlock"), dict):
                    yield f"spec.{direction}[{i}].{peers}[{j}].ipBlock", peer["ipBlock"]


def warnings(np: dict) -> list[str]:
    """networkPolicyWarnings (strategy.go): GetWarningsForCIDR of every cidr and except."""
    out = []
    for path, block in ip_blocks(np.get("spec") or {}):
        out += cidr_warnings(f"{path}.cidr", block.get("cidr") or "")
        for k, text in enumerate(block.get("except") or []):
            out += cidr_warnings(f"{path}.except[{k}]", text)
    return out


class NetworkPolicyStrategy(Strategy):
    tracks_generation = True      # PrepareForCreate: Generation = 1; PrepareForUpdate: +1 on spec change
    default_copies = True

    def default(self, obj, ctx):
        return default_network_policy(obj)

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate(new, old)

    def warnings_on_create(self, obj):
        return warnings(obj)

    def field_type_info(self, res):
        from sim.api.fieldtypes import TypeInfo
        # json.Marshal of a zero NetworkPolicy: spec and its podSelector are structs, not pointers.
        return TypeInfo(res.schema, kind=res.kind,
                        zero={"metadata": {"creationTimestamp": None}, "spec": {"podSelector": {}}})


# -- printer (printers.go printNetworkPolicy) ---------------------------------------------------
NETWORK_POLICY_COLUMNS = [
    NAME,
    col("Pod-Selector", description="Selects the pods to which this NetworkPolicy object applies. The array of "
        "ingress rules is applied to any pods selected by this field. Multiple network policies can select the "
        "same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT "
        "optional and follows standard label selector semantics. An empty podSelector matches all pods in this "
        "namespace."),
    AGE,
]


def network_policy_row(np: dict, now: float) -> list[Any]:
    md = np.get("metadata") or {}
    return [md.get("name", ""), selector_string((np.get("spec") or {}).get("podSelector")),
            since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("networkpolicies", GROUP, "v1", "NetworkPolicy", True, "/registry/networkpolicies/",
                    ("netpol",), "networkpolicy", (), NetworkPolicyStrategy(), NETWORK_POLICY,
                    printer=Printer(NETWORK_POLICY_COLUMNS, network_policy_row))
