"""The horizontal pod autoscaler controller (pkg/controller/podautoscaler: horizontal.go,
replica_calculator.go, metrics/client.go and metrics/utilization.go).

Every HPA is synced each --horizontal-pod-autoscaler-sync-period (15 s): its key goes back into
the queue with that fixed delay after each sync (NewDefaultHPARateLimiter), an add or update
of the HPA only makes sure it is waiting.  A sync:

1. reads the target's /scale subresource (any kind that has one: the kind found from
   scaleTargetRef's apiVersion and kind through discovery, as upstream's RESTMapper does);
2. for each metric, proposes a replica count: resource metrics (cpu, memory; Utilization as a
   percentage of the pods' requests, or AverageValue) are listed from metrics.k8s.io through
   kube-apiserver's aggregator (metrics-server answers, sim/metricsserver.py), as the REST
   metrics client does; desired = ceil(ready pods x usage ratio), unless the ratio is within
   the tolerance (0.1) of 1; pods without metrics count as using 100% of their request on a
   scale down and 0% on a scale up, not-yet-ready pods as 0% on a scale up, and a change of
   direction that those assumptions cause cancels the change (groupPods, GetResourceReplicas);
3. the largest proposal wins; then it is normalized: without `behavior`, the highest
   recommendation of the last 5 minutes (the downscale stabilization window), at most
   max(2 x current, 4), within [minReplicas, maxReplicas]; with `behavior`, each direction's
   stabilization window and its rate policies (Pods / Percent per periodSeconds, selectPolicy);
4. writes the new size through /scale, an Event SuccessfulRescale, and the HPA's status with
   the AbleToScale / ScalingActive / ScalingLimited conditions upstream sets.

Two HPAs whose selectors take in the same pods are ambiguous: neither scales
(AmbiguousSelector), as upstream's hpaSelectors check says.

Times are the kernel's virtual clock (upstream's time.Now()).
"""
from __future__ import annotations

import math

from sim.api.meta import deep_copy
from sim.api.podutil import condition as pod_condition
from sim.api.quantity import QuantityError, format_quantity, milli_value
from sim.api.selectors import SelectorError, labels_match, parse_label_selector
from sim.durations import parse_duration
from sim.workqueue import WorkQueue

SYNC_PERIOD = 15.0                     # --horizontal-pod-autoscaler-sync-period
DOWNSCALE_STABILIZATION = 300.0        # --horizontal-pod-autoscaler-downscale-stabilization
TOLERANCE = 0.1                        # --horizontal-pod-autoscaler-tolerance
CPU_INITIALIZATION_PERIOD = 300.0      # --horizontal-pod-autoscaler-cpu-initialization-period
INITIAL_READINESS_DELAY = 30.0         # --horizontal-pod-autoscaler-initial-readiness-delay
SCALE_UP_LIMIT_FACTOR, SCALE_UP_LIMIT_MINIMUM = 2.0, 4.0
EVENT_SOURCE = "horizontal-pod-autoscaler"
DISCOVERY_REFRESH = 10.0               # a kind not found asks discovery again, at most this often

ABLE_TO_SCALE, SCALING_ACTIVE, SCALING_LIMITED = "AbleToScale", "ScalingActive", "ScalingLimited"


