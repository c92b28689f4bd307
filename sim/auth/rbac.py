"""The RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go) and its rule resolver
(pkg/registry/rbac/validation/rule.go DefaultRuleResolver), reading Roles, ClusterRoles and
their bindings from the API server's watch cache, as upstream reads its informers.

A request is described by its authorizer.Attributes (`Attributes` below, built by
`resource_attributes` / `non_resource_attributes`); `authorize` answers (allowed, reason) as
kube-apiserver's authorizer chain does: system:masters first (the privileged-group authorizer),
then RBAC, whose reason is "" unless a binding named a role that is not there.  `forbidden`
words the 403 as responsewriters.Forbidden does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from sim.api import status as st
from sim.api.gofmt import aggregate
from sim.auth.serviceaccount import make_username
from sim.auth.user import is_privileged

GROUP = "rbac.authorization.k8s.io"
ROLES, CLUSTER_ROLES = f"roles.{GROUP}", f"clusterroles.{GROUP}"
ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS = f"rolebindings.{GROUP}", f"clusterrolebindings.{GROUP}"
VERB_ALL = API_GROUP_ALL = RESOURCE_ALL = NON_RESOURCE_ALL = "*"


@dataclass
class Attributes:
    """authorizer.AttributesRecord."""
    user: dict
    verb: str
    resource_request: bool
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""


def resource_attributes(user: dict, verb: str, group: str, resource: str, subresource: str = "",
                        namespace: str = "", name: str = "") -> Attributes:
    return Attributes(user, verb, True, group or "", resource or "", subresource or "", namespace or "", name or "")


def non_resource_attributes(user: dict, verb: str, path: str) -> Attributes:
    return Attributes(user, verb, False, path=path)


# -- rbacv1helpers (pkg/apis/rbac/v1/evaluation_helpers.go) -----------------------------------
def verb_matches(rule: dict, verb: str) -> bool:
    return any(v == VERB_ALL or v == verb for v in rule.get("verbs") or ())


def api_group_matches(rule: dict, group: str) -> bool:
    return any(g == API_GROUP_ALL or g == group for g in rule.get("apiGroups") or ())


def resource_matches(rule: dict, combined: str, subresource: str) -> bool:
    for r in rule.get("resources") or ():
        if r == RESOURCE_ALL or r == combined:
            return True
        # "*/status" matches the status subresource of every resource
        if subresource and len(r) == len(subresource) + 2 and r.startswith("*/") and r.endswith(subresource):
            return True
    return False


def resource_name_matches(rule: dict, name: str) -> bool:
    names = rule.get("resourceNames") or ()
    return not names or name in names


def non_resource_url_matches(rule: dict, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or ():
        if url == NON_RESOURCE_ALL or url == path:
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(attrs: Attributes, rule: dict) -> bool:
    """RuleAllows."""
    if attrs.resource_request:
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return (verb_matches(rule, attrs.verb) and api_group_matches(rule, attrs.api_group)
                and resource_matches(rule, combined, attrs.subresource) and resource_name_matches(rule, attrs.name))
    return verb_matches(rule, attrs.verb) and non_resource_url_matches(rule, attrs.path)


# -- the rule resolver ------------------------------------------------------------------------
def applies_to(user: dict, subject: dict, namespace: str) -> bool:
    """appliesToUser: a User by name, a Group by membership, a ServiceAccount by its username
    (its namespace defaulting to the binding's)."""
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return user.get("username") == name
    if kind == "Group":
        return name in (user.get("groups") or ())
    if kind == "ServiceAccount":
        sa_ns = subject.get("namespace") or namespace
        return bool(sa_ns) and make_username(sa_ns, name) == user.get("username")
    return False


class RuleResolver:
    """DefaultRuleResolver over `objects(group_resource) -> {(namespace, name): object}`."""

    def __init__(self, objects: Callable[[str], dict]):
        self.objects = objects

    def role_reference_rules(self, role_ref: dict, namespace: str) -> list[dict]:
        """GetRoleReferenceRules; raises LookupError worded as the NotFound it is upstream."""
        kind, name = role_ref.get("kind"), role_ref.get("name", "")
        if kind == "Role":
            role = self.objects(ROLES).get((namespace, name))
            if role is None:
                raise LookupError(f'role.{GROUP} "{name}" not found')
        elif kind == "ClusterRole":
            role = self.objects(CLUSTER_ROLES).get(("", name))
            if role is None:
                raise LookupError(f'clusterrole.{GROUP} "{name}" not found')
        else:
            raise LookupError(f"unsupported role reference kind: {kind!r}")
        return list(role.get("rules") or [])

    def visit_rules_for(self, user: dict, namespace: str) -> Iterator[tuple[dict | None, str, str | None]]:
        """VisitRulesFor: (rule, source, None) for every rule the user holds there - `source`
        the binding that grants it, as upstream's describers word it - and (None, "", error)
        for a binding whose role is missing.  Cluster role bindings first, then the namespace's."""
        for (_, _), crb in sorted(self.objects(CLUSTER_ROLE_BINDINGS).items()):
            yield from self._binding_rules(user, crb, "", f'ClusterRoleBinding "{crb["metadata"]["name"]}"')
        if not namespace:
            return
        for (ns, _), rb in sorted(self.objects(ROLE_BINDINGS).items()):
            if ns == namespace:
                yield from self._binding_rules(user, rb, namespace, f'RoleBinding "{rb["metadata"]["name"]}/{namespace}"')

    def _binding_rules(self, user: dict, binding: dict, namespace: str,
                       described: str) -> Iterator[tuple[dict | None, str, str | None]]:
        """visit_rules_for's part for one binding ("" namespace: a ClusterRoleBinding's)."""
        subject = next((s for s in binding.get("subjects") or () if applies_to(user, s, namespace)), None)
        if subject is None:
            return
        ref = binding.get("roleRef") or {}
        try:
            rules = self.role_reference_rules(ref, namespace)
        except LookupError as e:
            yield None, "", str(e)
            return
        source = f'{described} of {ref.get("kind")} "{ref.get("name")}" to {describe_subject(subject, namespace)}'
        for rule in rules:
            yield rule, source, None

    def rules_for(self, user: dict, namespace: str) -> tuple[list[dict], list[str]]:
        """RulesFor: every rule the user holds in the namespace, and the resolution errors."""
        rules, errors = [], []
        for rule, _, error in self.visit_rules_for(user, namespace):
            if error is not None:
                errors.append(error)
            else:
                rules.append(rule)
        return rules, errors


def describe_subject(subject: dict, namespace: str) -> str:
    """describeSubject: a ServiceAccount as "name/namespace"."""
    kind, name = subject.get("kind", ""), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'{kind} "{name}/{subject.get("namespace") or namespace}"'
    return f'{kind} "{name}"'


def authorize(resolver: RuleResolver, attrs: Attributes) -> tuple[bool, str]:
    """kube-apiserver's chain: the privileged group, then RBACAuthorizer.Authorize, whose
    reason names the binding that allowed, or the roles that were missing."""
    if is_privileged(attrs.user):
        return True, ""
    errors = []
    for rule, source, error in resolver.visit_rules_for(attrs.user, attrs.namespace):
        if error is not None:
            errors.append(error)
        elif rule_allows(attrs, rule):
            return True, f"RBAC: allowed by {source}"
    if errors:
        return False, "RBAC: " + aggregate(errors)
    return False, ""


def forbidden_message(attrs: Attributes) -> str:
    """responsewriters.forbiddenMessage."""
    username = attrs.user.get("username", "")
    if not attrs.resource_request:
        return f'User "{username}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    if attrs.namespace:
        return (f'User "{username}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" '
                f'in the namespace "{attrs.namespace}"')
    return f'User "{username}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" at the cluster scope'


def forbidden(attrs: Attributes, reason: str = "") -> dict:
    """responsewriters.Forbidden: errors.NewForbidden(GroupResource{group, resource}, name,
    message[: reason])."""
    msg = forbidden_message(attrs)
    if reason:
        msg = f"{msg}: {reason}"
    return forbidden_status(attrs.api_group if attrs.resource_request else "",
                            attrs.resource if attrs.resource_request else "", attrs.name, msg)


def forbidden_status(group: str, resource: str, name: str, err: str) -> dict:
    """errors.NewForbidden."""
    if not resource and not group:
        message = f"forbidden: {err}"
    else:
        qualified = f"{resource}.{group}" if group else resource
        message = f'{qualified} "{name}" is forbidden: {err}' if name else f"{qualified} is forbidden: {err}"
    details = {k: v for k, v in (("name", name), ("group", group), ("kind", resource)) if v}
    return st.status(403, "Forbidden", message, details)


def unauthorized() -> dict:
    """responsewriters.Unauthorized: what a request whose credentials do not authenticate gets."""
    return st.status(401, "Unauthorized", "Unauthorized")
