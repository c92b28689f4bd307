"""EndpointSlices (pkg/registry/discovery/endpointslice, pkg/apis/discovery/validation):
discovery.k8s.io/v1, namespaced, generation tracked, no status subresource.

A slice holds up to 1000 endpoints (the EndpointSlice controller, sim/controllers/endpointslice.py,
puts at most 100 in one) of one addressType (IPv4, IPv6 or FQDN), each with 1-100 addresses,
its conditions (ready, serving, terminating), and where it runs (nodeName, zone, hostname,
targetRef); and the ports every endpoint of the slice shares.  The label
kubernetes.io/service-name names the Service it belongs to, and
endpointslice.kubernetes.io/managed-by the controller that owns it.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import BOOL, INT32, STRING, Map, Slice, enum, fields, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, TYPE_META, UID
from sim.api.validation import invalid, not_supported, required
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

GROUP = "discovery.k8s.io"

# Labels (k8s.io/api/discovery/v1/well_known_labels.go)
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
LABEL_SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
LABEL_HEADLESS = "service.kubernetes.io/headless"   # v1.IsHeadlessService
CONTROLLER_NAME = "endpointslice-controller.k8s.io"  # the managed-by value of the EndpointSlice controller

IPV4, IPV6, FQDN = "IPv4", "IPv6", "FQDN"
SUPPORTED_ADDRESS_TYPES = (FQDN, IPV4, IPV6)        # sets.List: sorted
SUPPORTED_PORT_PROTOCOLS = v.PROTOCOLS
MAX_ADDRESSES, MAX_PORTS, MAX_ENDPOINTS, MAX_ZONE_HINTS = 100, 20000, 1000, 8

# core/v1 ObjectReference (an endpoint's targetRef)
OBJECT_REFERENCE = struct("v1.ObjectReference", **fields("kind", "namespace", "name"), uid=UID,
                          **fields("apiVersion", "resourceVersion", "fieldPath"))

# k8s.io/api/discovery/v1/types.go
ENDPOINT = struct(
    "v1.Endpoint", addresses=Slice(STRING),
    conditions=struct("v1.EndpointConditions", ready=BOOL, serving=BOOL, terminating=BOOL),
    hostname=STRING, targetRef=OBJECT_REFERENCE, deprecatedTopology=Map(STRING), nodeName=STRING, zone=STRING,
    hints=struct("v1.EndpointHints", forZones=Slice(struct("v1.ForZone", name=STRING)),
                 forNodes=Slice(struct("v1.ForNode", name=STRING))))
ENDPOINT_PORT = struct("v1.EndpointPort", name=STRING, protocol=enum("v1.Protocol"), port=INT32, appProtocol=STRING)
ENDPOINT_SLICE = struct("v1.EndpointSlice", **TYPE_META, metadata=OBJECT_META,
                        addressType=enum("v1.AddressType"), endpoints=Slice(ENDPOINT), ports=Slice(ENDPOINT_PORT))


# -- defaults (pkg/apis/discovery/v1/defaults.go) ---------------------------------------------
def default_endpoint_slice(obj: dict) -> dict:
    """SetDefaults_EndpointPort: a port's name defaults to "" and its protocol to TCP."""
    obj = deep_copy(obj)
    obj["apiVersion"], obj["kind"] = f"{GROUP}/v1", "EndpointSlice"
    for port in obj.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("name", "")
            port.setdefault("protocol", "TCP")
    return obj


# -- validation (pkg/apis/discovery/validation/validation.go) ---------------------------------
_LINK_LOCAL_MULTICAST = (ipaddress.ip_network("224.0.0.0/24"), ipaddress.ip_network("ff02::/16"))


