"""PriorityClasses (scheduling.k8s.io/v1): the fields sit at the top level, beside metadata.

    MakePriorityClass().name("high").value(1000).preemption_policy("Never").manifest()
"""
from __future__ import annotations

from tests.builders.generic import Builder


class MakePriorityClass(Builder):
    API_VERSION, KIND = "scheduling.k8s.io/v1", "PriorityClass"

    def value(self, value: int) -> "MakePriorityClass":
        return self.set("value", value)

    def global_default(self, default: bool = True) -> "MakePriorityClass":
        return self.set("globalDefault", default)

    def preemption_policy(self, policy: str) -> "MakePriorityClass":
        return self.set("preemptionPolicy", policy)

    def description(self, text: str) -> "MakePriorityClass":
        return self.set("description", text)