class MetricError(Exception):
    """A metric that could not be computed: the error's text, the condition's reason."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason


# -- metrics/utilization.go --------------------------------------------------------------------
def resource_utilization_ratio(metrics: dict[str, int], requests: dict[str, int],
                               target_utilization: int) -> tuple[float, int, int]:
    """GetResourceUtilizationRatio: (usage ratio, utilization %, raw average milli-value).  The
    ratio is taken from the integer percentage, as upstream computes it."""
    metrics_total = requests_total = entries = 0
    for pod, value in metrics.items():
        if pod not in requests:
            continue   # extraneous metrics
        metrics_total += value
        requests_total += requests[pod]
        entries += 1
    if requests_total == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = int(metrics_total * 100 / requests_total)
    return utilization / target_utilization, utilization, metrics_total // entries


def metric_usage_ratio(metrics: dict[str, int], target_usage: int) -> tuple[float, int]:
    """GetMetricUsageRatio: (usage ratio, average milli-value)."""
    current = sum(metrics.values()) // len(metrics)
    return current / target_usage, current


# -- replica_calculator.go ------------------------------------------------------------------------
class Tolerances:
    """The scale-down and scale-up tolerances (HPAConfigurableTolerance: behavior.*.tolerance,
    else the controller's --horizontal-pod-autoscaler-tolerance)."""

    def __init__(self, down: float = TOLERANCE, up: float = TOLERANCE):
        self.down, self.up = down, up

    def is_within(self, ratio: float) -> bool:
        return (1.0 - self.down) <= ratio <= (1.0 + self.up)


def group_pods(pods: list[dict], metrics: dict[str, dict], resource: str, now: float, parse_time,
               cpu_initialization_period: float = CPU_INITIALIZATION_PERIOD,
               delay_of_initial_readiness: float = INITIAL_READINESS_DELAY):
    """groupPods: (ready count, unready, missing, ignored).  Deleted and failed pods are
    ignored; pending ones unready; pods without a metric missing; for cpu, a pod still in its
    initialization period whose readiness is False or whose metric window does not start after
    it became ready, or one that never became ready within the initial readiness delay, unready."""
    ready, unready, missing, ignored = 0, set(), set(), set()
    for pod in pods:
        name = pod["metadata"]["name"]
        status = pod.get("status") or {}
        if pod["metadata"].get("deletionTimestamp") or status.get("phase") == "Failed":
            ignored.add(name)
            continue
        if status.get("phase") == "Pending":
            unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            missing.add(name)
            continue
        if resource == "cpu":
            cond = pod_condition(pod, "Ready")
            start = parse_time(status.get("startTime"))
            if cond is None or start is None:
                unready_pod = True
            else:
                transition = parse_time(cond.get("lastTransitionTime")) or start
                if start + cpu_initialization_period > now:
                    unready_pod = cond.get("status") == "False" or metric["timestamp"] < transition + metric["window"]
                else:
                    unready_pod = cond.get("status") == "False" and start + delay_of_initial_readiness > transition
            if unready_pod:
                unready.add(name)
                continue
        ready += 1
    return ready, unready, missing, ignored


def pod_requests(pods: list[dict], resource: str, container: str = "") -> dict[str, int]:
    """calculateRequests: each pod's request (milli-units) of `resource`, its containers' sum,
    or one container's; a container without one is an error."""
    out = {}
    for pod in pods:
        total = 0
        for c in (pod.get("spec") or {}).get("containers") or []:
            if container and c.get("name") != container:
                continue
            request = ((c.get("resources") or {}).get("requests") or {}).get(resource)
            if request is None:
                raise MetricError(f"missing request for {resource} in container {c.get('name', '')} of Pod "
                                  f"{pod['metadata']['name']}")
            try:
                total += milli_value(request)
            except QuantityError:
                raise MetricError(f"missing request for {resource}") from None
        out[pod["metadata"]["name"]] = total
    return out


def resource_replicas(current: int, pods: list[dict], metrics: dict[str, dict], resource: str, now: float,
                      parse_time, tolerances: Tolerances, target_utilization: int | None = None,
                      target_average: int | None = None, container: str = "") -> tuple[int, int | None, int]:
    """GetResourceReplicas (target_utilization, a percentage) or GetRawResourceReplicas via
    calcPlainMetricReplicas (target_average, milli-units): (replicas, utilization %, raw
    average milli-value)."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    ready, unready, missing, ignored = group_pods(pods, metrics, resource, now, parse_time)
    values = {name: m["value"] for name, m in metrics.items() if name not in ignored and name not in unready}
    if not values:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    requests = pod_requests(pods, resource, container) if target_utilization is not None else {}

    def ratio_of(vals: dict[str, int]) -> tuple[float, int | None, int]:
        if target_utilization is not None:
            return resource_utilization_ratio(vals, requests, target_utilization)
        r, avg = metric_usage_ratio(vals, target_average)
        return r, None, avg

    usage_ratio, utilization, raw = ratio_of(values)
    scale_up_with_unready = bool(unready) and usage_ratio > 1.0
    if not scale_up_with_unready and not missing:
        if tolerances.is_within(usage_ratio):
            return current, utilization, raw
        return math.ceil(usage_ratio * ready), utilization, raw
    if missing:
        if usage_ratio < 1.0:
            # on a scale down, a pod without metrics counts as using 100% of its request (or
            # of the target, for a raw value)
            for name in missing:
                values[name] = requests[name] if target_utilization is not None else target_average
        elif usage_ratio > 1.0:
            for name in missing:
                values[name] = 0   # on a scale up, as using nothing
    if scale_up_with_unready:
        for name in unready:
            values[name] = 0
    new_ratio, _, _ = ratio_of(values)
    if tolerances.is_within(new_ratio) or (usage_ratio < 1.0 < new_ratio) or (usage_ratio > 1.0 > new_ratio):
        # too small a change, or the assumptions turn the direction around
        return current, utilization, raw
    new_replicas = math.ceil(new_ratio * len(values))
    if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
        return current, utilization, raw
    return new_replicas, utilization, raw


def pod_metrics_info(items: list[dict], resource: str, parse_time, container: str = "") -> dict[str, dict]:
    """metrics/client.go getPodMetrics (getContainerMetrics): each listed pod's summed usage of
    `resource` (milli-units) with its timestamp and window; a pod missing a container's figure
    has none."""
    out = {}
    for m in items:
        containers = m.get("containers") or []
        if container:
            containers = [c for c in containers if c.get("name") == container]
        total, missing = 0, not containers
        for c in containers:
            value = (c.get("usage") or {}).get(resource)
            if value is None:
                missing = True
                break
            total += milli_value(value)
        if not missing:
            try:
                window = parse_duration(m.get("window") or "0s")
            except ValueError:
                window = 0.0
            out[m["metadata"]["name"]] = {"value": total, "timestamp": parse_time(m.get("timestamp")) or 0.0,
                                          "window": window}
    return out


def milli_quantity(milli: int) -> str:
    """resource.NewMilliQuantity(v, DecimalSI).String()."""
    from decimal import Decimal
    return format_quantity(Decimal(milli) / 1000)


# -- horizontal.go: normalization ---------------------------------------------------------------
def set_condition(hpa: dict, ctype: str, status: str, reason: str, message: str, now_ts: str) -> None:
    """setCondition: added when absent; the transition time moves only when the status does."""
    conditions = hpa.setdefault("status", {}).setdefault("conditions", [])
    existing = next((c for c in conditions if c.get("type") == ctype), None)
    if existing is None:
        existing = {"type": ctype}
        conditions.append(existing)
    if existing.get("status") != status:
        existing["lastTransitionTime"] = now_ts
    existing["status"], existing["reason"], existing["message"] = status, reason, message
    # the JSON field order of HorizontalPodAutoscalerCondition
    ordered = {k: existing[k] for k in ("type", "status", "lastTransitionTime", "reason", "message") if k in existing}
    existing.clear()
    existing.update(ordered)


def convert_desired_replicas_with_rules(current: int, desired: int, lo: int, hi: int) -> tuple[int, str, str]:
    """convertDesiredReplicasWithRules: within [min, max] and at most max(2 x current, 4)."""
    scale_up_limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
    if hi > scale_up_limit:
        maximum, cond, reason = scale_up_limit, "ScaleUpLimit", \
            "the desired replica count is increasing faster than the maximum scale rate"
    else:
        maximum, cond, reason = hi, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
    if desired < lo:
        return lo, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
    if desired > maximum:
        return maximum, cond, reason
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def replicas_change_per_period(period: int, events: list[dict], now: float) -> int:
    """getReplicasChangePerPeriod: the changes made within the last `period` seconds."""
    cutoff = now - period
    return sum(e["change"] for e in events if e["time"] > cutoff)


def scale_up_limit_with_rules(current: int, up_events: list[dict], down_events: list[dict], rules: dict,
                              now: float) -> int:
    """calculateScaleUpLimitWithScalingRules: each policy allows its change from the count at
    the start of its period (the changes made since, both ways, taken back); selectPolicy
    picks the largest (Max) or smallest (Min) of them."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    pick, result = (min, 2 ** 31 - 1) if select == "Min" else (max, -(2 ** 31))
    for policy in rules.get("policies") or []:
        period = policy["periodSeconds"]
        start = current - replicas_change_per_period(period, up_events, now) + \
            replicas_change_per_period(period, down_events, now)
        if policy["type"] == "Pods":
            proposed = start + policy["value"]
        else:
            # rounded up, or a small target would never grow
            proposed = math.ceil(start * (1 + policy["value"] / 100))
        result = pick(result, proposed)
    return result


def scale_down_limit_with_rules(current: int, up_events: list[dict], down_events: list[dict], rules: dict,
                                now: float) -> int:
    """calculateScaleDownLimitWithBehaviors: the same, downwards (Min: the smallest change)."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    pick, result = (max, -(2 ** 31)) if select == "Min" else (min, 2 ** 31 - 1)
    for policy in rules.get("policies") or []:
        period = policy["periodSeconds"]
        start = current - replicas_change_per_period(period, up_events, now) + \
            replicas_change_per_period(period, down_events, now)
        if policy["type"] == "Pods":
            proposed = start - policy["value"]
        else:
            proposed = int(start * (1 - policy["value"] / 100))
        result = pick(result, proposed)
    return result


def _tolerance_of(rules: dict | None) -> float:
    value = (rules or {}).get("tolerance")
    if value is None:
        return TOLERANCE
    try:
        return milli_value(value) / 1000
    except QuantityError:
        return TOLERANCE


class HorizontalPodAutoscalerController:
    name = "horizontal-pod-autoscaler-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.hpas = cm.shared_informer("horizontalpodautoscalers", group="autoscaling")
        self.queue = WorkQueue(cm, self.reconcile)
        self.waiting: dict[tuple, float] = {}          # the delaying queue: key -> when it is due
        self.recommendations: dict[tuple, list[list]] = {}   # key -> [[replicas, time]]
        self.scale_up_events: dict[tuple, list[dict]] = {}
        self.scale_down_events: dict[tuple, list[dict]] = {}
        # Each HPA's pod selector as its last sync read it (hpaSelectors): two HPAs selecting the
        # same pods are ambiguous, and neither acts.
        self.selectors: dict[tuple, list | None] = {}
        self.mapper: dict[tuple[str, str], tuple[str, str]] | None = None  # (group, kind) -> (resource, group)
        self.mapper_time = -math.inf

    def start(self) -> None:
        self.hpas.handlers(add=self._enqueue, update=lambda old, new: self._enqueue(new), delete=self._deleted)

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    # -- the queue: every HPA every sync period ------------------------------------------------
    def _enqueue(self, hpa: dict) -> None:
        self.selectors.setdefault(self._key(hpa), None)   # registered, selecting nothing yet
        self._add_rate_limited(self._key(hpa))

    def _add_rate_limited(self, key) -> None:
        """AddRateLimited with the fixed-interval limiter: due one sync period from now, unless it
        is already waiting to be due sooner (the delaying queue keeps the earliest)."""
        due = self.cm.now + SYNC_PERIOD
        if key in self.waiting and self.waiting[key] <= due:
            return
        self.waiting[key] = due

        def ready() -> None:
            if self.waiting.get(key) == due:
                del self.waiting[key]
                self.queue.add(key)
        self.cm.call_later(SYNC_PERIOD, ready)

    def _deleted(self, hpa: dict) -> None:
        self.selectors.pop(self._key(hpa), None)
        self.queue.forget(self._key(hpa))

    def reconcile(self, key) -> None:
        hpa = self.hpas.get(*key)
        if hpa is None:
            # deleted: forget what was remembered of it
            self.recommendations.pop(key, None)
            self.scale_up_events.pop(key, None)
            self.scale_down_events.pop(key, None)
            self.waiting.pop(key, None)
            return
        done = self.queue.defer(key)

        def finished() -> None:
            done()
            self._add_rate_limited(key)
        Sync(self, key, deep_copy(hpa), finished).run()

    # -- the RESTMapper ---------------------------------------------------------------------------
    def resolve(self, group: str, kind: str, callback) -> None:
        """(resource, group) for a kind, or None: discovery is asked again when the kind is
        unknown (and was not asked in the last few seconds), as a deferred RESTMapper resets."""
        hit = (self.mapper or {}).get((group, kind))
        if hit is not None or self.cm.now - self.mapper_time < DISCOVERY_REFRESH:
            return callback(hit)

        def discovered(resources) -> None:
            if resources is not None:
                self.mapper = {(r.group, r.kind): (r.name, r.group) for r in resources}
                self.mapper_time = self.cm.now
            callback((self.mapper or {}).get((group, kind)))
        self.api.discover(discovered)


class Sync:
    """One reconcileAutoscaler of one HPA, as a chain of requests (the scale, the metrics, the
    new scale, the status); `finished()` once it is done, whatever happened."""

    def __init__(self, ctl: HorizontalPodAutoscalerController, key, hpa: dict, finished):
        self.ctl, self.key, self.hpa, self.finished = ctl, key, hpa, finished
        self.cm = ctl.cm
        self.status_before = deep_copy(hpa.get("status") or {})
        hpa.setdefault("status", {})
        spec = hpa.get("spec") or {}
        self.spec = spec
        ref = spec.get("scaleTargetRef") or {}
        self.ref = ref
        self.namespace = hpa["metadata"]["namespace"]
        self.reference = f"{ref.get('kind', '')}/{self.namespace}/{ref.get('name', '')}"

    # -- helpers -----------------------------------------------------------------------------
    def event(self, reason: str, message: str, warning: bool = False) -> None:
        self.ctl.api.event(self.hpa, reason, message, EVENT_SOURCE, type_="Warning" if warning else "Normal")

    def condition(self, ctype: str, status: str, reason: str, message: str) -> None:
        set_condition(self.hpa, ctype, status, reason, message, self.cm.timestamp())

    def parse_time(self, value):
        return self.cm.parse_time(value)

    def update_status_if_needed(self) -> None:
        """updateStatusIfNeeded: a write only when the status changed."""
        if self.hpa.get("status") == self.status_before:
            return self.finished()

        def written(resp: dict) -> None:
            if resp["code"] >= 400:
                self.event("FailedUpdateStatus", (resp.get("body") or {}).get("message", ""), warning=True)
            self.finished()
        self.ctl.api.update("horizontalpodautoscalers", self.hpa, written, group="autoscaling", subresource="status")

    def set_status(self, current: int, desired: int, metric_statuses: list | None, rescale: bool) -> None:
        """setStatus: the status made anew from the counts, metrics and the conditions."""
        old = self.hpa.get("status") or {}
        status: dict = {}
        if old.get("lastScaleTime"):
            status["lastScaleTime"] = old["lastScaleTime"]
        if current:
            status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        if metric_statuses:
            status["currentMetrics"] = metric_statuses
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        if rescale:
            status["lastScaleTime"] = self.cm.timestamp()
            status = {"lastScaleTime": status.pop("lastScaleTime"), **status}
        self.hpa["status"] = status

    def fail_get_scale(self, message: str) -> None:
        self.event("FailedGetScale", message, warning=True)
        self.condition(ABLE_TO_SCALE, "False", "FailedGetScale",
                       f"the HPA controller was unable to get the target's current scale: {message}")
        self.update_status_if_needed()

    # -- reconcileAutoscaler -----------------------------------------------------------------
    def run(self) -> None:
        api_version = self.ref.get("apiVersion") or ""
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        if api_version.count("/") > 1:
            return self.fail_get_scale(f"unexpected GroupVersion string: {api_version}")
        kind = self.ref.get("kind", "")

        def mapped(found) -> None:
            if found is None:
                return self.fail_get_scale(f'no matches for kind "{kind}" in group "{group}"')
            self.resource, self.group = found
            self.ctl.api.request({"verb": "get", "group": self.group, "resource": self.resource,
                                  "namespace": self.namespace, "name": self.ref.get("name", ""),
                                  "subresource": "scale"}, self.got_scale)
        self.ctl.resolve(group, kind, mapped)

    def got_scale(self, resp: dict) -> None:
        if resp["code"] >= 400:
            return self.fail_get_scale((resp.get("body") or {}).get("message", ""))
        scale = resp["body"]
        self.scale = scale
        self.condition(ABLE_TO_SCALE, "True", "SucceededGetScale",
                       "the HPA controller was able to get the target's current scale")
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        self.current = current
        if self.key not in self.ctl.recommendations:
            self.ctl.recommendations[self.key] = [[current, self.cm.now]]  # recordInitialRecommendation
        lo = self.spec.get("minReplicas")
        lo = 1 if lo is None else lo
        self.min_replicas = lo
        hi = self.spec.get("maxReplicas") or 0
        if current == 0 and lo != 0:
            self.condition(SCALING_ACTIVE, "False", "ScalingDisabled",
                           "scaling is disabled since the replica count of the target is zero")
            return self.decide(0, "", [], rescale=False)
        if current > hi:
            return self.decide(hi, "Current number of replicas above Spec.MaxReplicas", None)
        if current < lo:
            return self.decide(lo, "Current number of replicas below Spec.MinReplicas", None)
        self.compute_replicas_for_metrics(scale)

    def compute_replicas_for_metrics(self, scale: dict) -> None:
        """computeReplicasForMetrics: every metric's proposal, the largest wins."""
        selector_text = (scale.get("status") or {}).get("selector") or ""
        if not selector_text:
            self.event("SelectorRequired", "selector is required", warning=True)
            self.condition(SCALING_ACTIVE, "False", "InvalidSelector", "the HPA target's scale is missing a selector")
            return self.metrics_failed("selector is required")
        try:
            selector = parse_label_selector(selector_text)
        except SelectorError as e:
            message = f"couldn't convert selector into a corresponding internal selector object: {e}"
            self.event("InvalidSelector", message, warning=True)
            self.condition(SCALING_ACTIVE, "False", "InvalidSelector", message)
            return self.metrics_failed(message)
        self.selector_text = selector_text
        if self.key in self.ctl.selectors:
            self.ctl.selectors[self.key] = selector
        self.pods = sorted((p for p in self.cm.pods.list()
                            if p["metadata"].get("namespace") == self.namespace
                            and labels_match(selector, p["metadata"].get("labels"))),
                           key=lambda p: p["metadata"]["name"])
        # validateAndParseSelector: the pods must not be another HPA's too
        selecting = sorted(k for k, sel in self.ctl.selectors.items()
                           if sel is not None and k[0] == self.namespace
                           and any(labels_match(sel, p["metadata"].get("labels")) for p in self.pods))
        if len(selecting) > 1:
            message = f"pods by selector {selector_text} are controlled by multiple HPAs: " \
                      f"[{' '.join(f'{ns}/{name}' for ns, name in selecting)}]"
            self.event("AmbiguousSelector", message, warning=True)
            self.condition(SCALING_ACTIVE, "False", "AmbiguousSelector", message)
            return self.metrics_failed(message)
        specs = [m for m in self.spec.get("metrics") or []]
        self.results: list = [None] * len(specs)
        self.statuses: list = [{"type": ""} for _ in specs]   # a failed metric's stays empty, as upstream's
        if not specs:
            return self.metrics_done()
        self.pending = len(specs)
        for i, spec in enumerate(specs):
            self.compute_replicas_for_metric(i, spec)

    def metric_done(self, i: int, result) -> None:
        self.results[i] = result
        self.pending -= 1
        if self.pending == 0:
            self.metrics_done()

    def compute_replicas_for_metric(self, i: int, spec: dict) -> None:
        t = spec.get("type")
        if t in ("Resource", "ContainerResource"):
            src = spec.get("resource" if t == "Resource" else "containerResource") or {}
            return self.resource_metric(i, t, src)
        if t in ("Pods", "Object", "External"):
            # No custom or external metrics API is served in this cluster (no adapter installed).
            name = ((spec.get(t.lower()) or {}).get("metric") or {}).get("name", "")
            api = "external" if t == "External" else "custom"
            group = "external.metrics.k8s.io" if t == "External" else "custom.metrics.k8s.io"
            err = f"unable to get {'external ' if t == 'External' else ''}metric {name}: unable to fetch metrics " \
                  f"from {api} metrics API: no {api} metrics API ({group}) registered"
            reason = {"Pods": "FailedGetPodsMetric", "Object": "FailedGetObjectMetric",
                      "External": "FailedGetExternalMetric"}[t]
            what = {"Pods": "pods metric value", "Object": "object metric value",
                    "External": f"{name} external metric"}[t]
            return self.metric_done(i, self.unable(reason, err, f"failed to get {what}: {err}"))
        err = f'unknown metric source type "{t}"'
        self.metric_done(i, self.unable("InvalidMetricSourceType", err, err))

    def unable(self, reason: str, err: str, wrapped: str) -> MetricError:
        """getUnableComputeReplicaCountCondition: a Warning event now, the condition if every
        metric fails."""
        self.event(reason, err, warning=True)
        e = MetricError(wrapped, reason)
        e.condition_message = f"the HPA was unable to compute the replica count: {err}"
        return e

    def resource_metric(self, i: int, t: str, src: dict) -> None:
        """computeStatusForResourceMetric(Generic)."""
        resource = src.get("name", "")
        container = src.get("container", "") if t == "ContainerResource" else ""
        target = src.get("target") or {}
        reason = "FailedGetResourceMetric" if t == "Resource" else "FailedGetContainerResourceMetric"
        wrap = f"failed to get {resource} resource metric value" if t == "Resource" else \
            f"failed to get {resource} container metric value"
        if target.get("averageValue") is None and target.get("averageUtilization") is None:
            err = "invalid resource metric source: neither an average utilization target nor an average value " \
                  "(usage) target was set"
            return self.metric_done(i, self.unable(reason, err, f"{wrap}: {err}"))
        query = {"labelSelector": self.selector_text}

        def listed(resp: dict) -> None:
            try:
                if resp["code"] >= 400:
                    raise MetricError("unable to fetch metrics from resource metrics API: "
                                      + ((resp.get("body") or {}).get("message") or ""))
                items = (resp.get("body") or {}).get("items") or []
                if not items:
                    raise MetricError("no metrics returned from resource metrics API")
                metrics = pod_metrics_info(items, resource, self.parse_time, container)
                timestamp = items[0].get("timestamp")
            except MetricError as e:
                err = f"failed to get {resource} utilization: unable to get metrics for resource {resource}: {e}"
                return self.metric_done(i, self.unable(reason, err, f"{wrap}: {err}"))
            behavior = self.spec.get("behavior") or {}
            tolerances = Tolerances(_tolerance_of(behavior.get("scaleDown")), _tolerance_of(behavior.get("scaleUp")))
            try:
                if target.get("averageValue") is not None:
                    replicas, utilization, raw = resource_replicas(
                        self.current, self.pods, metrics, resource, self.cm.now, self.parse_time, tolerances,
                        target_average=milli_value(target["averageValue"]), container=container)
                    current = {"averageValue": milli_quantity(raw)}
                    name = f"{resource} resource" if not container else f"{resource} container resource"
                else:
                    replicas, utilization, raw = resource_replicas(
                        self.current, self.pods, metrics, resource, self.cm.now, self.parse_time, tolerances,
                        target_utilization=int(target["averageUtilization"]), container=container)
                    current = {"averageValue": milli_quantity(raw), "averageUtilization": utilization}
                    name = f"{resource} resource utilization (percentage of request)" if not container else \
                        f"{resource} container resource utilization (percentage of request)"
            except MetricError as e:
                err = f"failed to get {resource} utilization: {e}"
                return self.metric_done(i, self.unable(reason, err, f"{wrap}: {err}"))
            key = "resource" if t == "Resource" else "containerResource"
            body = {"name": resource}
            if container:
                body["container"] = container
            body["current"] = current
            self.statuses[i] = {"type": t, key: body}
            self.metric_done(i, (replicas, name, timestamp))

        self.ctl.api.request({"verb": "list", "group": "metrics.k8s.io", "version": "v1beta1", "resource": "pods",
                              "namespace": self.namespace, "query": query}, listed)

    def metrics_failed(self, message: str) -> None:
        """A failure before any metric: the status keeps its metrics, the event says why."""
        self.set_status(self.current, (self.hpa.get("status") or {}).get("desiredReplicas", 0),
                        (self.hpa.get("status") or {}).get("currentMetrics"), False)
        self.event("FailedComputeMetricsReplicas", message, warning=True)
        self.update_status_if_needed()

    def metrics_done(self) -> None:
        proposals = [(i, r) for i, r in enumerate(self.results) if not isinstance(r, MetricError)]
        failures = [r for r in self.results if isinstance(r, MetricError)]
        statuses = [s for s in self.statuses]
        if failures and len(failures) >= len(self.results):
            first = failures[0]
            self.condition(SCALING_ACTIVE, "False", first.reason, first.condition_message)
            self.set_status(self.current, (self.hpa.get("status") or {}).get("desiredReplicas", 0),
                            (self.hpa.get("status") or {}).get("currentMetrics"), False)
            self.event("FailedComputeMetricsReplicas",
                       f"invalid metrics ({len(failures)} invalid out of {len(self.results)}), first error is: {first}",
                       warning=True)
            return self.update_status_if_needed()
        replicas, metric = 0, ""
        for _, (proposal, name, _ts) in proposals:
            if replicas == 0 or proposal > replicas:
                replicas, metric = proposal, name
        self.condition(SCALING_ACTIVE, "True", "ValidMetricFound",
                       f"the HPA was able to successfully calculate a replica count from {metric}")
        desired, reason = 0, ""
        if replicas > desired:
            desired = replicas
        if desired > self.current:
            reason = f"{metric} above target"
        if desired < self.current:
            reason = "All metrics below target"
        if self.spec.get("behavior") is None:
            desired = self.normalize(desired)
        else:
            desired = self.normalize_with_behaviors(desired)
        self.decide(desired, reason, statuses, rescale=desired != self.current)

    # -- normalization ------------------------------------------------------------------------
    def stabilize(self, prenormalized: int) -> int:
        """stabilizeRecommendation: the highest recommendation of the downscale window; the
        newest replaces one that fell out of it."""
        recs = self.ctl.recommendations.setdefault(self.key, [])
        now = self.cm.now
        cutoff = now - DOWNSCALE_STABILIZATION
        best, old = prenormalized, None
        for i, (value, at) in enumerate(recs):
            if at < cutoff:
                old = i
            elif value > best:
                best = value
        if old is not None:
            recs[old] = [prenormalized, now]
        else:
            recs.append([prenormalized, now])
        return best

    def normalize(self, prenormalized: int) -> int:
        """normalizeDesiredReplicas."""
        stabilized = self.stabilize(prenormalized)
        if stabilized != prenormalized:
            self.condition(ABLE_TO_SCALE, "True", "ScaleDownStabilized",
                           "recent recommendations were higher than current one, applying the highest recent "
                           "recommendation")
        else:
            self.condition(ABLE_TO_SCALE, "True", "ReadyForNewScale", "recommended size matches current size")
        desired, reason, message = convert_desired_replicas_with_rules(self.current, stabilized, self.min_replicas,
                                                                       self.spec.get("maxReplicas") or 0)
        self.condition(SCALING_LIMITED, "False" if desired == stabilized else "True", reason, message)
        return desired

    def normalize_with_behaviors(self, prenormalized: int) -> int:
        """normalizeDesiredReplicasWithBehaviors: stabilization per direction, then the rate."""
        behavior = self.spec["behavior"]
        up = behavior.get("scaleUp") or {}
        down = dict(behavior.get("scaleDown") or {})
        if down.get("stabilizationWindowSeconds") is None:   # maybeInitScaleDownStabilizationWindow
            down["stabilizationWindowSeconds"] = int(DOWNSCALE_STABILIZATION)
        stabilized, reason, message = self.stabilize_with_behaviors(prenormalized, up, down)
        if stabilized != prenormalized:
            self.condition(ABLE_TO_SCALE, "True", reason, message)
        else:
            self.condition(ABLE_TO_SCALE, "True", "ReadyForNewScale", "recommended size matches current size")
        desired, reason, message = self.rate_limited(stabilized, up, down)
        self.condition(SCALING_LIMITED, "False" if desired == stabilized else "True", reason, message)
        return desired

    def stabilize_with_behaviors(self, desired: int, up: dict, down: dict) -> tuple[int, str, str]:
        """stabilizeRecommendationWithBehaviors: the lowest recommendation of the scale-up window
        when going up, the highest of the scale-down window when going down."""
        now = self.cm.now
        up_window = up.get("stabilizationWindowSeconds") or 0
        down_window = down.get("stabilizationWindowSeconds") or 0
        if desired >= self.current:
            delay, better = up_window, min
            reason, message = "ScaleUpStabilized", \
                "recent recommendations were lower than current one, applying the lowest recent recommendation"
        else:
            delay, better = down_window, max
            reason, message = "ScaleDownStabilized", \
                "recent recommendations were higher than current one, applying the highest recent recommendation"
        obsolete = now - max(up_window, down_window)
        cutoff = now - delay
        recommendation, old = desired, None
        recs = self.ctl.recommendations.setdefault(self.key, [])
        for i, (value, at) in enumerate(recs):
            if at > cutoff:
                recommendation = better(value, recommendation)
            if at < obsolete:
                old = i
        if old is not None:
            recs[old] = [desired, now]
        else:
            recs.append([desired, now])
        return recommendation, reason, message

    def rate_limited(self, desired: int, up: dict, down: dict) -> tuple[int, str, str]:
        """convertDesiredReplicasWithBehaviorRate."""
        now, current = self.cm.now, self.current
        if desired > current:
            limit = max(scale_up_limit_with_rules(current, self.ctl.scale_up_events.get(self.key, []),
                                                  self.ctl.scale_down_events.get(self.key, []), up, now), current)
            hi = self.spec.get("maxReplicas") or 0
            if hi > limit:
                maximum, reason, message = limit, "ScaleUpLimit", \
                    "the desired replica count is increasing faster than the maximum scale rate"
            else:
                maximum, reason, message = hi, "TooManyReplicas", \
                    "the desired replica count is more than the maximum replica count"
            if desired > maximum:
                return maximum, reason, message
        elif desired < current:
            limit = min(scale_down_limit_with_rules(current, self.ctl.scale_up_events.get(self.key, []),
                                                    self.ctl.scale_down_events.get(self.key, []), down, now), current)
            if self.min_replicas < limit:
                minimum, reason, message = limit, "ScaleDownLimit", \
                    "the desired replica count is decreasing faster than the maximum scale rate"
            else:
                minimum, reason, message = self.min_replicas, "TooFewReplicas", \
                    "the desired replica count is less than the minimum replica count"
            if desired < minimum:
                return minimum, reason, message
        return desired, "DesiredWithinRange", "the desired count is within the acceptable range"

    def store_scale_event(self, before: int, after: int) -> None:
        """storeScaleEvent: remembered (only with a behavior) for the rate policies; an event
        older than the direction's longest policy period is replaced."""
        behavior = self.spec.get("behavior")
        if behavior is None:
            return
        up = after > before
        rules = (behavior.get("scaleUp") if up else behavior.get("scaleDown")) or {}
        longest = max((p.get("periodSeconds") or 0 for p in rules.get("policies") or []), default=0)
        events = (self.ctl.scale_up_events if up else self.ctl.scale_down_events).setdefault(self.key, [])
        now = self.cm.now
        new = {"change": abs(after - before), "time": now}
        outdated = [i for i, e in enumerate(events) if e["time"] < now - longest]
        if outdated:
            events[outdated[-1]] = new
        else:
            events.append(new)

    # -- the decision ---------------------------------------------------------------------------
    def decide(self, desired: int, reason: str, statuses: list | None, rescale: bool = True) -> None:
        current = self.current
        if statuses is None:   # clamped to [minReplicas, maxReplicas]: no metric was read
            statuses = []
        if not rescale:
            # "decided not to scale": the desired count is the current one
            self.set_status(current, current, statuses, False)
            return self.update_status_if_needed()
        scale = deep_copy(self.scale)
        scale.setdefault("spec", {})["replicas"] = desired

        def updated(resp: dict) -> None:
            if resp["code"] >= 400:
                err = (resp.get("body") or {}).get("message", "")
                self.event("FailedRescale", f"New size: {desired}; reason: {reason}; error: {err}", warning=True)
                self.condition(ABLE_TO_SCALE, "False", "FailedUpdateScale",
                               f"the HPA controller was unable to update the target scale: {err}")
                self.set_status(current, (self.hpa.get("status") or {}).get("desiredReplicas", 0),
                                (self.hpa.get("status") or {}).get("currentMetrics"), False)
                return self.update_status_if_needed()
            self.condition(ABLE_TO_SCALE, "True", "SucceededRescale",
                           f"the HPA controller was able to update the target scale to {desired}")
            self.event("SuccessfulRescale", f"New size: {desired}; reason: {reason}")
            self.cm.action(f"horizontal-pod-autoscaler scales {self.reference} from {current} to {desired}: {reason}")
            self.store_scale_event(current, desired)
            self.set_status(current, desired, statuses, True)
            self.update_status_if_needed()
        self.ctl.api.request({"verb": "update", "group": self.group, "resource": self.resource,
                              "namespace": self.namespace, "name": self.ref.get("name", ""),
                              "subresource": "scale", "body": scale}, updated)
