"""Kubernetes API machinery: quantities, selectors, patches, validation, defaulting, Status."""
