"""core/v1 Events, about one involved object.

    MakeEvent().name("web.1").namespace("default").regarding("Pod", "web", namespace="default")
               .reason("Scheduled").message("...").type("Normal").manifest()
"""
from __future__ import annotations

from tests.builders.generic import Builder


class MakeEvent(Builder):
    API_VERSION, KIND = "v1", "Event"

    def regarding(self, kind: str, name: str, namespace: str | None = None, api_version: str | None = None,
                  uid: str | None = None) -> "MakeEvent":
        """involvedObject: the object the event is about."""
        ref = {"apiVersion": api_version} if api_version is not None else {}
        ref.update(kind=kind, name=name)
        if namespace is not None:
            ref["namespace"] = namespace
        if uid is not None:
            ref["uid"] = uid
        return self.set("involvedObject", ref)

    def reason(self, reason: str) -> "MakeEvent":
        return self.set("reason", reason)

    def message(self, message: str) -> "MakeEvent":
        return self.set("message", message)

    def type(self, type: str) -> "MakeEvent":
        return self.set("type", type)

    def count(self, n: int) -> "MakeEvent":
        return self.set("count", n)

    def source(self, component: str, host: str | None = None) -> "MakeEvent":
        src = {"component": component}
        if host is not None:
            src["host"] = host
        return self.set("source", src)

    def reporting(self, controller: str, instance: str | None = None) -> "MakeEvent":
        self.set("reportingComponent", controller)
        if instance is not None:
            self.set("reportingInstance", instance)
        return self

    def first_timestamp(self, ts: str) -> "MakeEvent":
        return self.set("firstTimestamp", ts)

    def last_timestamp(self, ts: str) -> "MakeEvent":
        return self.set("lastTimestamp", ts)
