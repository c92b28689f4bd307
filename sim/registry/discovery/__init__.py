"""discovery.k8s.io/v1 kinds (pkg/registry/discovery)."""
