"""Protobuf descriptors of rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding and
ClusterRoleBinding (`kubectl create role|clusterrole|rolebinding|clusterrolebinding` send them
as protobuf from 1.32) and of authentication.k8s.io/v1 TokenRequest (`kubectl create token`).
Field numbers and names are k8s.io/api's rbac/v1 and authentication/v1 generated.proto; omitempty
and pointers follow the Go types (types.go); BoundObjectReference's `uID = 4` is `json:"uid"`.  Registered into cluster.api.protobuf.KINDS on import."""
from __future__ import annotations

from cluster.api.protobuf import KINDS, LABEL_SELECTOR, OBJECT_META, POINTER, TIME

STRINGS = ("repeated", "string")
POLICY_RULE = {1: ("verbs", STRINGS, False), 2: ("apiGroups", STRINGS, True), 3: ("resources", STRINGS, True),
               4: ("resourceNames", STRINGS, True), 5: ("nonResourceURLs", STRINGS, True)}
SUBJECT = {1: ("kind", "string", False), 2: ("apiGroup", "string", True), 3: ("name", "string", False),
           4: ("namespace", "string", True)}
ROLE_REF = {1: ("apiGroup", "string", False), 2: ("kind", "string", False), 3: ("name", "string", False)}
AGGREGATION_RULE = {1: ("clusterRoleSelectors", ("repeated", LABEL_SELECTOR), True)}
ROLE = {1: ("metadata", OBJECT_META, False), 2: ("rules", ("repeated", POLICY_RULE), False)}
CLUSTER_ROLE = {1: ("metadata", OBJECT_META, False), 2: ("rules", ("repeated", POLICY_RULE), False),
                3: ("aggregationRule", AGGREGATION_RULE, POINTER)}
BINDING = {1: ("metadata", OBJECT_META, False), 2: ("subjects", ("repeated", SUBJECT), True),
           3: ("roleRef", ROLE_REF, False)}
BOUND_OBJECT_REFERENCE = {1: ("kind", "string", True), 2: ("apiVersion", "string", True), 3: ("name", "string", True),
                          4: ("uid", "string", False)}
TOKEN_REQUEST = {1: ("metadata", OBJECT_META, False),
                 2: ("spec", {1: ("audiences", STRINGS, False), 4: ("expirationSeconds", "int64", POINTER),
                              3: ("boundObjectRef", BOUND_OBJECT_REFERENCE, POINTER)}, False),
                 3: ("status", {1: ("token", "string", False), 2: ("expirationTimestamp", TIME, False)}, False)}

KINDS.update({
    ("rbac.authorization.k8s.io/v1", "Role"): ROLE,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): CLUSTER_ROLE,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): BINDING,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): BINDING,
    ("authentication.k8s.io/v1", "TokenRequest"): TOKEN_REQUEST,
})
