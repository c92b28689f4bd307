"""A CustomResourceDefinition, validated as k8s.io/apiextensions-apiserver/pkg/apis/
apiextensions/validation/validation.go validates it (ValidateCustomResourceDefinition,
ValidateCustomResourceDefinitionUpdate, ValidateUpdateCustomResourceDefinitionStatus).

Upstream validates the internal form of the v1 object (apis/apiextensions/v1/conversion.go):
spec.version is versions[0].name, and a schema, subresources or additionalPrinterColumns that
every version shares is lifted to spec.validation / spec.subresources /
spec.additionalPrinterColumns.  So errors in a single-version CRD's schema are reported under
spec.validation.openAPIV3Schema, and those of versions that differ under
spec.versions[i].schema.openAPIV3Schema, exactly as kube-apiserver reports them; to_internal
reproduces that conversion."""
from __future__ import annotations

import copy
import re
import unicodedata
from urllib.parse import urlparse

from sim.api.validation import (FieldError, GoSyntax, forbidden, invalid, not_supported, required,
                                dns1123_subdomain_errors, validate_object_meta)
from sim.apiextensions.openapischema import validate_version_schema
from sim.apiextensions.schemautil import child, index, key

DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035 = re.compile("^" + DNS1035_LABEL_FMT + "$")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               "regex used for validation is '" + DNS1035_LABEL_FMT + "')")
PRINTER_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")          # sets.List: sorted
PRINTER_COLUMN_FORMATS = ("byte", "date", "date-time", "double", "float", "int32", "int64", "password")
KUBE_API_APPROVED = "api-approved.kubernetes.io"
_VERSIONS_VALUE = GoSyntax("[]apiextensions.CustomResourceDefinitionVersion{...}")   # upstream prints the structs


def dns1035_label_errors(value: str) -> list[str]:
    """validation.IsDNS1035Label."""
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035.match(value):
        errs.append(DNS1035_MSG)
    return errs


def _obj(v) -> dict:
    return v if isinstance(v, dict) else {}


def _list(v) -> list:
    return v if isinstance(v, list) else []


def to_internal(spec: dict) -> dict:
    """Convert_v1_CustomResourceDefinitionSpec_To_apiextensions_CustomResourceDefinitionSpec."""
    out = copy.deepcopy(spec)
    versions = [v if isinstance(v, dict) else {} for v in _list(out.get("versions"))]
    out["versions"] = versions
    if not versions:
        return out
    out["version"] = versions[0].get("name") or ""
    for v1_name, top in (("schema", "validation"), ("subresources", "subresources"),
                         ("additionalPrinterColumns", "additionalPrinterColumns")):
        first = versions[0].get(v1_name)
        if all(v.get(v1_name) == first for v in versions):
            out[top] = first
            for v in versions:
                v.pop(v1_name, None)
    return out


# -- create / update / status ---------------------------------------------------------------
def validate_crd(crd: dict) -> list[FieldError]:
    """ValidateCustomResourceDefinition (the object already defaulted and prepared)."""
    spec = to_internal(_obj(crd.get("spec")))
    errs = _validate_meta(crd, spec)
    errs += _validate_spec(spec, "spec", immutable_names=False)
    status = _obj(crd.get("status"))
    errs += validate_names(_obj(status.get("acceptedNames")), "status.acceptedNames")
    errs += validate_stored_versions(status.get("storedVersions"), spec["versions"], "status.storedVersions")
    errs += _validate_api_approval(crd, None)
    errs += _validate_preserve_unknown_fields(crd, None)
    return errs


def validate_crd_update(new: dict, old: dict) -> list[FieldError]:
    """ValidateCustomResourceDefinitionUpdate: as on create, and group and names.plural never
    change, scope and names.kind not once the CRD is Established."""
    spec = to_internal(_obj(new.get("spec")))
    old_spec = _obj(old.get("spec"))
    established = any(c.get("type") == "Established" and c.get("status") == "True"
                      for c in _list(_obj(old.get("status")).get("conditions")) if isinstance(c, dict))
    errs = _validate_spec(spec, "spec", immutable_names=established)
    if established:
        errs += _immutable(spec.get("scope"), old_spec.get("scope"), "spec.scope")
        errs += _immutable(_obj(spec.get("names")).get("kind"), _obj(old_spec.get("names")).get("kind"), "spec.names.kind")
    errs += _immutable(spec.get("group"), old_spec.get("group"), "spec.group")
    errs += _immutable(_obj(spec.get("names")).get("plural"), _obj(old_spec.get("names")).get("plural"), "spec.names.plural")
    status = _obj(new.get("status"))
    errs += validate_names(_obj(status.get("acceptedNames")), "status.acceptedNames")
    errs += validate_stored_versions(status.get("storedVersions"), spec["versions"], "status.storedVersions")
    errs += _validate_api_approval(new, old)
    errs += _validate_preserve_unknown_fields(new, old)
    return errs


