"""RBAC's escalation prevention, as the policy-based storage of the four RBAC kinds does it
(pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased/storage.go,
pkg/registry/rbac/escalation_check.go, pkg/registry/rbac/validation/policy_comparator.go and
rule.go ConfirmNoEscalation): a user may write a role only with permissions they hold (or with
the `escalate` verb on it), and bind a role only if they hold its permissions (or the `bind`
verb on it).  system:masters, and the in-cluster components (no user: upstream's loopback
client is in system:masters), may do anything.
"""
from __future__ import annotations

from sim.api.gofmt import go_quote
from sim.auth import rbac
from sim.auth.user import is_privileged

FULL_AUTHORITY = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, {"verbs": ["*"], "nonResourceURLs": ["*"]}]


def _q(values) -> str:
    """%q of a []string: ["a" "b"]."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def breakdown_rule(rule: dict) -> list[dict]:
    """BreakdownRule: one rule per verb x group x resource (x name), and per verb x URL."""
    out = []
    for group in rule.get("apiGroups") or ():
        for resource in rule.get("resources") or ():
            for verb in rule.get("verbs") or ():
                names = rule.get("resourceNames") or ()
                if names:
                    out += [{"apiGroups": [group], "resources": [resource], "verbs": [verb], "resourceNames": [n]}
                            for n in names]
                else:
                    out.append({"apiGroups": [group], "resources": [resource], "verbs": [verb]})
    for url in rule.get("nonResourceURLs") or ():
        out += [{"nonResourceURLs": [url], "verbs": [verb]} for verb in rule.get("verbs") or ()]
    return out


def _has_all(owner: list, wanted: list) -> bool:
    return set(wanted) <= set(owner)


def _resource_covers(owner: list, required: str) -> bool:
    for r in owner:
        if r == "*" or r == required:
            return True
        if r.startswith("*/") and "/" in required and required.endswith(r[1:]):
            return True  # "*/scale" covers "deployments/scale"
    return False


def _url_covers(owner: list, required: str) -> bool:
    return any(u == "*" or u == required or (u.endswith("*") and required.startswith(u.rstrip("*"))) for u in owner)


def rule_covers(owner: dict, sub: dict) -> bool:
    """ruleCovers."""
    verbs, groups = owner.get("verbs") or [], owner.get("apiGroups") or []
    owner_names = owner.get("resourceNames") or []
    sub_names = sub.get("resourceNames") or []
    return (("*" in verbs or _has_all(verbs, sub.get("verbs") or []))
            and ("*" in groups or _has_all(groups, sub.get("apiGroups") or []))
            and all(_resource_covers(owner.get("resources") or [], r) for r in sub.get("resources") or [])
            and all(_url_covers(owner.get("nonResourceURLs") or [], u) for u in sub.get("nonResourceURLs") or [])
            and (not owner_names if not sub_names else not owner_names or _has_all(owner_names, sub_names)))


def covers(owner_rules: list[dict], servant_rules: list[dict]) -> tuple[bool, list[dict]]:
    """Covers: whether the owner's rules cover every servant rule, and the sub-rules they miss."""
    missing = [sub for rule in servant_rules for sub in breakdown_rule(rule)
               if not any(rule_covers(o, sub) for o in owner_rules)]
    return not missing, missing


def compact_rules(rules: list[dict]) -> list[dict]:
    """CompactRules: simple rules (one group, one resource, at most one name) of the same
    resource are merged into one with all their verbs."""
    compacted, simple = [], {}
    for rule in rules:
        groups, resources, names = rule.get("apiGroups") or [], rule.get("resources") or [], rule.get("resourceNames") or []
        if not rule.get("nonResourceURLs") and len(groups) == 1 and len(resources) == 1 and len(names) <= 1:
            key = (groups[0], resources[0], tuple(names))
            if key in simple:
                simple[key]["verbs"] = [*simple[key]["verbs"], *rule.get("verbs", [])]
            else:
                simple[key] = {k: list(v) for k, v in rule.items()}
        else:
            compacted.append(rule)
    return compacted + list(simple.values())


