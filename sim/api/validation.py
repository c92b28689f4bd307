"""Validation with field-level errors, worded as upstream words them
(k8s.io/apimachinery/pkg/util/validation/field/errors.go and pkg/apis/core/validation)."""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

from sim.api.quantity import QuantityError, parse_quantity
from sim.api.gofmt import go_float, go_strings
from sim.api.scheduling import (HIGHEST_USER_DEFINABLE_PRIORITY, PREEMPTION_POLICIES,
                                SYSTEM_PRIORITY_CLASS_PREFIX, is_known_system_priority_class)

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
_LABEL_RE = re.compile("^" + DNS1123_LABEL_FMT + "$")
_SUBDOMAIN_RE = re.compile("^" + DNS1123_SUBDOMAIN_FMT + "$")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                 "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
                 "regex used for validation is '" + DNS1123_SUBDOMAIN_FMT + "')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
             "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
             "regex used for validation is '" + DNS1123_LABEL_FMT + "')")
_QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@dataclass(frozen=True)
class GoSyntax:
    """A bad value already written as Go's %#v prints it (a struct or slice of the internal
    core types, which field.Error falls back to for values that are not simple)."""
    text: str


def _fmt_value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, GoSyntax):
        return v.text
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, dict):
        # fmt prints a map's keys sorted.
        return "map[string]string{" + ", ".join(f'"{k}":"{v[k]}"' for k in sorted(v)) + "}"
    return str(v)


@dataclass
class FieldError:
    field: str
    type: str  # Invalid, TypeInvalid, Required, Forbidden, Duplicate, NotFound, NotSupported, TooLong, TooMany, Internal
    value: Any = None
    detail: str = ""

    @property
    def cause_reason(self) -> str:
        return {"Invalid": "FieldValueInvalid", "Required": "FieldValueRequired",
                "Forbidden": "FieldValueForbidden", "Duplicate": "FieldValueDuplicate",
                "NotSupported": "FieldValueNotSupported", "TooLong": "FieldValueTooLong",
                "TooMany": "FieldValueTooMany", "TypeInvalid": "FieldValueTypeInvalid",
                "Internal": "InternalError", "NotFound": "FieldValueNotFound"}[self.type]

    def message(self) -> str:
        if self.type in ("Invalid", "TypeInvalid"):   # ErrorTypeTypeInvalid prints as "Invalid value"
            s = f"Invalid value: {_fmt_value(self.value)}"
        elif self.type == "TooMany":
            s = f"Too many: {_fmt_value(self.value)}"
        elif self.type == "Internal":
            s = "Internal error"
        elif self.type == "Required":
            s = "Required value"
        elif self.type == "Forbidden":
            s = "Forbidden"
        elif self.type == "Duplicate":
            s = f"Duplicate value: {_fmt_value(self.value)}"
        elif self.type == "NotFound":   # field.NotFound
            s = f"Not found: {_fmt_value(self.value)}"
        elif self.type == "NotSupported":
            s = f"Unsupported value: {_fmt_value(self.value)}"
        else:
            s = "Too long"
        return f"{s}: {self.detail}" if self.detail else s

    def text(self) -> str:
        return f"{self.field}: {self.message()}"


def invalid(field, value, detail):
    return FieldError(field, "Invalid", value, detail)


def required(field, detail=""):
    return FieldError(field, "Required", None, detail)


def forbidden(field, detail):
    return FieldError(field, "Forbidden", None, detail)


def duplicate(field, value):
    return FieldError(field, "Duplicate", value)


def too_many(field, actual: int, max_quantity: int):
    """field.TooMany: "Too many: <actual>: must have at most <max> items"."""
    return FieldError(field, "TooMany", actual, f"must have at most {max_quantity} items")


def type_invalid(field, value, detail):
    """field.TypeInvalid (ErrorTypeTypeInvalid): printed as "Invalid value", reason FieldValueTypeInvalid."""
    return FieldError(field, "TypeInvalid", value, detail)


def internal_error(field, detail):
    return FieldError(field, "Internal", None, detail)


def not_supported(field, value, supported):
    return FieldError(field, "NotSupported", value,
                      "supported values: " + ", ".join(f'"{s}"' for s in supported))


