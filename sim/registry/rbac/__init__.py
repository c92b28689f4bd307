"""rbac.authorization.k8s.io/v1: Roles, ClusterRoles, RoleBindings, ClusterRoleBindings (one
module each; `policy.py` holds what they share: the Go types, validation, printing, and the
escalation check their policy-based storage makes)."""