def validate_non_special_ip(address: str, field: str, ip=None) -> list:
    """apivalidation.ValidateNonSpecialIP (`ip`: the address already parsed)."""
    ip = ip if ip is not None else ipaddress.ip_address(address)
    if ip.is_unspecified:
        return [invalid(field, address, f"may not be unspecified ({address})")]
    if ip.is_loopback:
        return [invalid(field, address, "may not be in the loopback range (127.0.0.0/8, ::1/128)")]
    if ip.is_link_local:
        return [invalid(field, address, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")]
    if any(ip in net for net in _LINK_LOCAL_MULTICAST if net.version == ip.version):
        return [invalid(field, address, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")]
    return []


def _validate_ip(address: Any, family: int, field: str) -> list:
    """validation.IsValidIPv4Address / IsValidIPv6Address, then ValidateNonSpecialIP."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else None
    except ValueError:
        ip = None
    if ip is None or ip.version != family:
        return [invalid(field, address, f"must be a valid IPv{family} address")]
    return validate_non_special_ip(address, field, ip)


def validate_endpoints(endpoints: list, address_type: str, field: str = "endpoints") -> list:
    """validateEndpoints."""
    if len(endpoints) > MAX_ENDPOINTS:
        return [v.too_many(field, len(endpoints), MAX_ENDPOINTS)]
    errs = []
    for i, ep in enumerate(endpoints):
        ep = ep if isinstance(ep, dict) else {}
        path = f"{field}[{i}]"
        addresses = ep.get("addresses") or []
        if not addresses:
            errs.append(required(f"{path}.addresses", "must contain at least 1 address"))
        elif len(addresses) > MAX_ADDRESSES:
            errs.append(v.too_many(f"{path}.addresses", len(addresses), MAX_ADDRESSES))
        for j, address in enumerate(addresses):
            # Known address types are validated; unknown ones fall through.
            if address_type == IPV4:
                errs += _validate_ip(address, 4, f"{path}.addresses[{j}]")
            elif address_type == IPV6:
                errs += _validate_ip(address, 6, f"{path}.addresses[{j}]")
            elif address_type == FQDN:
                errs += [invalid(f"{path}.addresses[{j}]", address, m) for m in v.dns1123_subdomain_errors(address)]
        if ep.get("nodeName") is not None:
            errs += [invalid(f"{path}.nodeName", ep["nodeName"], m) for m in v.dns1123_subdomain_errors(ep["nodeName"])]
        if ep.get("hostname") is not None:
            errs += [invalid(f"{path}.hostname", ep["hostname"], m) for m in v.dns1123_label_errors(ep["hostname"])]
        zones = ((ep.get("hints") or {}).get("forZones")) or []
        if len(zones) > MAX_ZONE_HINTS:
            errs.append(v.too_many(f"{path}.hints.forZones", len(zones), MAX_ZONE_HINTS))
    return errs


def validate_ports(ports: list, field: str = "ports") -> list:
    """validatePorts."""
    if len(ports) > MAX_PORTS:
        return [v.too_many(field, len(ports), MAX_PORTS)]
    errs, names = [], set()
    for i, port in enumerate(ports):
        port = port if isinstance(port, dict) else {}
        path = f"{field}[{i}]"
        name = port.get("name") or ""
        if name:
            errs += [invalid(f"{path}.name", name, m) for m in v.dns1123_label_errors(name)]
        if name in names:
            errs.append(v.duplicate(f"{path}.name", name))
        names.add(name)
        protocol = port.get("protocol")
        if protocol is None:
            errs.append(required(f"{path}.protocol"))
        elif protocol not in SUPPORTED_PORT_PROTOCOLS:
            errs.append(not_supported(f"{path}.protocol", protocol, SUPPORTED_PORT_PROTOCOLS))
        if port.get("appProtocol") is not None:
            errs += [invalid(f"{path}.appProtocol", port["appProtocol"], m)
                     for m in v.qualified_name_errors(port["appProtocol"])]
    return errs


def validate_address_type(address_type: Any) -> list:
    if not address_type:
        return [required("addressType")]
    if address_type not in SUPPORTED_ADDRESS_TYPES:
        return [not_supported("addressType", address_type, SUPPORTED_ADDRESS_TYPES)]
    return []


def validate(es: dict) -> list:
    """ValidateEndpointSlice (the name: NameIsDNSSubdomain)."""
    return (v.validate_object_meta(es, namespaced=True) + validate_address_type(es.get("addressType"))
            + validate_endpoints(es.get("endpoints") or [], es.get("addressType"))
            + validate_ports(es.get("ports") or []))


def validate_update(new: dict, old: dict) -> list:
    """ValidateEndpointSliceUpdate: the addressType is immutable."""
    return validate(new) + v.validate_immutable_field(new.get("addressType"), old.get("addressType"), "addressType")


class EndpointSliceStrategy(Strategy):
    tracks_generation = True
    default_copies = True

    def default(self, obj, ctx):
        return default_endpoint_slice(obj)

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)


# -- printer (printers.go printEndpointSlice) -------------------------------------------------
def list_with_more(items: list[str], more: bool, count: int, max_: int) -> str:
    """listWithMoreString."""
    ret = ",".join(items)
    if more:
        return f"{ret} + {count - max_} more..."
    return ret or "<unset>"


def format_discovery_ports(ports: list) -> str:
    """formatDiscoveryPorts: the first three ports' numbers (a name, or * when neither is set)."""
    items, more, max_ = [], False, 3
    for port in ports:
        if len(items) < max_:
            if port.get("port") is not None:
                items.append(str(port["port"]))
            elif port.get("name") is not None:
                items.append(port["name"])
            else:
                items.append("*")
        elif len(items) == max_:
            more = True
    return list_with_more(items, more, len(ports), max_)


def format_discovery_endpoints(endpoints: list, max_: int = 3) -> str:
    """formatDiscoveryEndpoints: the first three addresses (the count of the rest is of endpoints)."""
    if not endpoints:
        return "<unset>"
    items, more = [], False
    for ep in endpoints:
        for address in ep.get("addresses") or []:
            if len(items) >= max_:
                more = True
                break
            items.append(address)
        if more:
            break
    ret = ",".join(items)
    return f"{ret} + {len(endpoints) - max_} more..." if more else ret


ENDPOINT_SLICE_COLUMNS = [
    NAME,
    col("AddressType", description="addressType specifies the type of address carried by this EndpointSlice. "
                                   "All addresses in this slice must be the same type. This field is immutable "
                                   "after creation. The following address types are currently supported: * IPv4: "
                                   "Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: "
                                   "Represents a Fully Qualified Domain Name."),
    col("Ports", description="ports specifies the list of network ports exposed by each endpoint in this slice. "
                             "Each port must have a unique name. When ports is empty, it indicates that there are "
                             "no defined ports. When a port is defined with a nil port value, it indicates \"all "
                             "ports\". Each slice may include a maximum of 100 ports."),
    col("Endpoints", description="endpoints is a list of unique endpoints in this slice. Each slice may include a "
                                 "maximum of 1000 endpoints."),
    AGE,
]


def endpoint_slice_row(es: dict, now: float) -> list[Any]:
    md = es.get("metadata", {})
    return [md.get("name", ""), es.get("addressType", ""), format_discovery_ports(es.get("ports") or []),
            format_discovery_endpoints(es.get("endpoints") or []), since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("endpointslices", GROUP, "v1", "EndpointSlice", True, "/registry/endpointslices/", (),
                    "endpointslice", (), EndpointSliceStrategy(), ENDPOINT_SLICE,
                    printer=Printer(ENDPOINT_SLICE_COLUMNS, endpoint_slice_row))
