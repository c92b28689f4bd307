"""Protobuf descriptors of networking.k8s.io/v1 Ingress and IngressClass (`kubectl create
ingress` sends an Ingress as protobuf from 1.32).  Field numbers and names are k8s.io/api's
networking/v1 generated.proto; POINTER and omitempty follow the Go types (types.go) as in
cluster/api/protobuf_core.py.  Registered into cluster.api.protobuf.KINDS on import."""
from __future__ import annotations

from cluster.api.protobuf import INLINE, KINDS, OBJECT_META, POINTER
from cluster.api.protobuf_core import TYPED_LOCAL_OBJECT_REFERENCE

SERVICE_BACKEND_PORT = {1: ("name", "string", True), 2: ("number", "int32", True)}
INGRESS_SERVICE_BACKEND = {1: ("name", "string", False), 2: ("port", SERVICE_BACKEND_PORT, False)}
INGRESS_BACKEND = {4: ("service", INGRESS_SERVICE_BACKEND, POINTER), 3: ("resource", TYPED_LOCAL_OBJECT_REFERENCE, POINTER)}
HTTP_INGRESS_PATH = {1: ("path", "string", True), 3: ("pathType", "string", POINTER),
                     2: ("backend", INGRESS_BACKEND, False)}
HTTP_INGRESS_RULE_VALUE = {1: ("paths", ("repeated", HTTP_INGRESS_PATH), False)}
INGRESS_RULE_VALUE = {1: ("http", HTTP_INGRESS_RULE_VALUE, POINTER)}
INGRESS_RULE = {1: ("host", "string", True), 2: ("ingressRuleValue", INGRESS_RULE_VALUE, INLINE)}
INGRESS_TLS = {1: ("hosts", ("repeated", "string"), True), 2: ("secretName", "string", True)}
INGRESS_SPEC = {4: ("ingressClassName", "string", POINTER), 1: ("defaultBackend", INGRESS_BACKEND, POINTER),
                2: ("tls", ("repeated", INGRESS_TLS), True), 3: ("rules", ("repeated", INGRESS_RULE), True)}
INGRESS_PORT_STATUS = {1: ("port", "int32", False), 2: ("protocol", "string", False), 3: ("error", "string", POINTER)}
INGRESS_LOAD_BALANCER_INGRESS = {1: ("ip", "string", True), 2: ("hostname", "string", True),
                                 4: ("ports", ("repeated", INGRESS_PORT_STATUS), True)}
INGRESS_STATUS = {1: ("loadBalancer", {1: ("ingress", ("repeated", INGRESS_LOAD_BALANCER_INGRESS), True)}, False)}
INGRESS = {1: ("metadata", OBJECT_META, False), 2: ("spec", INGRESS_SPEC, False), 3: ("status", INGRESS_STATUS, False)}
INGRESS_CLASS_PARAMETERS_REFERENCE = {1: ("apiGroup", "string", POINTER), 2: ("kind", "string", False),
                                      3: ("name", "string", False), 4: ("scope", "string", POINTER),
                                      5: ("namespace", "string", POINTER)}
INGRESS_CLASS_SPEC = {1: ("controller", "string", True), 2: ("parameters", INGRESS_CLASS_PARAMETERS_REFERENCE, POINTER)}
INGRESS_CLASS = {1: ("metadata", OBJECT_META, False), 2: ("spec", INGRESS_CLASS_SPEC, False)}

KINDS.update({
    ("networking.k8s.io/v1", "Ingress"): INGRESS,
    ("networking.k8s.io/v1", "IngressClass"): INGRESS_CLASS,
})
