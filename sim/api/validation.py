"""Validation with field-level errors, worded as upstream words them
(k8s.io/apimachinery/pkg/util/validation/field/errors.go and pkg/apis/core/validation)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sim.api.quantity import QuantityError, parse_quantity
from sim.api.scheduling import (HIGHEST_USER_DEFINABLE_PRIORITY, INT32_MAX, INT32_MIN, PREEMPTION_POLICIES,
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


def _fmt_value(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "map[string]string{" + ", ".join(f'"{k}":"{x}"' for k, x in v.items()) + "}"
    return str(v)


@dataclass
class FieldError:
    field: str
    type: str  # Invalid, Required, Forbidden, Duplicate, NotSupported, TooLong
    value: Any = None
    detail: str = ""

    @property
    def cause_reason(self) -> str:
        return {"Invalid": "FieldValueInvalid", "Required": "FieldValueRequired",
                "Forbidden": "FieldValueForbidden", "Duplicate": "FieldValueDuplicate",
                "NotSupported": "FieldValueNotSupported", "TooLong": "FieldValueTooLong"}[self.type]

    def message(self) -> str:
        if self.type == "Invalid":
            s = f"Invalid value: {_fmt_value(self.value)}"
        elif self.type == "Required":
            s = "Required value"
        elif self.type == "Forbidden":
            s = "Forbidden"
        elif self.type == "Duplicate":
            s = f"Duplicate value: {_fmt_value(self.value)}"
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


def not_supported(field, value, supported):
    return FieldError(field, "NotSupported", value,
                      "supported values: " + ", ".join(f'"{s}"' for s in supported))


def is_dns1123_subdomain(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 253 and bool(_SUBDOMAIN_RE.match(name))


def is_dns1123_label(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 63 and bool(_LABEL_RE.match(name))


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


def is_qualified_name(value) -> bool:
    """IsQualifiedName: an optional DNS-subdomain prefix and "/", then a name of at most 63
    alphanumerics, '-', '_' or '.' (k8s.io/apimachinery/pkg/util/validation)."""
    if not isinstance(value, str):
        return False
    prefix, _, name = value.rpartition("/")
    return bool(name) and len(name) <= 63 and bool(_QUALIFIED_NAME_RE.match(name)) \
        and (not prefix or is_dns1123_subdomain(prefix))


def validate_labels(labels, field: str) -> list[FieldError]:
    errs = []
    if labels is None:
        return errs
    if not isinstance(labels, dict):
        return [invalid(field, labels, "must be a map of string keys to string values")]
    for k, v in labels.items():
        name = k.rpartition("/")[2]
        prefix = k.rpartition("/")[0]
        if not name or len(name) > 63 or not _QUALIFIED_NAME_RE.match(name) or (prefix and not is_dns1123_subdomain(prefix)):
            errs.append(invalid(field, k, QUALIFIED_NAME_MSG))
        if not isinstance(v, str) or len(v) > 63 or not _LABEL_VALUE_RE.match(v):
            errs.append(invalid(field, v, "a valid label must be an empty string or consist of alphanumeric "
                                "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                                "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
                                "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"))
    return errs


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
    ann = md.get("annotations")
    if ann is not None and not (isinstance(ann, dict) and all(isinstance(v, str) for v in ann.values())):
        errs.append(invalid("metadata.annotations", ann, "must be a map of string keys to string values"))
    return errs


def validate_quantity(value, field: str, non_negative: bool = True) -> list[FieldError]:
    try:
        q = parse_quantity(value)
    except QuantityError as e:
        return [invalid(field, value, str(e))]
    if non_negative and q < 0:
        return [invalid(field, value, "must be greater than or equal to 0")]
    return []


RESTART_POLICIES = ("Always", "OnFailure", "Never")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def validate_pod_spec(spec, field: str) -> list[FieldError]:
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
            port = p.get("containerPort") if isinstance(p, dict) else None
            if not isinstance(port, int) or not 0 < port < 65536:
                errs.append(invalid(f"{cf}.ports[{j}].containerPort", port, "must be between 1 and 65535, inclusive"))
    rp = spec.get("restartPolicy")
    if rp is not None and rp not in RESTART_POLICIES:
        errs.append(not_supported(f"{field}.restartPolicy", rp, RESTART_POLICIES))
    errs += validate_labels(spec.get("nodeSelector"), f"{field}.nodeSelector")
    nn = spec.get("nodeName")
    if nn:
        errs += validate_name(nn, f"{field}.nodeName")
    for i, t in enumerate(spec.get("tolerations") or []):
        if not isinstance(t, dict):
            errs.append(invalid(f"{field}.tolerations[{i}]", t, "must be an object"))
            continue
        op = t.get("operator", "Equal")
        if op not in ("Equal", "Exists"):
            errs.append(not_supported(f"{field}.tolerations[{i}].operator", op, ("Equal", "Exists")))
        if op == "Exists" and t.get("value"):
            errs.append(invalid(f"{field}.tolerations[{i}].operator", t.get("value"),
                                "value must be empty when `operator` is 'Exists'"))
        eff = t.get("effect")
        if eff and eff not in TAINT_EFFECTS:
            errs.append(not_supported(f"{field}.tolerations[{i}].effect", eff, TAINT_EFFECTS))
    tgp = spec.get("terminationGracePeriodSeconds")
    if tgp is not None and (not isinstance(tgp, int) or tgp < 0):
        errs.append(invalid(f"{field}.terminationGracePeriodSeconds", tgp, "must be greater than or equal to 0"))
    pcn = spec.get("priorityClassName")
    if pcn:
        errs += validate_name(pcn, f"{field}.priorityClassName")
    if spec.get("preemptionPolicy") is not None:
        errs += validate_preemption_policy(spec["preemptionPolicy"], f"{field}.preemptionPolicy")
    return errs


def validate_preemption_policy(policy, field: str) -> list[FieldError]:
    """ValidatePreemptionPolicy (pkg/apis/core/validation)."""
    if policy in PREEMPTION_POLICIES:
        return []
    if policy == "":
        return [required(field)]
    return [not_supported(field, policy, PREEMPTION_POLICIES)]


def validate_pod(pod: dict) -> list[FieldError]:
    return validate_object_meta(pod, namespaced=True) + validate_pod_spec(pod.get("spec"), "spec")


_POD_MUTABLE_NOTE = ("pod updates may not change fields other than `spec.containers[*].image`,"
                     "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                     "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                     "(allow it to be set to 1 if it was previously negative)")


def validate_pod_update(new: dict, old: dict) -> list[FieldError]:
    errs = validate_pod(new)

    def strip(spec):
        spec = json.loads(json.dumps(spec or {}))
        for c in spec.get("containers") or []:
            c.pop("image", None)
        spec.pop("tolerations", None)
        spec.pop("activeDeadlineSeconds", None)
        return spec

    if strip(new.get("spec")) != strip(old.get("spec")):
        errs.append(forbidden("spec", _POD_MUTABLE_NOTE))
    return errs


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


def validate_replicaset(rs: dict) -> list[FieldError]:
    errs = validate_object_meta(rs, namespaced=True)
    spec = rs.get("spec")
    if not isinstance(spec, dict):
        return errs + [required("spec")]
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        errs.append(invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
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
    errs += validate_pod_spec(template.get("spec"), "spec.template.spec")
    rp = (template.get("spec") or {}).get("restartPolicy", "Always")
    if rp != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", rp, ("Always",)))
    return errs


def validate_replicaset_update(new: dict, old: dict) -> list[FieldError]:
    errs = validate_replicaset(new)
    if (new.get("spec") or {}).get("selector") != (old.get("spec") or {}).get("selector"):
        errs.append(invalid("spec.selector", (new.get("spec") or {}).get("selector"), "field is immutable"))
    return errs


def validate_node(node: dict) -> list[FieldError]:
    errs = validate_object_meta(node, namespaced=False)
    for i, t in enumerate((node.get("spec") or {}).get("taints") or []):
        if not isinstance(t, dict) or not t.get("key"):
            errs.append(required(f"spec.taints[{i}].key"))
        elif t.get("effect") not in TAINT_EFFECTS:
            errs.append(not_supported(f"spec.taints[{i}].effect", t.get("effect"), TAINT_EFFECTS))
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
    return validate_object_meta(lease, namespaced=True)


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


# -- decoding ------------------------------------------------------------------------------
# A field of the wrong JSON type never reaches validation upstream: decoding into the Go struct
# fails and the request is a 400 BadRequest (apimachinery's json serializer, sigs.k8s.io/json).
def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_error(obj: dict, path: tuple[str, ...], go_type: str, struct: str) -> str | None:
    cur = obj
    for part in path:
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    if cur is None:
        return None
    if go_type == "int32":
        ok = isinstance(cur, int) and not isinstance(cur, bool) and INT32_MIN <= cur <= INT32_MAX
    elif go_type == "bool":
        ok = isinstance(cur, bool)
    else:  # string, or a string type such as v1.PreemptionPolicy
        ok = isinstance(cur, str)
    if ok:
        return None
    kind = _json_kind(cur)
    if go_type != "int32" or not kind.startswith("number"):
        kind = kind.split(" ")[0]
    # Go names the innermost struct and the field's whole JSON path.
    return f"json: cannot unmarshal {kind} into Go struct field {struct}.{'.'.join(path)} of type {go_type}"


def priority_class_type_error(pc: dict) -> str | None:
    for path, go_type in ((("value",), "int32"), (("globalDefault",), "bool"), (("description",), "string"),
                          (("preemptionPolicy",), "v1.PreemptionPolicy")):
        msg = _type_error(pc, path, go_type, "PriorityClass")
        if msg:
            return msg
    return None


def pod_type_error(pod: dict) -> str | None:
    for path, go_type in ((("spec", "priority"), "int32"), (("spec", "priorityClassName"), "string"),
                          (("spec", "preemptionPolicy"), "v1.PreemptionPolicy")):
        msg = _type_error(pod, path, go_type, "PodSpec")
        if msg:
            return msg
    return None
