"""client-go's event correlator (k8s.io/client-go/tools/record/events_cache.go): what a component's
EventRecorder does to an Event before it reaches the API server.

EventCorrelate runs three steps in upstream's order:
1. **Aggregation** (EventAggregator): more than 10 Events within 10 minutes that differ only in
   their message (same source, object, type and reason) become one Event whose message starts
   "(combined from similar events): ".
2. **Deduplication** (eventLogger.eventObserve): an Event identical to one already written (same
   source, object, field path, type, reason and message) is not created again; the recorder
   PATCHes the existing one with `count` + 1 and a new `lastTimestamp`. That is why
   `kubectl describe pod` of a crash loop says "Back-off restarting failed container ... (x5 over
   3m)" instead of listing five Events.
3. **Spam filtering** (EventSourceObjectSpamFilter), below.

An EventRecorder lets each source (component and host) write at most 25 Events about one object
in a burst, then one every 5 minutes (defaultSpamBurst, defaultSpamQPS); the rest are dropped
before they reach the API server.  That is what keeps a ReplicaSet of 100,000 replicas from
writing 100,000 "SuccessfulCreate" Events, and the kubelets' and scheduler's Events bounded too.
The buckets are kept for the 4096 most recently seen keys (maxLruCacheEntries).
"""
from __future__ import annotations

from collections import OrderedDict

from sim.flowcontrol import TokenBucketRateLimiter

DEFAULT_SPAM_BURST = 25
DEFAULT_SPAM_QPS = 1.0 / 300.0
MAX_LRU_CACHE_ENTRIES = 4096


def spam_key(event: dict) -> tuple:
    """getSpamKey: the source and the involved object."""
    src, io = event.get("source") or {}, event.get("involvedObject") or {}
    return (src.get("component"), src.get("host"), io.get("kind"), io.get("namespace"), io.get("name"),
            io.get("uid"), io.get("apiVersion"))


DEFAULT_AGGREGATE_MAX_EVENTS = 10
DEFAULT_AGGREGATE_INTERVAL_SECONDS = 600
COMBINED_PREFIX = "(combined from similar events): "


def event_key(event: dict) -> tuple:
    """getEventKey: what makes two Events the same Event (deduplicated into a count)."""
    src, io = event.get("source") or {}, event.get("involvedObject") or {}
    return (src.get("component"), src.get("host"), io.get("kind"), io.get("namespace"), io.get("name"),
            io.get("fieldPath"), io.get("uid"), io.get("apiVersion"), event.get("type"), event.get("reason"),
            event.get("message"))


def aggregate_key(event: dict) -> tuple:
    """EventAggregatorByReasonFunc: Events that differ only in their message."""
    src, io = event.get("source") or {}, event.get("involvedObject") or {}
    return (src.get("component"), src.get("host"), io.get("kind"), io.get("namespace"), io.get("name"),
            io.get("uid"), io.get("apiVersion"), event.get("type"), event.get("reason"),
            event.get("reportingComponent"), event.get("reportingInstance"))


class _LRU(OrderedDict):
    """groupcache's lru.Cache of MAX_LRU_CACHE_ENTRIES entries."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_recent(self, key):
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def add(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class EventCorrelator:
    """EventCorrelator.EventCorrelate and UpdateState, for one recorder (one client process)."""

    def __init__(self, size: int = MAX_LRU_CACHE_ENTRIES):
        self.aggregates = _LRU(size)    # aggregate key -> [message keys seen, last seen (virtual s)]
        self.observed = _LRU(size)      # event key -> {"count", "firstTimestamp", "name"}
        self.spam_filter = EventSourceObjectSpamFilter(size=size)

    def correlate(self, event: dict, now: float) -> tuple[dict, bool] | None:
        """(the Event to write, True when it is to be PATCHed onto an existing Event), or None
        when the spam filter drops it.  `event` is not changed."""
        event, key = self._aggregate(event, now)
        last = self.observed.get_recent(key)
        patch = last is not None
        if patch:
            event = dict(event, count=last["count"] + 1, firstTimestamp=last["firstTimestamp"],
                         metadata=dict(event["metadata"], name=last["name"]))
        self.observed.add(key, {"count": event.get("count", 1), "firstTimestamp": event["firstTimestamp"],
                                "name": event["metadata"]["name"]})
        if self.spam_filter.filter(event, now):
            return None
        return event, patch

    def forget(self, event: dict) -> None:
        """The Event was not found when patched (an Event's TTL is 1 h): the next one is created."""
        for key, seen in list(self.observed.items()):
            if seen["name"] == event["metadata"]["name"]:
                del self.observed[key]

    def _aggregate(self, event: dict, now: float) -> tuple[dict, tuple]:
        akey = aggregate_key(event)
        record = self.aggregates.get_recent(akey)
        if record is None or now - record[1] > DEFAULT_AGGREGATE_INTERVAL_SECONDS:
            record = [set(), now]
        record[0].add(event.get("message"))
        record[1] = now
        self.aggregates.add(akey, record)
        if len(record[0]) < DEFAULT_AGGREGATE_MAX_EVENTS:
            return event, event_key(event)
        record[0].pop()   # do not grow the set of messages past the threshold (PopAny)
        combined = dict(event, message=COMBINED_PREFIX + (event.get("message") or ""), count=1)
        return combined, akey


class EventSourceObjectSpamFilter:
    def __init__(self, burst: int = DEFAULT_SPAM_BURST, qps: float = DEFAULT_SPAM_QPS,
                 size: int = MAX_LRU_CACHE_ENTRIES):
        self.burst, self.qps, self.size = burst, qps, size
        self.cache: OrderedDict[tuple, TokenBucketRateLimiter] = OrderedDict()

    def filter(self, event: dict, now: float) -> bool:
        """True when `event` is to be dropped (its source has spent its budget for the object)."""
        key = spam_key(event)
        bucket = self.cache.get(key)
        if bucket is None:
            bucket = self.cache[key] = TokenBucketRateLimiter(self.qps, self.burst, now)
            if len(self.cache) > self.size:
                self.cache.popitem(last=False)
        else:
            self.cache.move_to_end(key)
        return not bucket.try_accept(now)
