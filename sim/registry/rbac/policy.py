"""What the four RBAC kinds share: their Go types (k8s.io/api/rbac/v1/types.go), defaulting
(pkg/apis/rbac/v1/defaults.go), validation (pkg/apis/rbac/validation/validation.go), the
printers' cells (pkg/printers/internalversion/printers.go) and the strategy that runs the
escalation check of upstream's policy-based storage (sim/auth/escalation.py) on every write made
by a user."""
from __future__ import annotations

from typing import Any

from sim.api import validation as v
from sim.api.gotypes import STRING, Slice, struct
from sim.api.meta import deep_copy
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, TYPE_META
from sim.api.selectors import SelectorError, label_selector_as_selector
from sim.auth import escalation, rbac
from sim.registry.printers import AGE, NAME, col
from sim.registry.strategy import Strategy

GROUP = rbac.GROUP
STRINGS = Slice(STRING)
POLICY_RULE = struct("v1.PolicyRule", verbs=STRINGS, apiGroups=STRINGS, resources=STRINGS, resourceNames=STRINGS,
                     nonResourceURLs=STRINGS)
SUBJECT = struct("v1.Subject", kind=STRING, apiGroup=STRING, name=STRING, namespace=STRING)
ROLE_REF = struct("v1.RoleRef", apiGroup=STRING, kind=STRING, name=STRING)
AGGREGATION_RULE = struct("v1.AggregationRule", clusterRoleSelectors=Slice(LABEL_SELECTOR))
ROLE = struct("v1.Role", **TYPE_META, metadata=OBJECT_META, rules=Slice(POLICY_RULE))
CLUSTER_ROLE = struct("v1.ClusterRole", **TYPE_META, metadata=OBJECT_META, rules=Slice(POLICY_RULE),
                      aggregationRule=AGGREGATION_RULE)
ROLE_BINDING = struct("v1.RoleBinding", **TYPE_META, metadata=OBJECT_META, subjects=Slice(SUBJECT), roleRef=ROLE_REF)
CLUSTER_ROLE_BINDING = struct("v1.ClusterRoleBinding", **TYPE_META, metadata=OBJECT_META, subjects=Slice(SUBJECT),
                              roleRef=ROLE_REF)
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


# -- validation -------------------------------------------------------------------------------
def path_segment_errors(name: str) -> list[str]:
    """path.IsValidPathSegmentName (ValidateRBACName): RBAC names may hold ':' ("system:node")."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def validate_meta(obj: dict, namespaced: bool) -> list:
    """ValidateObjectMeta with ValidateRBACName: the project's checks of everything but the
    name, which is only a path segment."""
    md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = md.get("name")
    probe = dict(obj, metadata=dict(md, name="x" if name else ""))
    errs = v.validate_object_meta(probe, namespaced)
    if name:
        errs = [v.invalid("metadata.name", name, m) for m in path_segment_errors(name)] + errs
    return errs


def validate_policy_rule(rule: Any, namespaced: bool, field: str) -> list:
    """ValidatePolicyRule."""
    rule = rule if isinstance(rule, dict) else {}
    errs = []
    if not rule.get("verbs"):
        errs.append(v.required(f"{field}.verbs", "verbs must contain at least one value"))
    if rule.get("nonResourceURLs"):
        urls = rule["nonResourceURLs"]
        if namespaced:
            errs.append(v.invalid(f"{field}.nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs"))
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            errs.append(v.invalid(f"{field}.nonResourceURLs", urls,
                                  "rules cannot apply to both regular resources and non-resource URLs"))
        return errs
    if not rule.get("apiGroups"):
        errs.append(v.required(f"{field}.apiGroups", "resource rules must supply at least one api group"))
    if not rule.get("resources"):
        errs.append(v.required(f"{field}.resources", "resource rules must supply at least one resource"))
    return errs


def validate_rules(obj: dict, namespaced: bool) -> list:
    return [e for i, r in enumerate(obj.get("rules") or []) for e in validate_policy_rule(r, namespaced, f"rules[{i}]")]


def validate_aggregation_rule(obj: dict) -> list:
    """ValidateClusterRole's aggregationRule checks."""
    agg = obj.get("aggregationRule")
    if agg is None:
        return []
    selectors = (agg or {}).get("clusterRoleSelectors") or []
    if not selectors:
        return [v.required("aggregationRule.clusterRoleSelectors",
                           "at least one clusterRoleSelector required if aggregationRule is non-nil")]
    errs = []
    for i, sel in enumerate(selectors):
        field = f"aggregationRule.clusterRoleSelectors[{i}]"
        errs += v.validate_label_selector(sel, field)
        try:
            label_selector_as_selector(sel)
        except SelectorError:
            errs.append(v.invalid(field, sel, "invalid label selector."))
    return errs


