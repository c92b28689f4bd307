"""networking.k8s.io/v1 kinds (pkg/registry/networking)."""
