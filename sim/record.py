"""client-go's event recorder spam filter (k8s.io/client-go/tools/record/events_cache.go,
EventSourceObjectSpamFilter).

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
