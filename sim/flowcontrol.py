"""client-go's client-side rate limiter, in virtual time (k8s.io/client-go/util/flowcontrol/
throttle.go, NewTokenBucketRateLimiter, over golang.org/x/time/rate.Limiter).

Every request a Kubernetes client sends first takes a token from its bucket: the bucket holds at
most `burst` tokens and refills at `qps` tokens per second; a request that finds it empty waits
until its token has been refilled (rest.Request.tryThrottle).  Upstream's defaults, per client:

    kube-controller-manager   --kube-api-qps=20  --kube-api-burst=30    (each controller its own client)
    kube-scheduler            clientConnection.qps=50  burst=100         (KubeSchedulerConfiguration)
    kubelet                   kubeAPIQPS=50  kubeAPIBurst=100            (KubeletConfiguration, since 1.27)
    kube-proxy                clientConnection.qps=5  burst=10           (KubeProxyConfiguration)

The wait is virtual: `reserve` answers how long the request waits, and the caller sends it that
much later through the kernel.  Nothing reads the wall clock.
"""
from __future__ import annotations

# The flags' defaults (see the table above).
CONTROLLER_MANAGER_QPS, CONTROLLER_MANAGER_BURST = 20.0, 30
SCHEDULER_QPS, SCHEDULER_BURST = 50.0, 100
KUBELET_QPS, KUBELET_BURST = 50.0, 100
KUBE_PROXY_QPS, KUBE_PROXY_BURST = 5.0, 10


class TokenBucketRateLimiter:
    """rate.Limiter's reservation arithmetic: tokens may go negative, and a reservation waits
    until the refill brings its token back to zero, so requests go out in the order they asked,
    `1/qps` apart once the burst is spent."""

    def __init__(self, qps: float, burst: int, now: float = 0.0):
        self.qps = float(qps)
        self.burst = max(1, int(burst))
        self.tokens = float(self.burst)
        self.last = now

    def _refill(self, now: float) -> None:
        if now > self.last:
            self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.qps)
            self.last = now

    def reserve(self, now: float) -> float:
        """Take a token at virtual time `now`; the seconds to wait before sending (0: at once)."""
        self._refill(now)
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.qps

    def try_accept(self, now: float) -> bool:
        """Take a token if one is there now (TryAccept): never waits, never goes negative."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def new_limiter(qps: float | None, burst: int | None, now: float = 0.0) -> TokenBucketRateLimiter | None:
    """A bucket for `qps`/`burst`, or None (no limit) when qps is None or not positive (client-go
    disables the limiter for QPS < 0, as the kubelet's heartbeat client does)."""
    if qps is None or qps <= 0:
        return None
    return TokenBucketRateLimiter(qps, burst or 1, now)
