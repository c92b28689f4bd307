"""batch/v1 kinds (pkg/registry/batch)."""
