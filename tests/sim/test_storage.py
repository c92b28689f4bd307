"""Persistent storage in the engine: the PersistentVolume binder's static binding and phases,
the simulated CSI driver's dynamic provisioning (Immediate and WaitForFirstConsumer, through the
scheduler's VolumeBinding plugin), reclaim policies, the attach-detach controller and the
kubelet's mounts (a file written to a claim survives its pod moving to another node), and the
pvc-protection finalizer."""
import copy

from sim.api import storage as stg
from tests.sim.conftest import ok
from tests.sim.test_containers import advance_until, events_of, logs, status_of

NS = "default"


def create(cluster, resource, body, group="", code=201):
    ns = NS if resource in ("persistentvolumeclaims", "pods") else None
    return ok(cluster.request({"verb": "create", "group": group, "resource": resource, "namespace": ns,
                               "body": body}), code)


def get(cluster, resource, name, group=""):
    ns = NS if resource in ("persistentvolumeclaims", "pods") else None
    return cluster.request({"verb": "get", "group": group, "resource": resource, "namespace": ns, "name": name})


def delete(cluster, resource, name, group=""):
    ns = NS if resource in ("persistentvolumeclaims", "pods") else None
    return ok(cluster.request({"verb": "delete", "group": group, "resource": resource, "namespace": ns,
                               "name": name}))


def gone(cluster, resource, name, group=""):
    return get(cluster, resource, name, group)["code"] == 404


def phase(cluster, resource, name):
    resp = get(cluster, resource, name)
    return (resp["body"].get("status") or {}).get("phase") if resp["code"] == 200 else None


def host_path_pv(name, size="10Gi", cls="manual", policy=None, modes=("ReadWriteOnce",), labels=None):
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name, "labels": labels or {}},
          "spec": {"storageClassName": cls, "capacity": {"storage": size}, "accessModes": list(modes),
                   "hostPath": {"path": f"/mnt/{name}"}}}
    if policy:
        pv["spec"]["persistentVolumeReclaimPolicy"] = policy
    return pv


def claim(name, size="3Gi", cls="manual", modes=("ReadWriteOnce",), selector=None):
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def pod_with_claim(name, claim_name, command, node=None):
    spec = {"containers": [{"name": "app", "image": "busybox:1.36", "command": ["sh", "-c", command],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]}
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def fast_class(binding=stg.IMMEDIATE, policy=None):
    sc = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"},
          "provisioner": "pilothouse.csi.k8s.io", "volumeBindingMode": binding}
    if policy:
        sc["reclaimPolicy"] = policy
    return sc


