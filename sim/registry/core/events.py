"""Events (pkg/registry/core/event): no status, expire after --event-ttl, and each one is
traced once, by the kube-apiserver whose write created it."""
from __future__ import annotations

from typing import Any

from sim.api import validation
from sim.api.defaults import default_event
from sim.api.schema import BY_KIND
from sim.registry.printers import Printer, col, since
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy


class EventStrategy(Strategy):
    default_copies = True  # its defaulter deep-copies first (sim.api.defaults)

    def default(self, obj, ctx):
        return default_event(obj)

    def validate(self, obj):
        return validation.validate_event(obj)

    def after_create(self, obj, ctx):
        ctx.trace_k8s_event(obj)


EVENT_COLUMNS = [
    col("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
    col("Type", description="Type of this event (Normal, Warning), new types could be added in the future"),
    col("Reason", description="This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col("Object", description="The object that this event is about."),
    col("Subobject", priority=1, description="If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go-field access statement."),
    col("Source", priority=1, description="The component reporting this event. Should be a short machine understandable string."),
    col("Message", description="A human-readable description of the status of this operation."),
    col("First Seen", priority=1, description="The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
    col("Count", priority=1, description="The number of times this event has occurred."),
    col("Name", priority=1, fmt="name", description="Name must be unique within a namespace."),
]


def _event_source(ev: dict) -> str:
    src = ev.get("source") or {}
    component = src.get("component") or ev.get("reportingComponent") or ""
    host = src.get("host") or ev.get("reportingInstance") or ""
    if host:
        return f"{component}, {host}"
    return component


def event_row(ev: dict, now: float) -> list[Any]:
    first = since(ev.get("firstTimestamp"), now)
    if not ev.get("firstTimestamp"):
        first = since(ev.get("eventTime"), now)
    last = since(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = ev.get("count") or 0
    series = ev.get("series")
    if series:
        last = since(series.get("lastObservedTime"), now)
        count = series.get("count", count)
    elif count == 0:
        count = 1
    inv = ev.get("involvedObject") or {}
    kind = (inv.get("kind") or "").lower()
    target = f"{kind}/{inv['name']}" if inv.get("name") else kind
    return [
        last,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        inv.get("fieldPath", ""),
        _event_source(ev),
        (ev.get("message") or "").strip(),
        first,
        int(count),
        ev.get("metadata", {}).get("name", ""),
    ]


def _source(ev: dict) -> str:
    return ((ev.get("source") or {}).get("component")) or ev.get("reportingComponent", "")


RESOURCE = Resource(
    "events", "", "v1", "Event", True, "/registry/events/", ("ev",), "event", (),
    EventStrategy(), BY_KIND["Event"],
    # event.ToSelectableFields
    selectable_fields=COMMON_FIELDS + ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                                       "involvedObject.uid", "involvedObject.apiVersion",
                                       "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                                       "reportingComponent", "source", "type"),
    field_getters=(("source", _source),),
    printer=Printer(EVENT_COLUMNS, event_row),
    ttl=lambda server: server.event_ttl)
