"""Protobuf descriptors of the review kinds `kubectl auth can-i` / `auth whoami` post (sim/api/
reviews.py): kubectl >= 1.32 sends them through client-go's typed clients as protobuf.  Field
numbers from k8s.io/api/authorization/v1 and authentication/v1 generated.proto; registered into
cluster.api.protobuf's table on import (cluster/api/discovery.py imports this module)."""
from __future__ import annotations

from cluster.api import protobuf
from cluster.api.protobuf import OBJECT_META, POINTER as _POINTER  # a pointer: kept when sent, even empty

FIELD_SELECTOR_REQUIREMENT = {1: ("key", "string", True), 2: ("operator", "string", True),
                              3: ("values", ("repeated", "string"), True)}
LABEL_SELECTOR_REQUIREMENT = FIELD_SELECTOR_REQUIREMENT
RESOURCE_ATTRIBUTES = {1: ("namespace", "string", True), 2: ("verb", "string", True), 3: ("group", "string", True),
                       4: ("version", "string", True), 5: ("resource", "string", True),
                       6: ("subresource", "string", True), 7: ("name", "string", True),
                       8: ("fieldSelector", {1: ("rawSelector", "string", True),
                                             2: ("requirements", ("repeated", FIELD_SELECTOR_REQUIREMENT), True)},
                           _POINTER),
                       9: ("labelSelector", {1: ("rawSelector", "string", True),
                                             2: ("requirements", ("repeated", LABEL_SELECTOR_REQUIREMENT), True)},
                           _POINTER)}
NON_RESOURCE_ATTRIBUTES = {1: ("path", "string", True), 2: ("verb", "string", True)}
SELF_SUBJECT_ACCESS_REVIEW = {
    1: ("metadata", OBJECT_META, False),
    2: ("spec", {1: ("resourceAttributes", RESOURCE_ATTRIBUTES, _POINTER),
                 2: ("nonResourceAttributes", NON_RESOURCE_ATTRIBUTES, _POINTER)}, False),
}
SELF_SUBJECT_RULES_REVIEW = {1: ("metadata", OBJECT_META, False),
                             2: ("spec", {1: ("namespace", "string", True)}, False)}
SELF_SUBJECT_REVIEW = {1: ("metadata", OBJECT_META, False)}

protobuf.KINDS.update({
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): SELF_SUBJECT_ACCESS_REVIEW,
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): SELF_SUBJECT_RULES_REVIEW,
    ("authentication.k8s.io/v1", "SelfSubjectReview"): SELF_SUBJECT_REVIEW,
})