def test_static_binding_picks_the_smallest_volume_that_fits_and_both_go_bound(cluster):
    pv = create(cluster, "persistentvolumes", host_path_pv("small", "1Gi"))
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain" and pv["spec"]["volumeMode"] == "Filesystem"
    assert pv["metadata"]["finalizers"] == [stg.PV_PROTECTION_FINALIZER]
    create(cluster, "persistentvolumes", host_path_pv("big", "20Gi"))
    create(cluster, "persistentvolumes", host_path_pv("right", "5Gi"))
    create(cluster, "persistentvolumes", host_path_pv("labelled", "4Gi", labels={"tier": "gold"}))
    advance_until(cluster, lambda: phase(cluster, "persistentvolumes", "right") == "Available", 10, 0.2)
    pvc = create(cluster, "persistentvolumeclaims", claim("task-pv-claim"))
    assert pvc["metadata"]["finalizers"] == [stg.PVC_PROTECTION_FINALIZER]
    assert pvc["status"] == {"phase": "Pending"}
    advance_until(cluster, lambda: phase(cluster, "persistentvolumeclaims", "task-pv-claim") == "Bound", 10, 0.2)
    pvc = ok(get(cluster, "persistentvolumeclaims", "task-pv-claim"))
    # 3Gi asked: of big (20Gi), right (5Gi) and labelled (4Gi) the smallest that fits wins; a
    # claim without a selector takes a labelled volume as any other.
    assert pvc["spec"]["volumeName"] == "labelled"
    assert pvc["status"]["capacity"] == {"storage": "4Gi"} and pvc["status"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["metadata"]["annotations"][stg.ANN_BIND_COMPLETED] == "yes"
    pv = ok(get(cluster, "persistentvolumes", "labelled"))
    assert pv["status"]["phase"] == "Bound"
    assert pv["spec"]["claimRef"]["name"] == "task-pv-claim" and pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    # A claim with a selector only binds a volume whose labels match it.
    create(cluster, "persistentvolumes", host_path_pv("gold", "30Gi", labels={"tier": "gold"}))
    create(cluster, "persistentvolumeclaims", claim("picky", "2Gi", selector={"matchLabels": {"tier": "gold"}}))
    advance_until(cluster, lambda: phase(cluster, "persistentvolumeclaims", "picky") == "Bound", 20, 0.2)
    assert ok(get(cluster, "persistentvolumeclaims", "picky"))["spec"]["volumeName"] == "gold"
    assert phase(cluster, "persistentvolumes", "small") == "Available"


def test_a_claim_with_no_class_and_no_volume_waits_with_failed_binding(cluster):
    create(cluster, "persistentvolumeclaims", claim("lonely", cls=""))
    advance_until(cluster, lambda: ("FailedBinding", "no persistent volumes available for this claim and no storage "
                                    "class is set") in events_of(cluster, "lonely"), 10, 0.2)
    assert phase(cluster, "persistentvolumeclaims", "lonely") == "Pending"


def test_the_driver_is_registered_on_every_node(cluster):
    driver = ok(get(cluster, "csidrivers", "pilothouse.csi.k8s.io", group="storage.k8s.io"))
    assert driver["spec"]["attachRequired"] is True and driver["spec"]["volumeLifecycleModes"] == ["Persistent"]
    nodes = ok(cluster.request({"verb": "list", "group": "storage.k8s.io", "resource": "csinodes"}))["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == ["cp-1", "worker-1", "worker-2", "worker-3"]
    assert all(n["spec"]["drivers"] == [{"name": "pilothouse.csi.k8s.io", "nodeID": n["metadata"]["name"]}]
               and n["metadata"]["ownerReferences"][0]["kind"] == "Node" for n in nodes)


def test_the_default_class_is_filled_in_and_waits_for_the_first_consumer(cluster):
    sc = ok(get(cluster, "storageclasses", "standard", group="storage.k8s.io"))
    assert sc["metadata"]["annotations"][stg.ANN_DEFAULT_STORAGE_CLASS] == "true"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer" and sc["reclaimPolicy"] == "Delete"
    pvc = create(cluster, "persistentvolumeclaims", claim("data", cls=None))
    assert pvc["spec"]["storageClassName"] == "standard"
    advance_until(cluster, lambda: ("WaitForFirstConsumer", "waiting for first consumer to be created before binding")
                  in events_of(cluster, "data"), 10, 0.2)
    cluster.advance(20)
    assert phase(cluster, "persistentvolumeclaims", "data") == "Pending"
    create(cluster, "pods", pod_with_claim("consumer", "data", "echo ok; sleep 3600", node="worker-2"))
    advance_until(cluster, lambda: status_of(cluster, "consumer").get("phase") == "Running", 30, 0.5)
    pvc = ok(get(cluster, "persistentvolumeclaims", "data"))
    assert pvc["metadata"]["annotations"][stg.ANN_SELECTED_NODE] == "worker-2"
    assert pvc["status"]["phase"] == "Bound"
    reasons = [r for r, _ in events_of(cluster, "data")]
    assert "ExternalProvisioning" in reasons and "ProvisioningSucceeded" in reasons
    # The scheduler's PreBind waited for the claim: the pod was bound to the node after it.
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": NS}))["items"]
    events.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    order = [(e["involvedObject"]["name"], e["reason"]) for e in events]
    assert order.index(("data", "ProvisioningSucceeded")) < order.index(("consumer", "Scheduled"))
    pv = ok(get(cluster, "persistentvolumes", pvc["spec"]["volumeName"]))
    assert pv["spec"]["csi"]["driver"] == "pilothouse.csi.k8s.io"
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["metadata"]["annotations"][stg.ANN_DYNAMICALLY_PROVISIONED] == "pilothouse.csi.k8s.io"
    # The attach-detach controller attached it to the pod's node, the external-attacher said so.
    vas = ok(cluster.request({"verb": "list", "group": "storage.k8s.io", "resource": "volumeattachments"}))["items"]
    assert [(va["spec"]["nodeName"], va["spec"]["source"]["persistentVolumeName"], va["status"]["attached"])
            for va in vas] == [("worker-2", pv["metadata"]["name"], True)]


def test_immediate_provisioning_binds_without_a_pod_and_delete_reclaims_the_volume(cluster):
    create(cluster, "storageclasses", fast_class(), group="storage.k8s.io")
    create(cluster, "persistentvolumeclaims", claim("now", "2Gi", cls="fast"))
    advance_until(cluster, lambda: phase(cluster, "persistentvolumeclaims", "now") == "Bound", 30, 0.5)
    name = ok(get(cluster, "persistentvolumeclaims", "now"))["spec"]["volumeName"]
    assert name in cluster.storage_backend.disks
    assert phase(cluster, "persistentvolumes", name) == "Bound"
    delete(cluster, "persistentvolumeclaims", "now")
    advance_until(cluster, lambda: gone(cluster, "persistentvolumes", name), 60, 0.5)
    assert gone(cluster, "persistentvolumeclaims", "now")
    assert name not in cluster.storage_backend.disks


def test_retain_leaves_the_volume_released_and_delete_of_a_host_path_volume_fails(cluster):
    create(cluster, "persistentvolumes", host_path_pv("kept", "5Gi"))
    create(cluster, "persistentvolumes", host_path_pv("doomed", "5Gi", cls="other", policy="Delete"))
    create(cluster, "persistentvolumeclaims", claim("a"))
    create(cluster, "persistentvolumeclaims", claim("b", cls="other"))
    advance_until(cluster, lambda: phase(cluster, "persistentvolumeclaims", "a") == "Bound"
                  and phase(cluster, "persistentvolumeclaims", "b") == "Bound", 20, 0.2)
    delete(cluster, "persistentvolumeclaims", "a")
    delete(cluster, "persistentvolumeclaims", "b")
    advance_until(cluster, lambda: phase(cluster, "persistentvolumes", "kept") == "Released"
                  and phase(cluster, "persistentvolumes", "doomed") == "Failed", 30, 0.2)
    cluster.advance(20)
    kept = ok(get(cluster, "persistentvolumes", "kept"))
    assert kept["status"]["phase"] == "Released" and kept["spec"]["claimRef"]["name"] == "a"
    doomed = ok(get(cluster, "persistentvolumes", "doomed"))
    assert doomed["status"]["message"] == ('error getting deleter volume plugin for volume "doomed": '
                                           'no deletable volume plugin matched')


def test_a_file_written_to_a_claim_survives_the_pod_moving_to_another_node(cluster):
    create(cluster, "persistentvolumeclaims", claim("shared", cls=None))
    create(cluster, "pods", pod_with_claim("writer", "shared", "echo kept-across-nodes > /data/note; sleep 3600",
                                           node="worker-1"))
    advance_until(cluster, lambda: status_of(cluster, "writer").get("phase") == "Running", 30, 0.5)
    pv_name = ok(get(cluster, "persistentvolumeclaims", "shared"))["spec"]["volumeName"]
    cluster.advance(2)
    assert cluster.storage_backend.files(pv_name).files == {"note": "kept-across-nodes\n"}
    # A second pod on another node cannot have the ReadWriteOnce volume while the first holds it.
    create(cluster, "pods", pod_with_claim("reader", "shared", "cat /data/note; sleep 3600", node="worker-3"))
    advance_until(cluster, lambda: any(r == "FailedAttachVolume" for r, _ in events_of(cluster, "reader")), 20, 0.5)
    msg = next(m for r, m in events_of(cluster, "reader") if r == "FailedAttachVolume")
    assert msg == (f'Multi-Attach error for volume "{pv_name}" Volume is already exclusively attached to one node '
                   f"and can't be attached to another")
    assert status_of(cluster, "reader").get("phase") == "Pending"
    # The writer goes: the volume is detached from worker-1 and attached to worker-3.
    delete(cluster, "pods", "writer")
    advance_until(cluster, lambda: status_of(cluster, "reader").get("phase") == "Running", 90, 0.5)
    advance_until(cluster, lambda: logs(cluster, "reader").get("text") == "kept-across-nodes\n", 10, 0.5)
    vas = ok(cluster.request({"verb": "list", "group": "storage.k8s.io", "resource": "volumeattachments"}))["items"]
    assert [va["spec"]["nodeName"] for va in vas] == ["worker-3"]


def test_a_claim_in_use_is_not_removed_until_its_pod_is_gone(cluster):
    create(cluster, "persistentvolumes", host_path_pv("pv1", "5Gi"))
    create(cluster, "persistentvolumeclaims", claim("held"))
    create(cluster, "pods", pod_with_claim("user", "held", "echo hi > /data/x; sleep 3600", node="worker-1"))
    advance_until(cluster, lambda: status_of(cluster, "user").get("phase") == "Running", 30, 0.5)
    delete(cluster, "persistentvolumeclaims", "held")
    cluster.advance(10)
    pvc = ok(get(cluster, "persistentvolumeclaims", "held"))
    assert pvc["metadata"]["deletionTimestamp"] and pvc["metadata"]["finalizers"] == [stg.PVC_PROTECTION_FINALIZER]
    # The volume is still bound, so pv-protection keeps it too.
    delete(cluster, "persistentvolumes", "pv1")
    cluster.advance(2)
    assert ok(get(cluster, "persistentvolumes", "pv1"))["metadata"]["deletionTimestamp"]
    delete(cluster, "pods", "user")
    advance_until(cluster, lambda: gone(cluster, "persistentvolumeclaims", "held"), 60, 0.5)
    advance_until(cluster, lambda: gone(cluster, "persistentvolumes", "pv1"), 30, 0.5)
    # The hostPath volume's file is on worker-1's own disk (beside /run/xtables.lock, which the
    # kube-proxy DaemonSet's FileOrCreate hostPath volume made there).
    node = cluster.node_components["worker-1"][1]
    assert node.node_disk.files == {"/mnt/pv1/x": "hi\n", "/run/xtables.lock": ""}


def test_bad_storage_objects_are_refused_with_upstreams_field_errors(cluster):
    resp = cluster.request({"verb": "create", "resource": "persistentvolumes",
                            "body": {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "code-pv"}}})
    assert resp["code"] == 422
    assert resp["body"]["message"] == (
        'PersistentVolume "code-pv" is invalid: [spec.accessModes: Required value, spec.capacity: Required value, '
        'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage", '
        "spec: Required value: must specify a volume type]")
    resp = cluster.request({"verb": "create", "resource": "persistentvolumeclaims", "namespace": NS,
                            "body": claim("bad", size="0", modes=())})
    assert resp["code"] == 422
    assert "spec.accessModes: Required value: at least 1 access mode is required" in resp["body"]["message"]
    assert "spec.resources[storage]: Invalid value: \"0\": must be greater than zero" in resp["body"]["message"]
    # A bound claim's spec does not change but for its requests.
    create(cluster, "persistentvolumes", host_path_pv("p", "5Gi"))
    create(cluster, "persistentvolumeclaims", claim("c"))
    advance_until(cluster, lambda: phase(cluster, "persistentvolumeclaims", "c") == "Bound", 20, 0.2)
    cur = copy.deepcopy(ok(get(cluster, "persistentvolumeclaims", "c")))  # never change the cache's copy
    cur["spec"]["accessModes"] = ["ReadWriteMany"]
    resp = cluster.request({"verb": "update", "resource": "persistentvolumeclaims", "namespace": NS, "name": "c",
                            "body": cur})
    assert resp["code"] == 422 and "spec: Forbidden: spec is immutable after creation" in resp["body"]["message"]
    sc = copy.deepcopy(ok(get(cluster, "storageclasses", "standard", group="storage.k8s.io")))
    sc["provisioner"] = "other.example.com"
    resp = cluster.request({"verb": "update", "group": "storage.k8s.io", "resource": "storageclasses",
                            "name": "standard", "body": sc})
    assert resp["code"] == 422 and "provisioner: Forbidden: updates to provisioner are forbidden." in \
        resp["body"]["message"]


def test_a_pod_waits_for_its_unbound_immediate_claim_then_runs(cluster):
    create(cluster, "persistentvolumeclaims", claim("later"))
    create(cluster, "pods", pod_with_claim("patient", "later", "sleep 3600"))
    advance_until(cluster, lambda: any(r == "FailedScheduling" for r, _ in events_of(cluster, "patient")), 20, 0.5)
    msg = next(m for r, m in events_of(cluster, "patient") if r == "FailedScheduling")
    assert msg.startswith("0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims.")
    create(cluster, "persistentvolumes", host_path_pv("arrives", "5Gi"))
    advance_until(cluster, lambda: status_of(cluster, "patient").get("phase") == "Running", 30, 0.5)
    assert ok(get(cluster, "persistentvolumeclaims", "later"))["spec"]["volumeName"] == "arrives"


def test_a_provisioned_volume_deleted_while_bound_takes_its_disk_with_it(cluster):
    create(cluster, "storageclasses", fast_class(), group="storage.k8s.io")
    create(cluster, "persistentvolumeclaims", claim("short", "1Gi", cls="fast"))
    advance_until(cluster, lambda: phase(cluster, "persistentvolumeclaims", "short") == "Bound", 30, 0.5)
    name = ok(get(cluster, "persistentvolumeclaims", "short"))["spec"]["volumeName"]
    assert "external-provisioner.volume.kubernetes.io/finalizer" in \
        ok(get(cluster, "persistentvolumes", name))["metadata"]["finalizers"]
    delete(cluster, "persistentvolumes", name)
    cluster.advance(5)
    assert phase(cluster, "persistentvolumes", name) == "Bound"   # pv-protection: still bound
    delete(cluster, "persistentvolumeclaims", "short")
    advance_until(cluster, lambda: gone(cluster, "persistentvolumes", name), 60, 0.5)
    assert name not in cluster.storage_backend.disks


def test_the_driver_works_from_the_control_plane_in_the_message_trace(cluster):
    cluster.drain_events()
    create(cluster, "persistentvolumeclaims", claim("traced", cls=None))
    create(cluster, "pods", pod_with_claim("tracer", "traced", "sleep 3600", node="worker-1"))
    advance_until(cluster, lambda: status_of(cluster, "tracer").get("phase") == "Running", 30, 0.5)
    messages = [(e["src"], e["dst"], e["type"]) for e in cluster.drain_events() if e["kind"] == "message"]
    # The external-provisioner creates the volume, the external-attacher marks it attached: both
    # from the csi-controller on the control-plane node, to its kube-apiserver.
    assert ("csi-controller@cp-1", "kube-apiserver@cp-1", "create persistentvolumes") in messages
    assert any(src == "csi-controller@cp-1" and t.startswith("update volumeattachments") for src, _, t in messages)
    assert any(src == "kube-controller-manager@cp-1" and t == "create volumeattachments" for src, _, t in messages)


def host_path_pod(name, path, command, node="worker-1", type_=None):
    src = {"path": path, **({"type": type_} if type_ else {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeSelector": {"kubernetes.io/hostname": node}, "restartPolicy": "Never",
                     "containers": [{"name": "app", "image": "busybox:1.36", "command": ["sh", "-c", command],
                                     "volumeMounts": [{"name": "host", "mountPath": "/host"}]}],
                     "volumes": [{"name": "host", "hostPath": src}]}}


def test_host_path_volumes_are_the_nodes_own_directory_tree(cluster):
    create(cluster, "pods", host_path_pod("outer", "/mnt", "echo from-outer > /host/data/note", type_="DirectoryOrCreate"))
    advance_until(cluster, lambda: status_of(cluster, "outer").get("phase") == "Succeeded", 30, 0.5)
    # /mnt/data is the directory the first pod wrote into: the same file, on the same node only.
    create(cluster, "pods", host_path_pod("inner", "/mnt/data", "cat /host/note", type_="Directory"))
    create(cluster, "pods", host_path_pod("elsewhere", "/mnt/data", "cat /host/note", node="worker-2"))
    advance_until(cluster, lambda: status_of(cluster, "inner").get("phase") == "Succeeded"
                  and status_of(cluster, "elsewhere").get("phase") in ("Succeeded", "Failed"), 30, 0.5)
    assert logs(cluster, "inner")["text"] == "from-outer\n"
    assert logs(cluster, "elsewhere")["text"] == "cat: can't open '/host/note': No such file or directory\n"
    # type: Directory on a path the node does not have: FailedMount, the pod waits.
    create(cluster, "pods", host_path_pod("strict", "/srv/absent", "true", type_="Directory"))
    advance_until(cluster, lambda: any(r == "FailedMount" for r, _ in events_of(cluster, "strict")), 20, 0.5)
    assert ('FailedMount', 'MountVolume.SetUp failed for volume "host" : hostPath type check failed: /srv/absent '
            'is not a directory') in events_of(cluster, "strict")
    assert status_of(cluster, "strict").get("phase") == "Pending"


def test_a_claim_mounted_read_only_refuses_writes(cluster):
    create(cluster, "persistentvolumes", host_path_pv("ro", "5Gi", modes=("ReadWriteOnce", "ReadOnlyMany")))
    create(cluster, "persistentvolumeclaims", claim("ro-claim", modes=("ReadOnlyMany",)))
    pod = pod_with_claim("reader", "ro-claim", "echo x > /data/f", node="worker-1")
    pod["spec"]["volumes"][0]["persistentVolumeClaim"]["readOnly"] = True
    pod["spec"]["restartPolicy"] = "Never"
    create(cluster, "pods", pod)
    advance_until(cluster, lambda: status_of(cluster, "reader").get("phase") == "Failed", 30, 0.5)
    assert "Read-only file system" in logs(cluster, "reader")["text"]


def test_a_generic_ephemeral_volume_is_a_claim_that_lives_and_dies_with_its_pod(cluster):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "scratch"},
           "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
                                    "command": ["sh", "-c", "echo tmp > /scratch/f; sleep 3600"],
                                    "volumeMounts": [{"name": "work", "mountPath": "/scratch"}]}],
                    "volumes": [{"name": "work", "ephemeral": {"volumeClaimTemplate": {
                        "metadata": {"labels": {"type": "scratch"}},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}}]}}
    uid = create(cluster, "pods", pod)["metadata"]["uid"]
    advance_until(cluster, lambda: status_of(cluster, "scratch").get("phase") == "Running", 30, 0.5)
    pvc = ok(get(cluster, "persistentvolumeclaims", "scratch-work"))
    assert pvc["metadata"]["labels"] == {"type": "scratch"} and pvc["spec"]["storageClassName"] == "standard"
    assert pvc["metadata"]["ownerReferences"][0]["uid"] == uid and pvc["status"]["phase"] == "Bound"
    volume = pvc["spec"]["volumeName"]
    assert cluster.storage_backend.files(volume).files == {"f": "tmp\n"}
    delete(cluster, "pods", "scratch")
    advance_until(cluster, lambda: gone(cluster, "persistentvolumeclaims", "scratch-work")
                  and gone(cluster, "persistentvolumes", volume), 90, 0.5)
    assert volume not in cluster.storage_backend.disks