def validate_crd_status_update(new: dict, old: dict) -> list[FieldError]:
    """ValidateUpdateCustomResourceDefinitionStatus (metadata update rules are the server's)."""
    return validate_names(_obj(_obj(new.get("status")).get("acceptedNames")), "status.acceptedNames")


def _immutable(new, old, path: str) -> list[FieldError]:
    return [] if new == old else [invalid(path, new, "field is immutable")]


def _validate_meta(crd: dict, spec: dict) -> list[FieldError]:
    """ValidateObjectMeta with the CRD's name rule: a DNS subdomain that is
    spec.names.plural+"."+spec.group."""
    errs = validate_object_meta(crd, namespaced=False)
    name = _obj(crd.get("metadata")).get("name")
    names = _obj(spec.get("names"))
    if name and name != f"{names.get('plural') or ''}.{spec.get('group') or ''}":
        errs.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    return errs


def validate_stored_versions(stored, versions: list, path: str) -> list[FieldError]:
    """ValidateCustomResourceDefinitionStoredVersions."""
    stored = _list(stored)
    if not stored:
        return [invalid(path, GoSyntax("[]string(nil)" if stored is None else "[]string{}"), "must have at least one stored version")]
    errs: list[FieldError] = []
    where = {v: i for i, v in enumerate(stored)}
    for v in versions:
        name = v.get("name")
        if v.get("storage") and name not in where:
            errs.append(invalid(path, GoSyntax("[]string{" + ", ".join(f'"{s}"' for s in stored) + "}"),
                                f"must have the storage version {name}"))
        where.pop(name, None)
    for v, i in where.items():
        errs.append(invalid(index(path, i), v, f"missing from spec.versions; {v} was previously a storage version, and must "
                                               f"remain in spec.versions until a storage migration ensures no data remains "
                                               f"persisted in {v} and removes {v} from status.storedVersions"))
    return errs


def _validate_spec(spec: dict, path: str, immutable_names: bool) -> list[FieldError]:
    """validateCustomResourceDefinitionSpec over the internal spec."""
    errs: list[FieldError] = []
    group = spec.get("group") or ""
    if not group:
        errs.append(required(child(path, "group")))
    elif dns1123_subdomain_errors(group):
        errs.append(invalid(child(path, "group"), group, ",".join(dns1123_subdomain_errors(group))))
    elif len(group.split(".")) < 2:
        errs.append(invalid(child(path, "group"), group, "should be a domain with at least one dot"))
    scope = spec.get("scope") or ""
    if not scope:
        errs.append(required(child(path, "scope")))
    elif scope not in ("Cluster", "Namespaced"):
        errs.append(not_supported(child(path, "scope"), scope, ["Cluster", "Namespaced"]))
    versions = spec["versions"]
    validation = _obj(spec.get("validation")) if spec.get("validation") is not None else None
    # requireOpenAPISchema: every version needs a schema (v1 always requires one).
    if validation is None or validation.get("openAPIV3Schema") is None:
        for i, v in enumerate(versions):
            if v.get("schema") is None or _obj(v.get("schema")).get("openAPIV3Schema") is None:
                errs.append(required(child(index(child(path, "versions"), i), "schema.openAPIV3Schema"), "schemas are required"))
    storage, seen, unique = 0, set(), True
    for i, v in enumerate(versions):
        vp = index(child(path, "versions"), i)
        if v.get("storage"):
            storage += 1
        name = v.get("name") or ""
        if name in seen:
            unique = False
        seen.add(name)
        if dns1035_label_errors(name):
            errs.append(invalid(child(vp, "name"), name, ",".join(dns1035_label_errors(name))))
        errs += _validate_version(spec, v, vp)
    if not unique:
        errs.append(invalid(child(path, "versions"), _VERSIONS_VALUE, "must contain unique version names"))
    if storage != 1:
        errs.append(invalid(child(path, "versions"), _VERSIONS_VALUE, "must have exactly one version marked as storage version"))
    version = spec.get("version") or ""
    if version:
        if dns1035_label_errors(version):
            errs.append(invalid(child(path, "version"), version, ",".join(dns1035_label_errors(version))))
    names = _obj(spec.get("names"))
    for n in ("plural", "singular", "kind", "listKind"):
        if not names.get(n):
            errs.append(required(child(path, f"names.{n}")))
    errs += validate_names(names, child(path, "names"))
    if validation is not None:
        errs += validate_version_schema(validation.get("openAPIV3Schema"), _any_status_enabled(spec), child(path, "validation"))
    errs += validate_subresources(spec.get("subresources"), child(path, "subresources"))
    for i, col in enumerate(_list(spec.get("additionalPrinterColumns"))):
        errs += validate_printer_column(_obj(col), index(child(path, "additionalPrinterColumns"), i))
    errs += _validate_conversion(spec.get("conversion"), child(path, "conversion"))
    return errs