def validate_subject(subject: Any, namespaced: bool, field: str) -> list:
    """ValidateRoleBindingSubject."""
    s = subject if isinstance(subject, dict) else {}
    errs, name, kind, group = [], s.get("name") or "", s.get("kind") or "", s.get("apiGroup") or ""
    if not name:
        errs.append(v.required(f"{field}.name", ""))
    if kind == "ServiceAccount":
        if name:
            errs += [v.invalid(f"{field}.name", name, m) for m in v.dns1123_subdomain_errors(name)]
        if group:
            errs.append(v.not_supported(f"{field}.apiGroup", group, [""]))
        if not namespaced and not s.get("namespace"):
            errs.append(v.required(f"{field}.namespace", ""))
    elif kind in ("User", "Group"):
        if group != GROUP:
            errs.append(v.not_supported(f"{field}.apiGroup", group, [GROUP]))
    else:
        errs.append(v.not_supported(f"{field}.kind", kind, list(SUBJECT_KINDS)))
    return errs


def validate_binding(obj: dict, namespaced: bool) -> list:
    """ValidateRoleBinding / ValidateClusterRoleBinding."""
    errs = validate_meta(obj, namespaced)
    ref = obj.get("roleRef") if isinstance(obj.get("roleRef"), dict) else {}
    if ref.get("apiGroup", "") != GROUP:
        errs.append(v.not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), [GROUP]))
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("kind", "") not in kinds:
        errs.append(v.not_supported("roleRef.kind", ref.get("kind", ""), kinds))
    if not ref.get("name"):
        errs.append(v.required("roleRef.name", ""))
    else:
        errs += [v.invalid("roleRef.name", ref["name"], m) for m in path_segment_errors(ref["name"])]
    return errs + [e for i, s in enumerate(obj.get("subjects") or [])
                   for e in validate_subject(s, namespaced, f"subjects[{i}]")]


def validate_binding_update(new: dict, old: dict, namespaced: bool) -> list:
    """ValidateRoleBindingUpdate: the roleRef may not change."""
    errs = validate_binding(new, namespaced)
    if (new.get("roleRef") or {}) != (old.get("roleRef") or {}):
        errs.append(v.invalid("roleRef", new.get("roleRef"), "cannot change roleRef"))
    return errs


# -- defaulting ----------------------------------------------------------------------------------
def default_binding(obj: dict) -> dict:
    """SetDefaults_RoleBinding / _ClusterRoleBinding / _Subject: the rbac group where empty."""
    obj = deep_copy(obj)
    ref = obj.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = GROUP
    for s in obj.get("subjects") or []:
        if isinstance(s, dict) and not s.get("apiGroup") and s.get("kind") in ("User", "Group"):
            s["apiGroup"] = GROUP
    return obj


# -- the strategies -------------------------------------------------------------------------------
class PolicyBasedStrategy(Strategy):
    """The generic store behind upstream's policybased.Storage: `authorize_write` refuses what
    would escalate the requesting user's privileges (sim/auth/escalation.py)."""
    default_copies = True
    check = staticmethod(escalation.check_role)

    def authorize_write(self, res, obj: dict, old: dict | None, user: dict | None, ctx,
                        sub: str | None = None) -> dict | None:
        return type(self).check(rbac.RuleResolver(ctx.cache.objects), user, res, obj, old)


class BindingStrategy(PolicyBasedStrategy):
    check = staticmethod(escalation.check_binding)
    namespaced = True

    def default(self, obj, ctx):
        return default_binding(obj)

    def validate(self, obj):
        return validate_binding(obj, self.namespaced)

    def validate_update(self, new, old):
        return validate_binding_update(new, old, self.namespaced)


# -- printing ----------------------------------------------------------------------------------
CREATED_AT = col("Created At", "date", description="CreationTimestamp is a timestamp representing the server time "
                                                     "when this object was created. It is not guaranteed to be set in "
                                                     "happens-before order across separate operations. Clients may "
                                                     "not set this value. It is represented in RFC3339 form and is in "
                                                     "UTC.\n\nPopulated by the system. Read-only. Null for lists. More "
                                                     "info: https://git.k8s.io/community/contributors/devel/"
                                                     "sig-architecture/api-conventions.md#metadata")
ROLE_COLUMNS = [NAME, CREATED_AT]
BINDING_COLUMNS = [NAME, col("Role", description="RoleRef can only reference the current namespace and the global "
                                                 "namespace. If the RoleRef cannot be resolved, the Authorizer must "
                                                 "return an error."),
                   AGE,
                   col("Users", priority=1, description="Users in the binding"),
                   col("Groups", priority=1, description="Groups in the binding"),
                   col("ServiceAccounts", priority=1, description="ServiceAccounts in the binding")]


def role_row(role: dict, now: float) -> list[Any]:
    """printRole / printClusterRole: the name and creationTimestamp in RFC 3339."""
    md = role.get("metadata") or {}
    return [md.get("name", ""), md.get("creationTimestamp") or ""]


def binding_row(binding: dict, now: float) -> list[Any]:
    """printRoleBinding / printClusterRoleBinding, with rbac.SubjectsStrings for -o wide."""
    from sim.registry.printers import since
    md, ref = binding.get("metadata") or {}, binding.get("roleRef") or {}
    users, groups, sas = [], [], []
    for s in binding.get("subjects") or []:
        if s.get("kind") == "User":
            users.append(s.get("name", ""))
        elif s.get("kind") == "Group":
            groups.append(s.get("name", ""))
        elif s.get("kind") == "ServiceAccount":
            sas.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
    return [md.get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}", since(md.get("creationTimestamp"), now),
            ", ".join(users), ", ".join(groups), ", ".join(sas)]