def test_a_read_write_once_pod_claim_serves_one_pod_only(cluster):
    create(cluster, "persistentvolumeclaims", claim("solo", cls=None, modes=("ReadWriteOncePod",)))
    create(cluster, "pods", pod_with_claim("first", "solo", "sleep 3600"))
    advance_until(cluster, lambda: status_of(cluster, "first").get("phase") == "Running", 30, 0.5)
    create(cluster, "pods", pod_with_claim("second", "solo", "sleep 3600"))
    advance_until(cluster, lambda: any(r == "FailedScheduling" for r, _ in events_of(cluster, "second")), 20, 0.5)
    msg = next(m for r, m in events_of(cluster, "second") if r == "FailedScheduling")
    assert msg.startswith("0/4 nodes are available: node has pod using PersistentVolumeClaim with the same name and "
                          "ReadWriteOncePod access mode.")
    delete(cluster, "pods", "first")
    advance_until(cluster, lambda: status_of(cluster, "second").get("phase") == "Running", 90, 0.5)


def test_a_volume_the_backend_does_not_have_fails_to_attach_and_is_retried(cluster):
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "ghost"},
          "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
                   "csi": {"driver": "pilothouse.csi.k8s.io", "volumeHandle": "no-such-disk"}}}
    create(cluster, "persistentvolumes", pv)
    create(cluster, "persistentvolumeclaims", claim("haunted", "1Gi", cls=""))
    advance_until(cluster, lambda: phase(cluster, "persistentvolumeclaims", "haunted") == "Bound", 20, 0.5)
    create(cluster, "pods", pod_with_claim("medium", "haunted", "sleep 3600", node="worker-1"))
    want = ("FailedAttachVolume", 'AttachVolume.Attach failed for volume "ghost" : rpc error: code = NotFound desc = '
            "volume no-such-disk not found")
    advance_until(cluster, lambda: want in events_of(cluster, "medium"), 30, 0.5)
    cluster.advance(30)
    attempts = [e for e in cluster.drain_events() if e["kind"] == "action"
                and "ControllerPublishVolume no-such-disk" in e.get("text", "")]
    assert 2 <= len(attempts) <= 8   # retried with a back-off, not in a tight loop
    assert status_of(cluster, "medium").get("phase") == "Pending"
    # Once the disk exists the next attempt attaches it and the pod starts.
    cluster.storage_backend.create_volume("no-such-disk", 1 << 30)
    advance_until(cluster, lambda: status_of(cluster, "medium").get("phase") == "Running", 120, 1.0)


def test_deleting_a_namespace_takes_its_claims_and_their_provisioned_volumes(cluster):
    ok(cluster.request({"verb": "create", "resource": "namespaces",
                        "body": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}}), 201)
    body = claim("db", "1Gi", cls=None)
    ok(cluster.request({"verb": "create", "resource": "persistentvolumeclaims", "namespace": "team", "body": body}), 201)
    pod = pod_with_claim("db-0", "db", "sleep 3600")
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "team", "body": pod}), 201)

    def claim_in_team():
        return cluster.request({"verb": "get", "resource": "persistentvolumeclaims", "namespace": "team", "name": "db"})
    advance_until(cluster, lambda: (claim_in_team()["body"].get("status") or {}).get("phase") == "Bound", 30, 0.5)
    volume = claim_in_team()["body"]["spec"]["volumeName"]
    ok(cluster.request({"verb": "delete", "resource": "namespaces", "name": "team"}))
    advance_until(cluster, lambda: cluster.request({"verb": "get", "resource": "namespaces", "name": "team"})["code"]
                  == 404, 180, 1.0)
    advance_until(cluster, lambda: gone(cluster, "persistentvolumes", volume), 60, 0.5)
