"""policy/v1 kinds (pkg/registry/policy)."""
