"""Endpoints (pkg/registry/core/endpoint, pkg/apis/core/validation ValidateEndpoints): core/v1,
namespaced, short name "ep"; deprecated since 1.33 in favour of discovery.k8s.io/v1
EndpointSlice, still written by the Endpoints controller (sim/controllers/endpoints.py) for
every Service with a selector.

An Endpoints object is named after its Service and holds subsets: each a set of addresses
(ready), notReadyAddresses and the ports they all share.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import INT32, STRING, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, TYPE_META
from sim.api.validation import invalid, not_supported, required
from sim.registry.discovery.endpointslices import OBJECT_REFERENCE, validate_non_special_ip
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

# k8s.io/api/core/v1/types.go
ENDPOINT_ADDRESS = struct("v1.EndpointAddress", ip=STRING, hostname=STRING, nodeName=STRING, targetRef=OBJECT_REFERENCE)
ENDPOINT_PORT = struct("v1.EndpointPort", name=STRING, port=INT32, protocol=enum("v1.Protocol"), appProtocol=STRING)
ENDPOINTS = struct("v1.Endpoints", **TYPE_META, metadata=OBJECT_META,
                   subsets=Slice(struct("v1.EndpointSubset", addresses=Slice(ENDPOINT_ADDRESS),
                                        notReadyAddresses=Slice(ENDPOINT_ADDRESS), ports=Slice(ENDPOINT_PORT))))

LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
MAX_CAPACITY = 1000   # the Endpoints controller's maxCapacity


def default_endpoints(obj: dict) -> dict:
    """SetDefaults_Endpoints: a port's protocol defaults to TCP."""
    obj = deep_copy(obj)
    obj["apiVersion"], obj["kind"] = "v1", "Endpoints"
    for subset in obj.get("subsets") or []:
        for port in (subset or {}).get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
    return obj


def _validate_address(addr: dict, field: str) -> list:
    """validateEndpointAddress."""
    errs = []
    ip = addr.get("ip")
    try:
        valid = isinstance(ip, str) and ipaddress.ip_address(ip) is not None
    except ValueError:
        valid = False
    if not valid:
        errs.append(invalid(f"{field}.ip", ip, "must be a valid IP address"))
    else:
        errs += validate_non_special_ip(ip, f"{field}.ip")
    if addr.get("hostname"):
        errs += [invalid(f"{field}.hostname", addr["hostname"], m) for m in v.dns1123_label_errors(addr["hostname"])]
    if addr.get("nodeName"):
        errs += [invalid(f"{field}.nodeName", addr["nodeName"], m) for m in v.dns1123_subdomain_errors(addr["nodeName"])]
    return errs


def _validate_port(port: dict, require_name: bool, field: str) -> list:
    """validateEndpointPort."""
    errs = []
    name = port.get("name") or ""
    if require_name and not name:
        errs.append(required(f"{field}.name"))
    elif name:
        errs += [invalid(f"{field}.name", name, m) for m in v.dns1123_label_errors(name)]
    p = port.get("port")
    if not (isinstance(p, int) and 0 < p < 65536):
        errs.append(invalid(f"{field}.port", p, v.PORT_RANGE_MSG))
    protocol = port.get("protocol")
    if not protocol:
        errs.append(required(f"{field}.protocol"))
    elif protocol not in v.PROTOCOLS:
        errs.append(not_supported(f"{field}.protocol", protocol, v.PROTOCOLS))
    return errs


def validate(ep: dict) -> list:
    """ValidateEndpoints: ObjectMeta, then every subset (ValidateEndpointsSpecificAnnotations aside)."""
    errs = v.validate_object_meta(ep, namespaced=True)
    for i, ss in enumerate(ep.get("subsets") or []):
        ss = ss if isinstance(ss, dict) else {}
        path = f"subsets[{i}]"
        if not ss.get("addresses") and not ss.get("notReadyAddresses"):
            errs.append(required(path, "must specify `addresses` or `notReadyAddresses`"))
        for j, addr in enumerate(ss.get("addresses") or []):
            errs += _validate_address(addr or {}, f"{path}.addresses[{j}]")
        for j, addr in enumerate(ss.get("notReadyAddresses") or []):
            errs += _validate_address(addr or {}, f"{path}.notReadyAddresses[{j}]")
        ports = ss.get("ports") or []
        for j, port in enumerate(ports):
            errs += _validate_port(port or {}, len(ports) > 1, f"{path}.ports[{j}]")
    return errs


class EndpointsStrategy(Strategy):
    default_copies = True

    def default(self, obj, ctx):
        return default_endpoints(obj)

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate(new)


# -- printer (printers.go printEndpoints / formatEndpoints) ------------------------------------
def format_endpoints(ep: dict, max_: int = 3) -> str:
    """formatEndpoints(endpoints, nil): the ready addresses as ip:port for every port, three at
    most; "<none>" without subsets (not-ready-only subsets print empty, as upstream's do)."""
    subsets = ep.get("subsets") or []
    if not subsets:
        return "<none>"
    items, more, count = [], False, 0
    for ss in subsets:
        addresses = ss.get("addresses") or []
        ports = ss.get("ports") or []
        if not ports:   # headless Services may have no ports
            count += len(addresses)
            for a in addresses:
                if len(items) == max_:
                    more = True
                    break
                items.append(a.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for a in addresses:
                if len(items) == max_:
                    more = True
                    break
                ip = a.get("ip", "")
                host = f"[{ip}]" if ":" in ip else ip   # net.JoinHostPort
                items.append(f"{host}:{port.get('port')}")
    ret = ",".join(items)
    return f"{ret} + {count - max_} more..." if more else ret


ENDPOINTS_COLUMNS = [
    NAME,
    col("Endpoints", description="The set of all endpoints is the union of all subsets. Addresses are placed into "
                                 "subsets according to the IPs they share. A single address with multiple ports, "
                                 "some of which are ready and some of which are not (because they come from "
                                 "different containers) will result in the address being displayed in different "
                                 "subsets for the different ports. No address will appear in both Addresses and "
                                 "NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a "
                                 "service."),
    AGE,
]


def endpoints_row(ep: dict, now: float) -> list[Any]:
    md = ep.get("metadata", {})
    return [md.get("name", ""), format_endpoints(ep), since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("endpoints", "", "v1", "Endpoints", True, "/registry/services/endpoints/", ("ep",), "endpoints",
                    (), EndpointsStrategy(), ENDPOINTS, printer=Printer(ENDPOINTS_COLUMNS, endpoints_row))
