"""Authentication and authorization as kube-apiserver does them: who a request is
(`authenticator.py`: bearer tokens, ServiceAccount JWTs from `serviceaccount.py`, anonymous), and
what that user may do (`rbac.py`: the RBAC authorizer over Roles, ClusterRoles and their
bindings; `escalation.py`: the RBAC registry's escalation check; `bootstrappolicy.py`: the default
roles).  Requests from the simulated components inside the cluster carry no credentials and are
not authenticated (they talk to kube-apiserver in-process; see docs/security/rbac.md)."""