def _subresources_for(spec: dict, version: dict):
    if not any(v.get("subresources") is not None for v in spec["versions"]):
        return spec.get("subresources")
    return version.get("subresources")


def _status_enabled(sub) -> bool:
    return isinstance(sub, dict) and sub.get("status") is not None


def _any_status_enabled(spec: dict) -> bool:
    return _status_enabled(spec.get("subresources")) or any(_status_enabled(v.get("subresources")) for v in spec["versions"])


def _validate_version(spec: dict, v: dict, path: str) -> list[FieldError]:
    """validateCustomResourceDefinitionVersion."""
    errs = [invalid(child(path, "deprecationWarning"), v.get("deprecationWarning"), m)
            for m in _deprecation_warning_errors(bool(v.get("deprecated")), v.get("deprecationWarning"))]
    schema = v.get("schema")
    if schema is not None:
        errs += validate_version_schema(_obj(schema).get("openAPIV3Schema"),
                                        _status_enabled(_subresources_for(spec, v)), child(path, "schema"))
    errs += validate_subresources(v.get("subresources"), child(path, "subresources"))
    for i, col in enumerate(_list(v.get("additionalPrinterColumns"))):
        errs += validate_printer_column(_obj(col), index(child(path, "additionalPrinterColumns"), i))
    return errs


def _deprecation_warning_errors(deprecated: bool, warning) -> list[str]:
    if not deprecated and warning is not None:
        return ["can only be set for deprecated versions"]
    if warning is None:
        return []
    errs = []
    if len(warning) > 256:
        errs.append("must be <= 256 characters long")
    if len(warning) == 0:
        errs.append("must not be an empty string")
    for i, ch in enumerate(warning):
        if unicodedata.category(ch) in ("Cc",):
            errs.append(f"must only contain printable UTF-8 characters; control character found at index {len(warning[:i].encode())}")
            break
        if not ch.isprintable() and ch != " ":
            errs.append(f"must only contain printable UTF-8 characters; non-printable character found at index {len(warning[:i].encode())}")
            break
    return errs


def validate_names(names: dict, path: str) -> list[FieldError]:
    """ValidateCustomResourceDefinitionNames: DNS-1035 labels, kind and listKind in any case."""
    errs: list[FieldError] = []
    for n in ("plural", "singular"):
        val = names.get(n) or ""
        if val and dns1035_label_errors(val):
            errs.append(invalid(child(path, n), val, ",".join(dns1035_label_errors(val))))
    for n in ("kind", "listKind"):
        val = names.get(n) or ""
        if val and dns1035_label_errors(val.lower()):
            errs.append(invalid(child(path, n), val, "may have mixed case, but should otherwise match: "
                                + ",".join(dns1035_label_errors(val.lower()))))
    for i, s in enumerate(_list(names.get("shortNames"))):
        if dns1035_label_errors(s or ""):
            errs.append(invalid(index(child(path, "shortNames"), i), s, ",".join(dns1035_label_errors(s or ""))))
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        errs.append(invalid(child(path, "listKind"), names["listKind"], "kind and listKind may not be the same"))
    for i, c in enumerate(_list(names.get("categories"))):
        if dns1035_label_errors(c or ""):
            errs.append(invalid(index(child(path, "categories"), i), c, ",".join(dns1035_label_errors(c or ""))))
    return errs


def _simple_json_path(s: str, path: str) -> list[FieldError]:
    """validateSimpleJSONPath."""
    if not s:
        return [invalid(path, s, "must not be empty")]
    if s[0] != ".":
        return [invalid(path, s, "must be a simple json path starting with .")]
    return []


def validate_subresources(sub, path: str) -> list[FieldError]:
    """ValidateCustomResourceDefinitionSubresources: scale's paths under .spec / .status."""
    if not isinstance(sub, dict) or not isinstance(sub.get("scale"), dict):
        return []
    scale = sub["scale"]
    errs: list[FieldError] = []
    for name, prefix, what in (("specReplicasPath", ".spec.", ".spec"), ("statusReplicasPath", ".status.", ".status")):
        p = child(path, f"scale.{name}")
        val = scale.get(name) or ""
        if not val:
            errs.append(required(p))
        else:
            e = _simple_json_path(val, p)
            if e:
                errs += e
            elif not val.startswith(prefix):
                errs.append(invalid(p, val, f"should be a json path under {what}"))
    sel = scale.get("labelSelectorPath")
    if sel:
        p = child(path, "scale.labelSelectorPath")
        e = _simple_json_path(sel, p)
        if e:
            errs += e
        elif not sel.startswith(".spec.") and not sel.startswith(".status."):
            errs.append(invalid(p, sel, "should be a json path under either .spec or .status"))
    return errs


