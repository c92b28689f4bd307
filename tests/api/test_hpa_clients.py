"""HorizontalPodAutoscalers through the official `kubernetes` Python client: the same object
through AutoscalingV1Api and AutoscalingV2Api (upstream's conversion), and a status the
controller writes, as both read it."""
from __future__ import annotations

from kubernetes import client

from tests.conftest import wait_until


def test_v1_and_v2_clients_see_one_object(kube_client, pilothouse_server):
    core, apps, name = kube_client
    api = core.api_client
    v1, v2 = client.AutoscalingV1Api(api), client.AutoscalingV2Api(api)
    apps.create_namespaced_replica_set("default", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "php"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"run": "php"}},
                 "template": {"metadata": {"labels": {"run": "php"}}, "spec": {"containers": [{
                     "name": "php", "image": "registry.k8s.io/hpa-example",
                     "resources": {"requests": {"cpu": "200m"}, "limits": {"cpu": "500m"}}}]}}}})
    created = v1.create_namespaced_horizontal_pod_autoscaler("default", client.V1HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name="php"),
        spec=client.V1HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V1CrossVersionObjectReference(api_version="apps/v1", kind="ReplicaSet", name="php"),
            max_replicas=5, target_cpu_utilization_percentage=40)))
    assert created.spec.min_replicas == 1 and created.spec.target_cpu_utilization_percentage == 40
    seen = v2.read_namespaced_horizontal_pod_autoscaler("php", "default")
    metric = seen.spec.metrics[0]
    assert (metric.type, metric.resource.name, metric.resource.target.type,
            metric.resource.target.average_utilization) == ("Resource", "cpu", "Utilization", 40)
    # a v2 change (a memory metric, a behavior) survives a v1 read-modify-write
    seen.spec.metrics.append(client.V2MetricSpec(type="Resource", resource=client.V2ResourceMetricSource(
        name="memory", target=client.V2MetricTarget(type="AverageValue", average_value="100Mi"))))
    seen.spec.behavior = client.V2HorizontalPodAutoscalerBehavior(
        scale_down=client.V2HPAScalingRules(stabilization_window_seconds=60, policies=[
            client.V2HPAScalingPolicy(type="Pods", value=1, period_seconds=30)]))
    v2.replace_namespaced_horizontal_pod_autoscaler("php", "default", seen)
    old = v1.read_namespaced_horizontal_pod_autoscaler("php", "default")
    old.spec.max_replicas = 7
    v1.replace_namespaced_horizontal_pod_autoscaler("php", "default", old)
    now = v2.read_namespaced_horizontal_pod_autoscaler("php", "default")
    assert now.spec.max_replicas == 7
    assert sorted(m.resource.name for m in now.spec.metrics) == ["cpu", "memory"]
    assert now.spec.behavior.scale_down.stabilization_window_seconds == 60
    assert now.spec.behavior.scale_down.policies[0].value == 1
    # the controller's status, read through either version
    got = wait_until(lambda: (lambda h: h if h.status.current_metrics else None)(
        v2.read_namespaced_horizontal_pod_autoscaler("php", "default")), 60, 0.5, "the HPA's first metrics")
    assert {c.type for c in got.status.conditions} == {"AbleToScale", "ScalingActive", "ScalingLimited"}
    status = v1.read_namespaced_horizontal_pod_autoscaler_status("php", "default").status
    assert status.current_cpu_utilization_percentage is not None and status.current_replicas == 1
