"""Protobuf descriptor of certificates.k8s.io/v1 CertificateSigningRequest: `kubectl certificate
approve|deny` send it through the typed client's UpdateApproval, as protobuf from 1.32.  Field
numbers and names are k8s.io/api's certificates/v1 generated.proto; omitempty and pointers follow
types.go (signerName, a condition's type and status are always written; spec.request and
status.certificate are []byte, which gogo-protobuf writes whenever they are not nil).
Registered into cluster.api.protobuf.KINDS on import."""
from __future__ import annotations

from cluster.api.protobuf import KINDS, OBJECT_META, POINTER, STRING_LIST, TIME

STRINGS = ("repeated", "string")
CONDITION = {1: ("type", "string", False), 6: ("status", "string", False), 2: ("reason", "string", True),
             3: ("message", "string", True), 4: ("lastUpdateTime", TIME, True),
             5: ("lastTransitionTime", TIME, True)}
SPEC = {1: ("request", "bytes", POINTER), 7: ("signerName", "string", False),
        8: ("expirationSeconds", "int32", POINTER), 5: ("usages", STRINGS, True), 2: ("username", "string", True),
        3: ("uid", "string", True), 4: ("groups", STRINGS, True), 6: ("extra", ("map", "string", STRING_LIST), True)}
STATUS = {1: ("conditions", ("repeated", CONDITION), True), 2: ("certificate", "bytes", POINTER)}
CERTIFICATE_SIGNING_REQUEST = {1: ("metadata", OBJECT_META, False), 2: ("spec", SPEC, False),
                               3: ("status", STATUS, True)}

KINDS[("certificates.k8s.io/v1", "CertificateSigningRequest")] = CERTIFICATE_SIGNING_REQUEST