def validate_printer_column(col: dict, path: str) -> list[FieldError]:
    """ValidateCustomResourceColumnDefinition (upstream names the jsonPath field "JSONPath")."""
    errs: list[FieldError] = []
    if not col.get("name"):
        errs.append(required(child(path, "name")))
    typ = col.get("type") or ""
    types = ",".join(PRINTER_COLUMN_TYPES)
    if not typ:
        errs.append(required(child(path, "type"), f"must be one of {types}"))
    elif typ not in PRINTER_COLUMN_TYPES:
        errs.append(invalid(child(path, "type"), typ, f"must be one of {types}"))
    fmt = col.get("format") or ""
    if fmt and fmt not in PRINTER_COLUMN_FORMATS:
        errs.append(invalid(child(path, "format"), fmt, f"must be one of {','.join(PRINTER_COLUMN_FORMATS)}"))
    jp = col.get("jsonPath") or ""
    if not jp:
        errs.append(required(child(path, "JSONPath")))
    else:
        errs += _simple_json_path(jp, child(path, "JSONPath"))
    return errs


def _validate_conversion(conv, path: str) -> list[FieldError]:
    """validateCustomResourceConversion.  The simulator cannot call a conversion webhook, so a
    Webhook strategy is refused (after upstream's own checks) rather than accepted and broken."""
    if not isinstance(conv, dict):
        return []
    strategy = conv.get("strategy") or ""
    if not strategy:
        return [required(child(path, "strategy"))]
    if strategy not in ("None", "Webhook"):
        return [not_supported(child(path, "strategy"), strategy, ["None", "Webhook"])]
    webhook = _obj(conv.get("webhook"))
    if strategy == "Webhook":
        errs: list[FieldError] = []
        if webhook.get("clientConfig") is None:
            errs.append(required(child(path, "webhookClientConfig"), "required when strategy is set to Webhook"))
        if not _list(webhook.get("conversionReviewVersions")):
            errs.append(required(child(path, "conversionReviewVersions")))
        errs.append(forbidden(child(path, "strategy"), "Webhook conversion is not supported by this simulated cluster "
                                                       "(it cannot reach a webhook); use None"))
        return errs
    errs = []
    if webhook.get("clientConfig") is not None:
        errs.append(forbidden(child(path, "webhookClientConfig"), "should not be set when strategy is not set to Webhook"))
    if _list(webhook.get("conversionReviewVersions")):
        errs.append(forbidden(child(path, "conversionReviewVersions"), "should not be set when strategy is not set to Webhook"))
    return errs


def _is_protected_group(group: str) -> bool:
    """apihelpers.IsProtectedCommunityGroup: *.k8s.io and *.kubernetes.io."""
    return group in ("k8s.io", "kubernetes.io") or group.endswith(".k8s.io") or group.endswith(".kubernetes.io")


def _approval_state(annotations: dict) -> tuple[str, str]:
    """apihelpers.GetAPIApprovalState."""
    if KUBE_API_APPROVED not in annotations:
        return "Missing", (f'protected groups must have approval annotation "{KUBE_API_APPROVED}", see '
                           "https://github.com/kubernetes/enhancements/pull/1111")
    v = annotations[KUBE_API_APPROVED]
    if v.startswith("unapproved"):
        return "Bypassed", ""
    u = urlparse(v)
    if u.scheme and u.netloc:
        return "Approved", ""
    return "Invalid", (f'protected groups must have approval annotation "{KUBE_API_APPROVED}" with either a URL or a '
                       'reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111')


def _validate_api_approval(new: dict, old: dict | None) -> list[FieldError]:
    """validateAPIApproval: a CRD in a kube group carries api-approved.kubernetes.io."""
    if not _is_protected_group(_obj(new.get("spec")).get("group") or ""):
        return []
    ann = _obj(_obj(new.get("metadata")).get("annotations"))
    state, reason = _approval_state(ann)
    if old is not None and _approval_state(_obj(_obj(old.get("metadata")).get("annotations")))[0] == state:
        return []
    p = key("metadata.annotations", KUBE_API_APPROVED)
    if state == "Missing":
        return [required(p, reason)]
    if state == "Invalid":
        return [invalid(p, ann.get(KUBE_API_APPROVED), reason)]
    return []


def _validate_preserve_unknown_fields(new: dict, old: dict | None) -> list[FieldError]:
    if old is not None and _obj(old.get("spec")).get("preserveUnknownFields"):
        return []
    if _obj(new.get("spec")).get("preserveUnknownFields"):
        return [invalid("spec.preserveUnknownFields", True,
                        "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead")]
    return []
