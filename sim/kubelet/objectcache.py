"""The kubelet's watch-based ConfigMap and Secret managers (pkg/kubelet/util/manager/
watch_based_manager.go, used by the default configMapAndSecretChangeDetectionStrategy, Watch).

For each ConfigMap or Secret a pod on this node mounts, one reflector - a list and a watch of
that one name in its namespace (fieldSelector metadata.name=<name>) - keeps the object in a local
store; the kubelet's periodic refresh of mounted ConfigMaps and Secrets (podconfig.SYNC_SECONDS)
reads the store, not the API server.  So a node at rest makes no request for them: a thousand
nodes of pods that each mount kube-root-ca.crt (every pod's kube-api-access volume does) would
otherwise GET it once a pod per minute.  An object is watched while some pod refers to it
(objectCache's reference count per pod) and its reflector stops when the last such pod is gone.
Until a reflector's first list has come back the refresh reads through the API as before.
"""
from __future__ import annotations


class WatchedObject:
    __slots__ = ("informer", "pods")

    def __init__(self, informer) -> None:
        self.informer = informer
        self.pods: set[str] = set()


class ObjectCache:
    """The watched objects of one kubelet incarnation (Kubelet.on_start makes it)."""

    def __init__(self, kubelet) -> None:
        self.kubelet = kubelet
        self.items: dict[tuple[str, str, str], WatchedObject] = {}   # (resource, namespace, name)

    def register(self, pod_uid: str, namespace: str, wanted) -> None:
        """The pod refers to each (resource, name) of `wanted` in its namespace: watch them."""
        for resource, name in wanted:
            key = (resource, namespace, name)
            item = self.items.get(key)
            if item is None:
                item = self.items[key] = WatchedObject(self.kubelet.informer(
                    resource, namespace=namespace, field_selector=f"metadata.name={name}",
                    on_add=lambda obj, key=key: self.changed(key),
                    on_update=lambda old, obj, key=key: self.changed(key),
                    on_delete=lambda obj, key=key: self.changed(key)))
                item.informer.start()
            item.pods.add(pod_uid)

    def unregister(self, pod_uid: str) -> None:
        """The pod is gone from this node: stop watching what no other pod refers to."""
        for key, item in list(self.items.items()):
            item.pods.discard(pod_uid)
            if not item.pods:
                item.informer.stop()
                del self.items[key]

    def changed(self, key: tuple[str, str, str]) -> None:
        """The watch of one object saw it change: the pods reading it refresh at their next
        minute (PodLifecycle.wake_refresh)."""
        item = self.items.get(key)
        for uid in sorted(item.pods) if item is not None else ():
            self.kubelet.wake_refresh(uid)

    def knows(self, namespace: str, refs) -> bool:
        """Whether every (resource, name, ...) of `refs` is read from a watch that has listed."""
        for resource, name, *_ in refs:
            if isinstance(name, str) and name and not self.get(resource, namespace, name)[0]:
                return False
        return True

    def get(self, resource: str, namespace: str, name: str) -> tuple[bool, dict | None]:
        """(known, the object or None when it does not exist); known is False until the
        object's reflector has listed it."""
        item = self.items.get((resource, namespace, name))
        if item is None or not item.informer.synced:
            return False, None
        return True, item.informer.get(namespace, name)