def compact_string(rule: dict) -> str:
    """PolicyRule.CompactString."""
    parts = [f"{label}:{_q(rule[key])}" for label, key in (("APIGroups", "apiGroups"), ("Resources", "resources"),
                                                          ("NonResourceURLs", "nonResourceURLs"),
                                                          ("ResourceNames", "resourceNames"), ("Verbs", "verbs"))
             if rule.get(key)]
    return "{" + ", ".join(parts) + "}"


def confirm_no_escalation(resolver: rbac.RuleResolver, user: dict, namespace: str, rules: list[dict]) -> str | None:
    """ConfirmNoEscalation: None, or the error upstream words."""
    owner_rules, errors = resolver.rules_for(user, namespace)
    ok, missing = covers(owner_rules, rules)
    if ok:
        return None
    lines = sorted({compact_string(r) for r in compact_rules(missing)})
    msg = (f"user {go_quote(user.get('username', ''))} (groups={_q(user.get('groups') or [])}) is attempting to "
           f"grant RBAC permissions not currently held:\n" + "\n".join(lines))
    if errors:
        msg += f"; resolution errors: [{' '.join(errors)}]"
    return msg


def escalation_allowed(user: dict | None) -> bool:
    """EscalationAllowed: no user (the in-cluster components) or system:masters."""
    return user is None or is_privileged(user)


def verb_authorized(resolver: rbac.RuleResolver, user: dict, verb: str, resource: str, namespace: str,
                    name: str) -> bool:
    """RoleEscalationAuthorized (`escalate`) and BindingAuthorized (`bind`)."""
    attrs = rbac.resource_attributes(user, verb, rbac.GROUP, resource, "", namespace, name)
    return rbac.authorize(resolver, attrs)[0]


def check_role(resolver: rbac.RuleResolver, user: dict | None, res, obj: dict, old: dict | None) -> dict | None:
    """The policy-based storage of Roles and ClusterRoles: a 403 Status, or None."""
    if escalation_allowed(user):
        return None
    md = obj.get("metadata") or {}
    namespace, name = md.get("namespace", "") if res.namespaced else "", md.get("name", "")
    if old is not None and (old.get("rules") or []) == (obj.get("rules") or []) \
            and old.get("aggregationRule") == obj.get("aggregationRule"):
        return None  # IsOnlyMutatingGCFields and friends: the permissions did not change
    if verb_authorized(resolver, user, "escalate", res.name, namespace, name if old is not None else ""):
        return None
    problem = confirm_no_escalation(resolver, user, namespace, obj.get("rules") or [])
    if problem is None and obj.get("aggregationRule") is not None \
            and confirm_no_escalation(resolver, user, namespace, FULL_AUTHORITY) is not None:
        problem = "must have cluster-admin privileges to use the aggregationRule"
    return None if problem is None else rbac.forbidden_status(res.group, res.name, name, problem)


def check_binding(resolver: rbac.RuleResolver, user: dict | None, res, obj: dict, old: dict | None) -> dict | None:
    """The policy-based storage of RoleBindings and ClusterRoleBindings: a 403 Status, or None."""
    if escalation_allowed(user):
        return None
    md = obj.get("metadata") or {}
    namespace, name = md.get("namespace", "") if res.namespaced else "", md.get("name", "")
    ref = obj.get("roleRef") or {}
    if old is not None and old.get("roleRef") == ref and old.get("subjects") == obj.get("subjects"):
        return None
    resource = "roles" if ref.get("kind") == "Role" else "clusterroles"
    if verb_authorized(resolver, user, "bind", resource, namespace, ref.get("name", "")):
        return None
    try:
        rules = resolver.role_reference_rules(ref, namespace)
    except LookupError as e:
        return rbac.forbidden_status(res.group, res.name, name, str(e))
    problem = confirm_no_escalation(resolver, user, namespace, rules)
    return None if problem is None else rbac.forbidden_status(res.group, res.name, name, problem)
