"""Server-side printing mirrors upstream's printers (pkg/printers/internalversion)."""
import pytest

from cluster.api.tables import wants_table
from sim.registry import BUILTIN
from sim.registry.core.events import event_row
from sim.registry.core.nodes import node_row
from sim.registry.core.pods import pod_row
from sim.registry.printers import human_duration
from sim.registry.tables import to_table
from sim.api.meta import timestamp
from tests.builders import MakeEvent, MakeNode, MakePod


@pytest.mark.parametrize(
    "seconds, text",
    [(-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (150, "2m30s"),
     (600, "10m"), (3 * 3600, "3h"), (3 * 3600 + 60 * 5, "3h5m"), (8 * 3600, "8h"),
     (47 * 3600, "47h"), (48 * 3600, "2d"), (50 * 3600, "2d2h"), (10 * 86400, "10d"),
     (3 * 365 * 86400, "3y"), (9 * 365 * 86400, "9y")],
)
def test_human_duration_matches_apimachinery(seconds, text):
    assert human_duration(seconds) == text


def test_wants_table_reads_kubectl_accept_header():
    kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
    assert wants_table(kubectl) == "meta.k8s.io/v1"
    assert wants_table("application/json;as=Table;v=v1beta1;g=meta.k8s.io") == "meta.k8s.io/v1beta1"
    assert wants_table("application/json") is None
    assert wants_table("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList") is None


def test_pod_row_running_ready():
    pod = MakePod().name("web").namespace("default").creation_timestamp(timestamp(100)).node("worker-1").container("nginx", name="web").status(phase="Running", podIP="10.244.1.5", containerStatuses=[
        {"name": "web", "ready": True, "restartCount": 0, "state": {"running": {"startedAt": timestamp(110)}}}]).obj()
    assert pod_row(pod, now=400) == ["web", "1/1", "Running", "0", "5m", "10.244.1.5", "worker-1", "<none>", "<none>"]


def test_pod_row_waiting_reason_and_terminating():
    pod = MakePod().name("web").namespace("default").creation_timestamp(timestamp(100)).node("worker-1").container("nginx", name="web").status(phase="Pending", containerStatuses=[
        {"name": "web", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]).obj()
    assert pod_row(pod, now=160)[1:4] == ["0/1", "ContainerCreating", "0"]
    pod["metadata"]["deletionTimestamp"] = timestamp(150)
    assert pod_row(pod, now=160)[2] == "Terminating"


def test_node_row_status_roles_and_cordon():
    node = (MakeNode().name("cp-1").creation_timestamp(timestamp(0)).labels({"node-role.kubernetes.io/control-plane": ""})
            .unschedulable().condition("Ready", "Unknown").status(nodeInfo={"kubeletVersion": "v1.32.4"}).obj())
    assert node_row(node, now=30)[:5] == ["cp-1", "NotReady,SchedulingDisabled", "control-plane", "30s", "v1.32.4"]


def test_event_row_object_and_count():
    ev = (MakeEvent().name("web.1").type("Normal").reason("Scheduled").regarding("Pod", "web")
          .message("Successfully assigned default/web to worker-1").source("default-scheduler")
          .first_timestamp(timestamp(10)).last_timestamp(timestamp(10)).obj())
    row = event_row(ev, now=70)
    assert row[:4] == ["60s", "Normal", "Scheduled", "pod/web"]
    assert row[6] == "Successfully assigned default/web to worker-1"
    assert row[8] == 1


def test_table_for_list_carries_partial_object_metadata():
    body = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "42"}, "items": [MakePod().name("web").namespace("default").creation_timestamp(timestamp(100)).node("worker-1").container("nginx", name="web").status(phase="Pending").obj()]}
    table = to_table(BUILTIN.lookup("", "pods"), body, is_list=True, now=100, api_version="v1")
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42"}
    assert [c["name"] for c in table["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert table["rows"][0]["object"]["metadata"]["namespace"] == "default"
