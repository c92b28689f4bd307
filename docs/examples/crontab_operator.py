"""An example operator for Pilothouse, written with kopf (https://kopf.dev, MIT).

For each CronTab (docs/examples/crontab-crd.yaml, the Kubernetes documentation's example kind) it
keeps a ReplicaSet of the same name running `spec.replicas` pods of `spec.image`, owned by the
CronTab, so that the garbage collector deletes the ReplicaSet (and its pods) with it; and it
writes the CronTab's `status.replicas` (what the ReplicaSet reports) and `status.labelSelector`,
which the CRD's scale subresource reads, so `kubectl scale crontab <name> --replicas=N` drives it.

Run it against a cluster (see docs/operator-example.md):

    KUBECONFIG=/tmp/pilothouse.kubeconfig kopf run --standalone --namespace default \\
        docs/examples/crontab_operator.py

kopf logs in with the official `kubernetes` client's kubeconfig loader (its `login_via_client`),
so the cluster's server may be at a path prefix (http://127.0.0.1:8000/clusters/<name>); the
handlers below use the same client.
"""
from __future__ import annotations

import kopf
import kubernetes
from kubernetes.client.exceptions import ApiException

GROUP, VERSION, PLURAL = "stable.example.com", "v1", "crontabs"
LABEL = "stable.example.com/crontab"  # on the ReplicaSet and its pods: which CronTab they run for
MERGE = "application/merge-patch+json"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_) -> None:
    # kopf keeps what it has handled in annotations on each CronTab (its default also writes
    # status.kopf, which a CRD without x-kubernetes-preserve-unknown-fields prunes).
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="stable.example.com")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="stable.example.com", key="last-handled-configuration")
    settings.watching.server_timeout = 60  # the server ends each watch after 60 s; kopf opens another
    kubernetes.config.load_kube_config()  # the same kubeconfig kopf logged in with


def selector_of(name: str) -> str:
    return f"{LABEL}={name}"


def replicaset_for(name: str, spec: dict) -> dict:
    labels = {LABEL: name}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": spec.get("replicas", 1),
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "cron", "image": spec.get("image", "busybox")}]},
            },
        },
    }


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
def reconcile(spec, name, namespace, body, patch, **_) -> None:
    """Make the CronTab's ReplicaSet match its spec: create it, owned by the CronTab, or patch it."""
    apps = kubernetes.client.AppsV1Api()
    desired = replicaset_for(name, spec)
    kopf.append_owner_reference(desired, owner=body)  # controller: true, blockOwnerDeletion: true
    try:
        apps.create_namespaced_replica_set(namespace, desired)
        # An Event about the CronTab, as a controller posts (kubectl describe crontab shows it).
        kopf.info(body, reason="SuccessfulCreate",
                  message=f"Created ReplicaSet {name} with {desired['spec']['replicas']} replicas")
    except ApiException as e:
        if e.status != 409:
            raise
        apps.patch_namespaced_replica_set(
            name, namespace,
            {"spec": {"replicas": desired["spec"]["replicas"], "template": desired["spec"]["template"]}},
            _content_type=MERGE)
        kopf.info(body, reason="ReplicaSetUpdated",
                  message=f"ReplicaSet {name} now wants {desired['spec']['replicas']} replicas")
    # kopf writes this to the status subresource when the handler returns.  status.replicas is
    # left to replicaset_changed, which sees the ReplicaSet's every status change in order.
    patch.status["labelSelector"] = selector_of(name)


@kopf.on.event("apps", "v1", "replicasets", labels={LABEL: kopf.PRESENT})
def replicaset_changed(type, body, namespace, **_) -> None:
    """Mirror the ReplicaSet's status.replicas into its CronTab's status (what `kubectl scale`
    and `kubectl get crontab` show as the current replicas)."""
    owner = body["metadata"]["labels"][LABEL]
    if type == "DELETED":
        return
    replicas = (body.get("status") or {}).get("replicas", 0)
    try:
        kubernetes.client.CustomObjectsApi().patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, PLURAL, owner,
            {"status": {"replicas": replicas, "labelSelector": selector_of(owner)}})
    except ApiException as e:
        if e.status != 404:  # the CronTab is gone: the garbage collector takes the ReplicaSet
            raise