def is_dns1123_subdomain(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 253 and bool(_SUBDOMAIN_RE.fullmatch(name))


def is_dns1123_label(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 63 and bool(_LABEL_RE.fullmatch(name))


def validate_name(value, field: str, label: bool = False) -> list[FieldError]:
    if label:
        if not is_dns1123_label(value):
            detail = "must be no more than 63 characters" if isinstance(value, str) and len(value) > 63 else LABEL_MSG
            return [invalid(field, value, detail)]
    elif not is_dns1123_subdomain(value):
        detail = "must be no more than 253 characters" if isinstance(value, str) and len(value) > 253 else SUBDOMAIN_MSG
        return [invalid(field, value, detail)]
    return []


QUALIFIED_NAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', "
                      "and must start and end with an alphanumeric character (e.g. 'MyName',  or "
                      "'my.name',  or '123-abc', regex used for validation is "
                      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
QUALIFIED_NAME_FMT_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                          "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                          "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def is_qualified_name(value) -> bool:
    """IsQualifiedName: an optional DNS-subdomain prefix and "/", then a name of at most 63
    alphanumerics, '-', '_' or '.' (k8s.io/apimachinery/pkg/util/validation)."""
    return isinstance(value, str) and not qualified_name_errors(value)


# The apiserver's field validation and the scheduler's selector parsing (labels.NewRequirement,
# sim/scheduler/framework/affinity_terms.py) share these two, as upstream both call
# k8s.io/apimachinery/pkg/util/validation.
def qualified_name_errors(value: str) -> list[str]:
    """validation.IsQualifiedName: every message, as upstream lists them."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errs.append("prefix part must be no more than 253 characters")
            if not _SUBDOMAIN_RE.fullmatch(prefix):
                errs.append("prefix part " + SUBDOMAIN_MSG)
    else:
        return ["a qualified name " + QUALIFIED_NAME_FMT_MSG
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        errs.append(QUALIFIED_NAME_MSG)
    return errs


def _length_and_pattern_errors(value: str, max_len: int, pattern, message: str) -> list[str]:
    """The shape of every validation.Is* string check: a length limit, then a pattern."""
    errs = []
    if len(value) > max_len:
        errs.append(f"must be no more than {max_len} characters")
    if not pattern.fullmatch(value):
        errs.append(message)
    return errs


def label_value_errors(value: str) -> list[str]:
    """validation.IsValidLabelValue."""
    return _length_and_pattern_errors(value, 63, _LABEL_VALUE_RE, LABEL_VALUE_MSG)


def dns1123_label_errors(value: str) -> list[str]:
    """validation.IsDNS1123Label (NameIsDNSLabel: namespace names)."""
    return _length_and_pattern_errors(value, 63, _LABEL_RE, LABEL_MSG)


def dns1123_subdomain_errors(value: str) -> list[str]:
    """validation.IsDNS1123Subdomain (NameIsDNSSubdomain: node names)."""
    return _length_and_pattern_errors(value, 253, _SUBDOMAIN_RE, SUBDOMAIN_MSG)


# -- k8s.io/apimachinery/pkg/apis/meta/v1/validation ---------------------------------------
def validate_label_name(name, field: str) -> list[FieldError]:
    """ValidateLabelName: one Invalid per IsQualifiedName message."""
    if not isinstance(name, str):
        return [invalid(field, name, "must be a string")]
    return [invalid(field, name, msg) for msg in qualified_name_errors(name)]


def validate_labels(labels, field: str) -> list[FieldError]:
    """ValidateLabels: each key a qualified name, each value a label value."""
    errs: list[FieldError] = []
    if labels is None:
        return errs
    if not isinstance(labels, dict):
        return [invalid(field, labels, "must be a map of string keys to string values")]
    for k, v in labels.items():
        errs += validate_label_name(k, field)
        if not isinstance(v, str):
            errs.append(invalid(field, v, LABEL_VALUE_MSG))
        else:
            errs += [invalid(field, v, msg) for msg in label_value_errors(v)]
    return errs


def validate_label_selector(selector, field: str, allow_invalid_label_value: bool = False) -> list[FieldError]:
    """ValidateLabelSelector (LabelSelectorValidationOptions.AllowInvalidLabelValueInSelector):
    a nil selector is valid; matchLabels as labels, then each matchExpressions requirement."""
    if selector is None:
        return []
    if not isinstance(selector, dict):
        return [invalid(field, selector, "must be an object")]
    errs = validate_labels(selector.get("matchLabels"), f"{field}.matchLabels")
    for i, req in enumerate(_items(selector.get("matchExpressions"))):
        errs += _validate_label_selector_requirement(_obj(req), allow_invalid_label_value,
                                                     f"{field}.matchExpressions[{i}]")
    return errs


EXISTS_VALUES_MSG = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"


def _set_operator_values_errors(op: str, values: list, field: str) -> list[FieldError] | None:
    """The values' count for the set operators both selector kinds share (In / NotIn need
    some, Exists / DoesNotExist none); None for any other operator."""
    if op in ("In", "NotIn"):
        return [] if values else [required(f"{field}.values", "must be specified when `operator` is 'In' or 'NotIn'")]
    if op in ("Exists", "DoesNotExist"):
        return [forbidden(f"{field}.values", EXISTS_VALUES_MSG)] if values else []
    return None


def _validate_label_selector_requirement(req: dict, allow_invalid_label_value: bool, field: str) -> list[FieldError]:
    """ValidateLabelSelectorRequirement."""
    op, values = req.get("operator") or "", _items(req.get("values"))
    errs = _set_operator_values_errors(op, values, field)
    if errs is None:
        errs = [invalid(f"{field}.operator", op, "not a valid selector operator")]
    errs += validate_label_name(req.get("key") or "", f"{field}.key")
    if not allow_invalid_label_value:
        for i, v in enumerate(values):
            errs += [invalid(f"{field}.values[{i}]", v, msg)
                     for msg in (label_value_errors(v) if isinstance(v, str) else [LABEL_VALUE_MSG])]
    return errs


def _items(value) -> list:
    """A list field's items; a value of another JSON type has none (a pod of the wrong type
    never gets here: decoding refuses it, see pod_type_error)."""
    return value if isinstance(value, list) else []


def _obj(value) -> dict:
    return value if isinstance(value, dict) else {}


def validate_object_meta(obj: dict, namespaced: bool, name_is_label: bool = False) -> list[FieldError]:
    md = obj.get("metadata")
    if not isinstance(md, dict):
        return [required("metadata")]
    errs: list[FieldError] = []
    name = md.get("name")
    if not name:
        errs.append(required("metadata.name", "name or generateName is required"))
    else:
        errs += validate_name(name, "metadata.name", label=name_is_label)
    if namespaced:
        ns = md.get("namespace")
        if not ns:
            errs.append(required("metadata.namespace"))
        else:
            errs += validate_name(ns, "metadata.namespace", label=True)
    errs += validate_labels(md.get("labels"), "metadata.labels")
    errs += validate_annotations(md.get("annotations"), "metadata.annotations")
    errs += validate_owner_references(_items(md.get("ownerReferences")), "metadata.ownerReferences")
    for i, name in enumerate(_items(md.get("finalizers"))):
        errs += [invalid(f"metadata.finalizers[{i}]", name, msg)
                 for msg in (qualified_name_errors(name) if isinstance(name, str) else [QUALIFIED_NAME_MSG])]
    return errs


def validate_owner_references(refs: list, field: str) -> list[FieldError]:
    """ValidateOwnerReferences (apimachinery/pkg/api/validation/objectmeta.go): apiVersion with
    a version, kind, name and uid set, and at most one controller.  Upstream names the list,
    not the item, in every path."""
    errs: list[FieldError] = []
    controller = ""
    for ref in refs:
        ref = _obj(ref)
        api_version, kind = ref.get("apiVersion") or "", ref.get("kind") or ""
        if not api_version.rpartition("/")[2]:
            errs.append(invalid(f"{field}.apiVersion", api_version, "version must not be empty"))
        for key in ("kind", "name", "uid"):
            if not ref.get(key):
                errs.append(invalid(f"{field}.{key}", ref.get(key) or "", "must not be empty"))
        if ref.get("controller") is True:
            name = f"{kind}/{ref.get('name') or ''}"
            if controller:
                errs.append(invalid(field, GoSyntax("[]v1.OwnerReference{...}"),
                                    f'Only one reference can have Controller set to true. Found "true" in '
                                    f"references for {controller} and {name}"))
            else:
                controller = name
    return errs


TOTAL_ANNOTATION_SIZE_LIMIT_B = 256 * 1024  # apimachinery/pkg/api/validation/objectmeta.go


def validate_annotations(annotations, field: str) -> list[FieldError]:
    """ValidateAnnotations: each key a qualified name (lower-cased first), and keys plus values
    at most 256 KiB in all."""
    if annotations is None:
        return []
    if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
        return [invalid(field, annotations, "must be a map of string keys to string values")]
    errs: list[FieldError] = []
    total = 0
    for k, v in annotations.items():
        errs += [invalid(field, k, msg) for msg in qualified_name_errors(k.lower())]
        total += len(k.encode()) + len(v.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_B:
        errs.append(FieldError(field, "TooLong", None, f"must have at most {TOTAL_ANNOTATION_SIZE_LIMIT_B} bytes"))
    return errs


INT32_MAX = (1 << 31) - 1
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"   # validation.InclusiveRangeError(1, 65535)
NON_NEGATIVE_MSG = "must be greater than or equal to 0"


def _valid_port(port) -> bool:
    return _is_int(port) and 0 < port < 65536


def validate_quantity(value, field: str, non_negative: bool = True) -> list[FieldError]:
    try:
        q = parse_quantity(value)
    except QuantityError as e:
        return [invalid(field, value, str(e))]
    if non_negative and q < 0:
        return [invalid(field, value, "must be greater than or equal to 0")]
    return []


RESTART_POLICIES = ("Always", "OnFailure", "Never")
PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Equal", "Exists")
SCHEDULE_ACTIONS = ("DoNotSchedule", "ScheduleAnyway")   # sets.List: sorted
NODE_INCLUSION_POLICIES = ("Honor", "Ignore")            # sets.List: sorted
NOT_POSITIVE_MSG = "must be greater than zero"           # isNotPositiveErrorMsg
WEIGHT_RANGE_MSG = "must be in the range 1-100"
LABEL_SELECTOR_NOT_SET_MSG = "must not be specified when labelSelector is not set"


@dataclass(frozen=True)
class PodValidationOptions:
    """The PodValidationOptions fields that bear on scheduling fields (pkg/apis/core/validation).
    Both are false on create; an update keeps allowing what the stored object already had."""
    allow_invalid_label_value_in_selector: bool = False
    allow_invalid_topology_spread_constraint_label_selector: bool = False


def pod_validation_options(old_spec: dict | None) -> PodValidationOptions:
    """GetValidationOptionsFromPodSpecAndMeta (pkg/api/pod/util.go): an update of an object stored
    with an invalid affinity or spread-constraint selector is not refused for it
    (hasInvalidLabelValueInAffinitySelector, hasInvalidTopologySpreadConstraintLabelSelector)."""
    if not isinstance(old_spec, dict):
        return PodValidationOptions()
    affinity = _obj(old_spec.get("affinity"))
    invalid_affinity = False
    for kind in ("podAffinity", "podAntiAffinity"):
        pa = _obj(affinity.get(kind))
        terms = _items(pa.get("requiredDuringSchedulingIgnoredDuringExecution")) + \
            [_obj(w).get("podAffinityTerm") for w in _items(pa.get("preferredDuringSchedulingIgnoredDuringExecution"))]
        invalid_affinity = invalid_affinity or any(
            validate_pod_affinity_term_selector(_obj(t), False, "") for t in terms)
    invalid_spread = any(validate_label_selector(_obj(c).get("labelSelector"), "")
                         for c in _items(old_spec.get("topologySpreadConstraints")))
    return PodValidationOptions(invalid_affinity, invalid_spread)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- node affinity (ValidateNodeSelector and friends) --------------------------------------
def validate_node_selector_requirement(req: dict, field: str) -> list[FieldError]:
    """ValidateNodeSelectorRequirement as of v1.32: the values' count per operator and the key.
    The values themselves are not checked (that came in v1.33), nor is a Gt/Lt value parsed as
    an integer: the scheduler reports an unparsable one (NodeAffinity's PreFilter)."""
    op, values = req.get("operator") or "", _items(req.get("values"))
    errs = _set_operator_values_errors(op, values, field)
    if errs is None:
        errs = []
        if op not in ("Gt", "Lt"):
            errs.append(invalid(f"{field}.operator", op, "not a valid selector operator"))
        elif len(values) != 1:
            errs.append(required(f"{field}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'"))
    return errs + validate_label_name(req.get("key") or "", f"{field}.key")


def validate_node_field_selector_requirement(req: dict, field: str) -> list[FieldError]:
    """ValidateNodeFieldSelectorRequirement: only metadata.name, with In or NotIn and one value."""
    errs: list[FieldError] = []
    op, values = req.get("operator") or "", _items(req.get("values"))
    if op in ("In", "NotIn"):
        if len(values) != 1:
            errs.append(required(f"{field}.values",
                                 "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
    else:
        errs.append(invalid(f"{field}.operator", op, "not a valid selector operator"))
    key = req.get("key") or ""
    if key != "metadata.name":
        errs.append(invalid(f"{field}.key", key, "not a valid field selector key"))
    else:
        for i, v in enumerate(values):
            msgs = dns1123_subdomain_errors(v) if isinstance(v, str) else [SUBDOMAIN_MSG]
            errs += [invalid(f"{field}.values[{i}]", v, msg) for msg in msgs]
    return errs


def validate_node_selector_term(term: dict, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for j, req in enumerate(_items(term.get("matchExpressions"))):
        errs += validate_node_selector_requirement(_obj(req), f"{field}.matchExpressions[{j}]")
    for j, req in enumerate(_items(term.get("matchFields"))):
        errs += validate_node_field_selector_requirement(_obj(req), f"{field}.matchFields[{j}]")
    return errs


def validate_node_selector(selector: dict, field: str) -> list[FieldError]:
    """ValidateNodeSelector: at least one term (ORed), each term valid."""
    terms = _items(selector.get("nodeSelectorTerms"))
    if not terms:
        return [required(f"{field}.nodeSelectorTerms", "must have at least one node selector term")]
    errs: list[FieldError] = []
    for i, term in enumerate(terms):
        errs += validate_node_selector_term(_obj(term), f"{field}.nodeSelectorTerms[{i}]")
    return errs


def _valid_weight(weight) -> bool:
    return _is_int(weight) and 0 < weight <= 100


def validate_preferred_scheduling_terms(terms: list, field: str) -> list[FieldError]:
    """ValidatePreferredSchedulingTerms: weight 1..100, then the preference term."""
    errs: list[FieldError] = []
    for i, term in enumerate(terms):
        term = _obj(term)
        weight = term.get("weight", 0)
        if not _valid_weight(weight):
            errs.append(invalid(f"{field}[{i}].weight", weight, WEIGHT_RANGE_MSG))
        errs += validate_node_selector_term(_obj(term.get("preference")), f"{field}[{i}].preference")
    return errs


def _validate_node_affinity(na: dict, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if na.get("requiredDuringSchedulingIgnoredDuringExecution") is not None:
        errs += validate_node_selector(_obj(na["requiredDuringSchedulingIgnoredDuringExecution"]),
                                       f"{field}.requiredDuringSchedulingIgnoredDuringExecution")
    preferred = _items(na.get("preferredDuringSchedulingIgnoredDuringExecution"))
    if preferred:
        errs += validate_preferred_scheduling_terms(preferred,
                                                    f"{field}.preferredDuringSchedulingIgnoredDuringExecution")
    return errs


# -- pod (anti-)affinity --------------------------------------------------------------------
def validate_pod_affinity_term_selector(term: dict, allow_invalid_label_value: bool, field: str) -> list[FieldError]:
    """ValidatePodAffinityTermSelector: the labelSelector and the namespaceSelector."""
    return validate_label_selector(term.get("labelSelector"), f"{field}.labelSelector", allow_invalid_label_value) + \
        validate_label_selector(term.get("namespaceSelector"), f"{field}.namespaceSelector", allow_invalid_label_value)


def _validate_label_keys(field: str, keys: list, selector) -> list[FieldError]:
    """validateLabelKeys: matchLabelKeys / mismatchLabelKeys need a labelSelector, and are label names."""
    if not keys:
        return []
    if selector is None:
        return [forbidden(field, LABEL_SELECTOR_NOT_SET_MSG)]
    errs: list[FieldError] = []
    for i, key in enumerate(keys):
        errs += validate_label_name(key, f"{field}[{i}]")
    return errs


def _validate_match_label_keys_and_mismatch_label_keys(field: str, match_keys: list, mismatch_keys: list,
                                                       selector) -> list[FieldError]:
    """validateMatchLabelKeysAndMismatchLabelKeys.  The "exists in both" check runs on the
    selector after the pod strategy has merged matchLabelKeys into it, and upstream builds its
    path from the term's (fldPath.Index(i), so ".../requiredDuringSchedulingIgnoredDuringExecution[0][0]")."""
    errs = _validate_label_keys(f"{field}.matchLabelKeys", match_keys, selector) + \
        _validate_label_keys(f"{field}.mismatchLabelKeys", mismatch_keys, selector)
    if selector is not None:
        sel = _obj(selector)
        index = {k: i for i, k in enumerate(match_keys) if isinstance(k, str)}
        seen = set(_obj(sel.get("matchLabels")))
        for req in _items(sel.get("matchExpressions")):
            key = _obj(req).get("key") or ""
            if not isinstance(key, str):
                continue
            if key in index and key in seen:
                errs.append(invalid(f"{field}[{index[key]}]", key, "exists in both matchLabelKeys and labelSelector"))
            seen.add(key)
    mismatch = set(k for k in mismatch_keys if isinstance(k, str))
    for i, key in enumerate(match_keys):
        if key in mismatch:
            errs.append(invalid(f"{field}.matchLabelKeys[{i}]", key,
                                "exists in both matchLabelKeys and mismatchLabelKeys"))
    return errs


def _validate_pod_affinity_term(term: dict, allow_invalid_label_value: bool, field: str) -> list[FieldError]:
    """validatePodAffinityTerm."""
    errs = validate_pod_affinity_term_selector(term, allow_invalid_label_value, field)
    for name in _items(term.get("namespaces")):
        # Upstream names the field "namespace" here.
        msgs = dns1123_label_errors(name) if isinstance(name, str) else [LABEL_MSG]
        errs += [invalid(f"{field}.namespace", name, msg) for msg in msgs]
    errs += _validate_match_label_keys_and_mismatch_label_keys(
        field, _items(term.get("matchLabelKeys")), _items(term.get("mismatchLabelKeys")), term.get("labelSelector"))
    topology_key = term.get("topologyKey") or ""
    if not topology_key:
        errs.append(required(f"{field}.topologyKey", "can not be empty"))
    return errs + validate_label_name(topology_key, f"{field}.topologyKey")


def _validate_pod_affinity(pa: dict, allow_invalid_label_value: bool, field: str) -> list[FieldError]:
    """validatePodAffinity and validatePodAntiAffinity (the same checks): required terms, then
    weighted terms (weight 1..100)."""
    errs: list[FieldError] = []
    path = f"{field}.requiredDuringSchedulingIgnoredDuringExecution"
    for i, term in enumerate(_items(pa.get("requiredDuringSchedulingIgnoredDuringExecution"))):
        errs += _validate_pod_affinity_term(_obj(term), allow_invalid_label_value, f"{path}[{i}]")
    path = f"{field}.preferredDuringSchedulingIgnoredDuringExecution"
    for j, weighted in enumerate(_items(pa.get("preferredDuringSchedulingIgnoredDuringExecution"))):
        weighted = _obj(weighted)
        weight = weighted.get("weight", 0)
        if not _valid_weight(weight):
            errs.append(invalid(f"{path}[{j}].weight", weight, WEIGHT_RANGE_MSG))
        errs += _validate_pod_affinity_term(_obj(weighted.get("podAffinityTerm")), allow_invalid_label_value,
                                            f"{path}[{j}].podAffinityTerm")
    return errs


def validate_affinity(affinity, opts: PodValidationOptions, field: str) -> list[FieldError]:
    """validateAffinity (pkg/apis/core/validation/validation.go)."""
    if affinity is None:
        return []
    if not isinstance(affinity, dict):
        return [invalid(field, affinity, "must be an object")]
    errs: list[FieldError] = []
    if affinity.get("nodeAffinity") is not None:
        errs += _validate_node_affinity(_obj(affinity["nodeAffinity"]), f"{field}.nodeAffinity")
    for kind in ("podAffinity", "podAntiAffinity"):
        if affinity.get(kind) is not None:
            errs += _validate_pod_affinity(_obj(affinity[kind]), opts.allow_invalid_label_value_in_selector,
                                           f"{field}.{kind}")
    return errs


# -- topology spread constraints -----------------------------------------------------------
def _validate_match_label_keys_in_topology_spread(field: str, keys: list, selector) -> list[FieldError]:
    """validateMatchLabelKeysInTopologySpread."""
    if not keys:
        return []
    errs: list[FieldError] = []
    selector_keys: set = set()
    if selector is not None:
        sel = _obj(selector)
        selector_keys = set(_obj(sel.get("matchLabels"))) | \
            {k for r in _items(sel.get("matchExpressions")) if isinstance(k := _obj(r).get("key"), str)}
    else:
        errs.append(forbidden(field, LABEL_SELECTOR_NOT_SET_MSG))
    for i, key in enumerate(keys):
        errs += validate_label_name(key, f"{field}[{i}]")
        if isinstance(key, str) and key in selector_keys:
            errs.append(invalid(f"{field}[{i}]", key, "exists in both matchLabelKeys and labelSelector"))
    return errs


def validate_topology_spread_constraints(constraints: list, opts: PodValidationOptions, field: str) -> list[FieldError]:
    """validateTopologySpreadConstraints.  topologyKey is only required (no qualified-name
    check, as upstream); {topologyKey, whenUnsatisfiable} pairs may not repeat."""
    errs: list[FieldError] = []
    constraints = [_obj(c) for c in constraints]
    for i, c in enumerate(constraints):
        path = f"{field}[{i}]"
        max_skew = c.get("maxSkew", 0)
        if not (_is_int(max_skew) and max_skew > 0):
            errs.append(invalid(f"{path}.maxSkew", max_skew, NOT_POSITIVE_MSG))
        topology_key = c.get("topologyKey") or ""
        if not topology_key:
            errs.append(required(f"{path}.topologyKey", "can not be empty"))
        action = c.get("whenUnsatisfiable") or ""
        if action not in SCHEDULE_ACTIONS:
            errs.append(not_supported(f"{path}.whenUnsatisfiable", action, SCHEDULE_ACTIONS))
        for rest in constraints[i + 1:]:
            if (rest.get("topologyKey") or "") == topology_key and (rest.get("whenUnsatisfiable") or "") == action:
                errs.append(FieldError(f"{path}.{{topologyKey, whenUnsatisfiable}}", "Duplicate",
                                       f"{{{topology_key}, {action}}}"))
                break
        min_domains = c.get("minDomains")
        if min_domains is not None:
            if not (_is_int(min_domains) and min_domains > 0):
                errs.append(invalid(f"{path}.minDomains", min_domains, NOT_POSITIVE_MSG))
            if action != "DoNotSchedule":
                errs.append(invalid(f"{path}.minDomains", min_domains,
                                    f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}"))
        for policy in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            value = c.get(policy)
            if value is not None and value not in NODE_INCLUSION_POLICIES:
                errs.append(not_supported(f"{path}.{policy}", value, NODE_INCLUSION_POLICIES))
        errs += _validate_match_label_keys_in_topology_spread(f"{path}.matchLabelKeys", _items(c.get("matchLabelKeys")),
                                                              c.get("labelSelector"))
        if not opts.allow_invalid_topology_spread_constraint_label_selector:
            errs += validate_label_selector(c.get("labelSelector"), f"{path}.labelSelector")
    return errs


# -- tolerations, scheduling gates ---------------------------------------------------------
def validate_tolerations(tolerations: list, field: str) -> list[FieldError]:
    """ValidateTolerations.  An empty operator means Equal; an empty key (all taints) needs
    Exists; tolerationSeconds only with NoExecute; an empty effect matches every effect."""
    errs: list[FieldError] = []
    for i, t in enumerate(tolerations):
        path = f"{field}[{i}]"
        if not isinstance(t, dict):
            errs.append(invalid(path, t, "must be an object"))
            continue
        key, op, value, effect = (t.get(k) or "" for k in ("key", "operator", "value", "effect"))
        if key:
            errs += validate_label_name(key, f"{path}.key")
        if not key and op != "Exists":
            errs.append(invalid(f"{path}.operator", op, "operator must be Exists when `key` is empty, "
                                                        "which means \"match all values and all keys\""))
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(invalid(f"{path}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if op in ("Equal", ""):
            msgs = label_value_errors(value) if isinstance(value, str) else [LABEL_VALUE_MSG]
            if msgs:
                errs.append(invalid(f"{path}.operator", value, ";".join(msgs)))
        elif op == "Exists":
            if value:
                errs.append(invalid(f"{path}.operator", value, "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(not_supported(f"{path}.operator", op, TOLERATION_OPERATORS))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
    return errs


def validate_scheduling_gates(gates: list, field: str) -> list[FieldError]:
    """validateSchedulingGates: qualified names, no duplicates."""
    errs: list[FieldError] = []
    seen = set()
    for i, gate in enumerate(gates):
        name = _obj(gate).get("name") or ""
        errs += validate_label_name(name, f"{field}[{i}]")
        if isinstance(name, str) and name in seen:
            errs.append(FieldError(f"{field}[{i}]", "Duplicate", name))
        seen.add(name if isinstance(name, str) else None)
    return errs


def validate_pod_spec(spec, field: str, opts: PodValidationOptions = PodValidationOptions()) -> list[FieldError]:
    """ValidatePodSpec, in upstream's order for the fields modelled here."""
    if not isinstance(spec, dict):
        return [required(field)]
    errs: list[FieldError] = []
    containers = spec.get("containers")
    if not containers:
        errs.append(required(f"{field}.containers"))
        containers = []
    if not isinstance(containers, list):
        return errs + [invalid(f"{field}.containers", containers, "must be a list")]
    seen = set()
    for i, c in enumerate(containers):
        cf = f"{field}.containers[{i}]"
        if not isinstance(c, dict):
            errs.append(invalid(cf, c, "must be an object"))
            continue
        name = c.get("name")
        if not name:
            errs.append(required(f"{cf}.name"))
        else:
            errs += validate_name(name, f"{cf}.name", label=True)
            if name in seen:
                errs.append(FieldError(f"{cf}.name", "Duplicate", name))
            seen.add(name)
        if not c.get("image") or not str(c.get("image")).strip():
            errs.append(required(f"{cf}.image"))
        if c.get("imagePullPolicy") and c["imagePullPolicy"] not in PULL_POLICIES:
            errs.append(not_supported(f"{cf}.imagePullPolicy", c["imagePullPolicy"], PULL_POLICIES))
        res = c.get("resources") or {}
        if not isinstance(res, dict):
            errs.append(invalid(f"{cf}.resources", res, "must be an object"))
            continue
        for kind in ("requests", "limits"):
            for rname, q in (res.get(kind) or {}).items():
                errs += validate_quantity(q, f"{cf}.resources.{kind}[{rname}]")
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for rname, q in req.items():
            if rname in lim:
                try:
                    if parse_quantity(q) > parse_quantity(lim[rname]):
                        errs.append(invalid(f"{cf}.resources.requests", q,
                                            f"must be less than or equal to {rname} limit of {lim[rname]}"))
                except QuantityError:
                    pass
        for j, p in enumerate(c.get("ports") or []):
            p = _obj(p)
            port = p.get("containerPort")
            if not _valid_port(port):
                errs.append(invalid(f"{cf}.ports[{j}].containerPort", port, PORT_RANGE_MSG))
            host_port = p.get("hostPort")
            if host_port not in (None, 0) and not _valid_port(host_port):
                errs.append(invalid(f"{cf}.ports[{j}].hostPort", host_port, PORT_RANGE_MSG))
            protocol = p.get("protocol")
            if protocol not in (None, "") and protocol not in PROTOCOLS:
                errs.append(not_supported(f"{cf}.ports[{j}].protocol", protocol, PROTOCOLS))
    rp = spec.get("restartPolicy")
    if rp is not None and rp not in RESTART_POLICIES:
        errs.append(not_supported(f"{field}.restartPolicy", rp, RESTART_POLICIES))
    errs += validate_dns_policy(spec.get("dnsPolicy"), f"{field}.dnsPolicy")
    errs += validate_labels(spec.get("nodeSelector"), f"{field}.nodeSelector")
    for key in ("hostname", "subdomain"):
        if spec.get(key):
            errs += validate_name(spec[key], f"{field}.{key}", label=True)
    errs += validate_affinity(spec.get("affinity"), opts, f"{field}.affinity")
    errs += validate_scheduling_gates(_items(spec.get("schedulingGates")), f"{field}.schedulingGates")
    errs += validate_topology_spread_constraints(_items(spec.get("topologySpreadConstraints")), opts,
                                                 f"{field}.topologySpreadConstraints")
    nn = spec.get("nodeName")
    if nn:
        errs += validate_name(nn, f"{field}.nodeName")
    errs += validate_tolerations(_items(spec.get("tolerations")), f"{field}.tolerations")
    tgp = spec.get("terminationGracePeriodSeconds")
    if tgp is not None and (not _is_int(tgp) or tgp < 0):
        errs.append(invalid(f"{field}.terminationGracePeriodSeconds", tgp, NON_NEGATIVE_MSG))
    ads = spec.get("activeDeadlineSeconds")
    if ads is not None and (not _is_int(ads) or not 1 <= ads <= INT32_MAX):
        errs.append(invalid(f"{field}.activeDeadlineSeconds", ads, f"must be between 1 and {INT32_MAX}, inclusive"))
    pcn = spec.get("priorityClassName")
    if pcn:
        errs += validate_name(pcn, f"{field}.priorityClassName")
    if spec.get("preemptionPolicy") is not None:
        errs += validate_preemption_policy(spec["preemptionPolicy"], f"{field}.preemptionPolicy")
    errs += validate_pod_dns_config(spec.get("dnsConfig"), spec.get("dnsPolicy"), f"{field}.dnsConfig")
    return errs


DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
MAX_DNS_NAMESERVERS, MAX_DNS_SEARCH_PATHS, MAX_DNS_SEARCH_CHARS = 3, 32, 2048


def validate_dns_policy(policy, field: str) -> list[FieldError]:
    """validateDNSPolicy (unset is defaulted to ClusterFirst before)."""
    if policy is None or policy in DNS_POLICIES:
        return []
    return [required(field)] if policy == "" else [not_supported(field, policy, DNS_POLICIES)]


def validate_pod_dns_config(cfg, policy, field: str) -> list[FieldError]:
    """validatePodDNSConfig: dnsPolicy None needs a dnsConfig with a nameserver; at most 3
    nameservers, each an IP; at most 32 search domains, 2048 characters with the spaces, each a
    DNS subdomain (a trailing dot allowed); every option named."""
    if policy == "None":
        if not isinstance(cfg, dict):
            return [required(field, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not cfg.get("nameservers"):
            return [required(f"{field}.nameservers", "must provide at least one DNS nameserver when `dnsPolicy` is None")]
    if not isinstance(cfg, dict):
        return []
    errs: list[FieldError] = []
    servers = _items(cfg.get("nameservers"))
    if len(servers) > MAX_DNS_NAMESERVERS:
        errs.append(invalid(f"{field}.nameservers", GoSyntax(go_strings(map(str, servers))),
                            f"must not have more than {MAX_DNS_NAMESERVERS} nameservers"))
    for i, ns in enumerate(servers):
        try:
            ipaddress.ip_address(ns if isinstance(ns, str) else "")
        except ValueError:
            errs.append(invalid(f"{field}.nameservers[{i}]", ns, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
    searches = [s if isinstance(s, str) else "" for s in _items(cfg.get("searches"))]
    if len(searches) > MAX_DNS_SEARCH_PATHS:
        errs.append(invalid(f"{field}.searches", GoSyntax(go_strings(searches)),
                            f"must not have more than {MAX_DNS_SEARCH_PATHS} search paths"))
    if len(" ".join(searches)) > MAX_DNS_SEARCH_CHARS:
        errs.append(invalid(f"{field}.searches", GoSyntax(go_strings(searches)),
                            f"must not have more than {MAX_DNS_SEARCH_CHARS} characters (including spaces) in the search list"))
    for i, search in enumerate(searches):
        errs += validate_name(search.removesuffix("."), f"{field}.searches[{i}]")
    for i, option in enumerate(_items(cfg.get("options"))):
        if not _obj(option).get("name"):
            errs.append(required(f"{field}.options[{i}]", "must not be empty"))
    return errs


def validate_preemption_policy(policy, field: str) -> list[FieldError]:
    """ValidatePreemptionPolicy (pkg/apis/core/validation)."""
    if policy in PREEMPTION_POLICIES:
        return []
    if policy == "":
        return [required(field)]
    return [not_supported(field, policy, PREEMPTION_POLICIES)]


def _validate_pod_metadata_and_spec(pod: dict, opts: PodValidationOptions) -> list[FieldError]:
    return validate_object_meta(pod, namespaced=True) + validate_pod_spec(pod.get("spec"), "spec", opts)


def validate_pod(pod: dict) -> list[FieldError]:
    """ValidatePodCreate: a pod may not be created bound to a node while scheduling gates remain."""
    errs = _validate_pod_metadata_and_spec(pod, PodValidationOptions())
    spec = _obj(pod.get("spec"))
    if spec.get("nodeName") and _items(spec.get("schedulingGates")):
        errs.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
    return errs


_POD_MUTABLE_NOTE = ("pod updates may not change fields other than `spec.containers[*].image`,"
                     "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                     "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                     "(allow it to be set to 1 if it was previously negative)")


def _validate_only_added_tolerations(new: list, old: list, field: str) -> list[FieldError]:
    """validateOnlyAddedTolerations: each old toleration must still be there, tolerationSeconds
    aside.  (Upstream then validates the new list again; validate_pod_spec already has, and the
    repeated errors would only be deduplicated out of the message.)"""
    def core(t) -> dict:
        t = _obj(t)
        return {k: t.get(k) or "" for k in ("key", "operator", "value", "effect")}
    kept = [core(t) for t in new]
    for t in old:
        if core(t) not in kept:
            return [forbidden(field, "existing toleration can not be modified except its tolerationSeconds")]
    return []


def _validate_only_deleted_scheduling_gates(new: list, old: list, field: str) -> list[FieldError]:
    """validateOnlyDeletedSchedulingGates."""
    old_names = {_obj(g).get("name") for g in old if isinstance(_obj(g).get("name"), str)}
    added = {}
    for i, gate in enumerate(new):
        if isinstance(name := _obj(gate).get("name"), str):
            added[name] = i
    return [forbidden(f"{field}[{i}].name", f"only deletion is allowed, but found new scheduling gate '{name}'")
            for name, i in added.items() if name not in old_names]


def _go_requirements(reqs) -> str:
    if reqs is None:
        return "[]core.NodeSelectorRequirement(nil)"
    return "[]core.NodeSelectorRequirement{" + ", ".join(
        f'core.NodeSelectorRequirement{{Key:{json.dumps(_obj(r).get("key") or "")}, '
        f'Operator:{json.dumps(_obj(r).get("operator") or "")}, Values:{go_strings(_obj(r).get("values"))}}}'
        for r in reqs) + "}"


def _go_term(term: dict) -> str:
    """%#v of a core.NodeSelectorTerm."""
    return (f"core.NodeSelectorTerm{{MatchExpressions:{_go_requirements(term.get('matchExpressions'))}, "
            f"MatchFields:{_go_requirements(term.get('matchFields'))}}}")


def _validate_node_affinity_mutation(field: str, new_na, old_na) -> list[FieldError]:
    """validateNodeAffinityMutation: a gated pod's required node selector terms may only gain
    requirements (an empty old list may become anything)."""
    old_required = _obj(old_na).get("requiredDuringSchedulingIgnoredDuringExecution")
    if old_required is None:
        return []
    old_terms = _items(_obj(old_required).get("nodeSelectorTerms"))
    new_required = _obj(new_na).get("requiredDuringSchedulingIgnoredDuringExecution")
    new_terms = _obj(new_required).get("nodeSelectorTerms") if new_required is not None else None
    path = f"{field}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
    if old_terms and len(old_terms) != len(_items(new_terms)):
        shown = "[]core.NodeSelectorTerm(nil)" if new_terms is None else \
            "[]core.NodeSelectorTerm{" + ", ".join(_go_term(_obj(t)) for t in _items(new_terms)) + "}"
        return [invalid(path, GoSyntax(shown),
                        "no additions/deletions to non-empty NodeSelectorTerms list are allowed")]
    errs: list[FieldError] = []
    for i, (new_term, old_term) in enumerate(zip(_items(new_terms), old_terms)):
        new_term, old_term = _obj(new_term), _obj(old_term)
        if not _term_has_only_additions(new_term, old_term):
            errs.append(invalid(f"{path}[{i}]", GoSyntax(_go_term(new_term)),
                                "only additions are allowed (no mutations or deletions)"))
    return errs


def _term_has_only_additions(new: dict, old: dict) -> bool:
    """validateNodeSelectorTermHasOnlyAdditions."""
    old_exprs, old_fields = _items(old.get("matchExpressions")), _items(old.get("matchFields"))
    new_exprs, new_fields = _items(new.get("matchExpressions")), _items(new.get("matchFields"))
    if not old_exprs and not old_fields and (new_exprs or new_fields):
        return False
    return new_exprs[:len(old_exprs)] == old_exprs and new_fields[:len(old_fields)] == old_fields


def validate_pod_update(new: dict, old: dict) -> list[FieldError]:
    """ValidatePodUpdate: the new pod is valid (with the options the old one allows), then only
    images, activeDeadlineSeconds, added tolerations and removed scheduling gates may change; a
    pod still gated may also gain nodeSelector entries and node affinity requirements."""
    new_spec, old_spec = _obj(new.get("spec")), _obj(old.get("spec"))
    errs = _validate_pod_metadata_and_spec(new, pod_validation_options(old_spec))
    errs += _validate_only_added_tolerations(_items(new_spec.get("tolerations")), _items(old_spec.get("tolerations")),
                                             "spec.tolerations")
    errs += _validate_only_deleted_scheduling_gates(_items(new_spec.get("schedulingGates")),
                                                    _items(old_spec.get("schedulingGates")), "spec.schedulingGates")

    def strip(spec):
        spec = _drop_nil(json.loads(json.dumps(spec or {})))
        for c in spec.get("containers") or []:
            c.pop("image", None)
        for k in ("tolerations", "activeDeadlineSeconds", "schedulingGates"):
            spec.pop(k, None)
        return spec

    munged, old_stripped = strip(new_spec), strip(old_spec)
    if _items(old_spec.get("schedulingGates")):
        if munged.get("nodeSelector") != old_stripped.get("nodeSelector"):
            errs += _validate_node_selector_mutation("spec.nodeSelector", munged.get("nodeSelector"),
                                                     old_stripped.get("nodeSelector"))
            _restore(munged, old_stripped, "nodeSelector")
        old_na = _obj(old_stripped.get("affinity")).get("nodeAffinity")
        new_na = _obj(munged.get("affinity")).get("nodeAffinity")
        if new_na != old_na:
            errs += _validate_node_affinity_mutation("spec.affinity.nodeAffinity", new_na, old_na)
            if isinstance(munged.get("affinity"), dict):
                _restore(munged["affinity"], _obj(old_stripped.get("affinity")), "nodeAffinity")
                if not munged["affinity"] and "affinity" not in old_stripped:
                    del munged["affinity"]
            elif old_na is not None:
                munged["affinity"] = {"nodeAffinity": old_na}
    if munged != old_stripped:
        errs.append(forbidden("spec", _POD_MUTABLE_NOTE))
    return errs


def _drop_nil(value):
    """What apiequality.Semantic.DeepEqual cannot tell apart: a null is the field's zero value,
    and an empty list is a nil slice."""
    if isinstance(value, dict):
        return {k: _drop_nil(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_drop_nil(v) for v in value]
    return value


def _restore(target: dict, source: dict, key: str) -> None:
    if key in source:
        target[key] = source[key]
    else:
        target.pop(key, None)


def _validate_node_selector_mutation(field: str, new, old) -> list[FieldError]:
    """validateNodeSelectorMutation: a gated pod's nodeSelector may only gain entries."""
    new = _obj(new)
    for k, v in _obj(old).items():
        if new.get(k) != v:
            return [invalid(field, new, "only additions to spec.nodeSelector are allowed (no mutations or deletions)")]
    return []


# Conditions the pod API itself defines; any other type must be a qualified name.
_SYSTEM_POD_CONDITIONS = ("PodScheduled", "Ready", "Initialized")


def validate_pod_status_update(new: dict, old: dict) -> list[FieldError]:
    """ValidatePodStatusUpdate (pkg/apis/core/validation): the status subresource may not move
    the pod (spec.nodeName), a nominatedNodeName it sets must be a valid node name, and extra
    conditions (DisruptionTarget, readiness gates) must have qualified-name types."""
    errs = validate_object_meta(new, namespaced=True)
    status, old_status = new.get("status") or {}, old.get("status") or {}
    for i, cond in enumerate(status.get("conditions") or []):
        ctype = cond.get("type") if isinstance(cond, dict) else None
        if ctype in _SYSTEM_POD_CONDITIONS:
            continue
        if not is_qualified_name(ctype):
            # Upstream builds this path from "metadata" (validatePodConditions is handed
            # fldPath.Child("conditions") before fldPath becomes "status"), so it reads so.
            errs.append(invalid(f"metadata.conditions[{i}].Type", ctype, QUALIFIED_NAME_MSG))
    if (new.get("spec") or {}).get("nodeName") != (old.get("spec") or {}).get("nodeName"):
        errs.append(forbidden("status.nodeName", "may not be changed directly"))
    nominated = status.get("nominatedNodeName")
    if nominated and nominated != old_status.get("nominatedNodeName"):
        if not is_dns1123_subdomain(nominated):
            detail = "must be no more than 253 characters" if isinstance(nominated, str) and len(nominated) > 253 \
                else SUBDOMAIN_MSG
            errs.append(invalid("status.nominatedNodeName", nominated, detail))
    return errs


def validate_replicaset(rs: dict, opts: PodValidationOptions = PodValidationOptions()) -> list[FieldError]:
    """ValidateReplicaSet: the pod template's spec gets ValidatePodSpec, as a pod's does."""
    errs = validate_object_meta(rs, namespaced=True)
    spec = rs.get("spec")
    if not isinstance(spec, dict):
        return errs + [required("spec")]
    replicas = spec.get("replicas", 1)
    if not _is_int(replicas) or replicas < 0:
        errs.append(invalid("spec.replicas", replicas, NON_NEGATIVE_MSG))
    min_ready = spec.get("minReadySeconds", 0)
    if not _is_int(min_ready) or min_ready < 0:
        errs.append(invalid("spec.minReadySeconds", min_ready, NON_NEGATIVE_MSG))
    sel = spec.get("selector")
    template = spec.get("template") or {}
    tlabels = (template.get("metadata") or {}).get("labels") or {}
    if not sel or not ((sel.get("matchLabels") or sel.get("matchExpressions"))):
        errs.append(required("spec.selector"))
    else:
        from sim.api.selectors import SelectorError, labels_match, selector_from_label_selector
        try:
            reqs = selector_from_label_selector(sel)
            if not labels_match(reqs, tlabels):
                errs.append(invalid("spec.template.metadata.labels", tlabels, "`selector` does not match template `labels`"))
        except SelectorError as e:
            errs.append(invalid("spec.selector", sel, str(e)))
    errs += validate_labels(tlabels, "spec.template.metadata.labels")
    errs += validate_pod_spec(template.get("spec"), "spec.template.spec", opts)
    rp = (template.get("spec") or {}).get("restartPolicy", "Always")
    if rp != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", rp, ("Always",)))
    return errs


def validate_replicaset_update(new: dict, old: dict) -> list[FieldError]:
    # GetValidationOptionsFromPodTemplate: what the stored template already had stays allowed.
    old_template_spec = _obj(_obj(_obj(old.get("spec")).get("template")).get("spec"))
    errs = validate_replicaset(new, pod_validation_options(old_template_spec))
    if (new.get("spec") or {}).get("selector") != (old.get("spec") or {}).get("selector"):
        errs.append(invalid("spec.selector", (new.get("spec") or {}).get("selector"), "field is immutable"))
    return errs


def validate_taints(taints: list, field: str) -> list[FieldError]:
    """validateNodeTaints: the key a label name, a value a label value, a known effect, and
    each (key, effect) pair once."""
    errs: list[FieldError] = []
    seen = set()
    for i, t in enumerate(taints):
        t = _obj(t)
        key, value, effect = t.get("key") or "", t.get("value") or "", t.get("effect") or ""
        if not key:
            errs.append(required(f"{field}[{i}].key"))
        else:
            errs += validate_label_name(key, f"{field}[{i}].key")
        if value:
            errs += [invalid(f"{field}[{i}].value", value, msg) for msg in label_value_errors(value)]
        if effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{field}[{i}].effect", effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            errs.append(FieldError(f"{field}[{i}]", "Duplicate", GoSyntax(f"core.Taint{{Key:{json.dumps(key)}, "
                                                                          f"Value:{json.dumps(value)}, "
                                                                          f"Effect:{json.dumps(effect)}, "
                                                                          "TimeAdded:<nil>}"),
                                   "taints must be unique by key and effect pair"))
        seen.add((key, effect))
    return errs


def validate_node(node: dict) -> list[FieldError]:
    errs = validate_object_meta(node, namespaced=False)
    errs += validate_taints(_items(_obj(node.get("spec")).get("taints")), "spec.taints")
    for kind in ("capacity", "allocatable"):
        for rname, q in ((node.get("status") or {}).get(kind) or {}).items():
            errs += validate_quantity(q, f"status.{kind}[{rname}]")
    return errs


def validate_namespace(ns: dict) -> list[FieldError]:
    return validate_object_meta(ns, namespaced=False, name_is_label=True)


def validate_event(ev: dict) -> list[FieldError]:
    errs = validate_object_meta(ev, namespaced=True)
    if not isinstance(ev.get("involvedObject"), dict):
        errs.append(required("involvedObject"))
    return errs


def validate_lease(lease: dict) -> list[FieldError]:
    """ValidateLease (pkg/apis/coordination/validation): a positive duration, no negative
    transitions."""
    errs = validate_object_meta(lease, namespaced=True)
    spec = _obj(lease.get("spec"))
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if transitions is not None and transitions < 0:
        errs.append(invalid("spec.leaseTransitions", transitions, NON_NEGATIVE_MSG))
    return errs


# -- scheduling.k8s.io ---------------------------------------------------------------------
def validate_priority_class(pc: dict) -> list[FieldError]:
    """ValidatePriorityClass (pkg/apis/scheduling/validation): names with the "system-" prefix
    are reserved for the system classes, user classes may not exceed 1,000,000,000, and
    preemptionPolicy is PreemptLowerPriority or Never."""
    errs = validate_object_meta(pc, namespaced=False)
    name = (pc.get("metadata") or {}).get("name") or ""
    value = pc.get("value", 0)
    if name.startswith(SYSTEM_PRIORITY_CLASS_PREFIX):
        known, why = is_known_system_priority_class(name, value, pc.get("globalDefault", False))
        if not known:
            errs.append(forbidden("metadata.name", f"priority class names with '{SYSTEM_PRIORITY_CLASS_PREFIX}' "
                                                   f"prefix are reserved for system use only. error: {why}"))
    elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(forbidden("value", f"maximum allowed value of a user defined priority is "
                                       f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
    if pc.get("preemptionPolicy") is not None:
        errs += validate_preemption_policy(pc["preemptionPolicy"], "preemptionPolicy")
    return errs


def validate_priority_class_update(new: dict, old: dict) -> list[FieldError]:
    """ValidatePriorityClassUpdate: value and preemptionPolicy are immutable (the name too,
    which the API server keeps from the stored object).  As upstream, an update is not checked
    against the create rules again."""
    errs = validate_object_meta(new, namespaced=False)
    if new.get("value", 0) != old.get("value", 0):
        errs.append(forbidden("value", "may not be changed in an update."))
    if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
        errs.append(invalid("preemptionPolicy", new.get("preemptionPolicy"), "field is immutable"))
    return errs


# -- ConfigMaps, Secrets, ServiceAccounts (pkg/apis/core/validation) ---------------------------
# k8s.io/apimachinery/pkg/util/validation IsConfigMapKey
CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_RE = re.compile("^" + CONFIG_MAP_KEY_FMT + "$")
CONFIG_MAP_KEY_MSG = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                      "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '"
                      + CONFIG_MAP_KEY_FMT + "')")
# core.MaxSecretSize: the data of a Secret or ConfigMap, 1 MiB in all.
MAX_SECRET_SIZE = 1 * 1024 * 1024
IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"


def config_map_key_errors(key: str) -> list[str]:
    """validation.IsConfigMapKey: at most 253 characters of [-._a-zA-Z0-9], not "." or ".."
    and not starting with ".." (hasChDirPrefix)."""
    errs: list[str] = []
    if len(key) > 253:
        errs.append("must be no more than 253 characters")
    if not _CONFIG_MAP_KEY_RE.match(key):
        errs.append(CONFIG_MAP_KEY_MSG)
    if key == ".":
        errs.append("must not be '.'")
    elif key == "..":
        errs.append("must not be '..'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def too_long(field: str, max_bytes: int) -> FieldError:
    """field.TooLong (apimachinery 1.32): "may not be more than N bytes"; the value is not shown."""
    return FieldError(field, "TooLong", None, f"may not be more than {max_bytes} bytes")


def validate_immutable_field(new, old, field: str) -> list[FieldError]:
    """ValidateImmutableField: Invalid, "field is immutable", with the new value."""
    return [] if new == old else [invalid(field, new, "field is immutable")]
