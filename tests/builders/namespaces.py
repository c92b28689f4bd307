"""Namespaces: MakeNamespace().name("team-a").labels({...}).manifest()."""
from __future__ import annotations

from tests.builders.generic import Builder


class MakeNamespace(Builder):
    API_VERSION, KIND = "v1", "Namespace"

    def finalizers_spec(self, *finalizers: str) -> "MakeNamespace":
        """spec.finalizers (metadata.finalizers is finalizers())."""
        self._section("spec")["finalizers"] = list(finalizers)
        return self

    def phase(self, phase: str) -> "MakeNamespace":
        self._section("status")["phase"] = phase
        return self
