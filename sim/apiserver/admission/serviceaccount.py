"""The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount/admission.go).

Mutating, on pods being created: a pod that names no `spec.serviceAccountName` gets `default`;
the ServiceAccount it names must exist, else the pod is refused (403, "error looking up service
account <ns>/<name>: serviceaccount "<name>" not found").  The `default` one is looked up
again 9 times, 100-200 ms apart, before giving up - the serviceaccounts controller makes it
moments after its namespace appears - and the request waits meanwhile (admission.Wait).  Unless
the pod or its ServiceAccount says `automountServiceAccountToken: false` (the pod wins), the
pod gets the projected `kube-api-access-<5 random>` volume (a bound token expiring in 3607 s,
the `kube-root-ca.crt` ConfigMap's ca.crt and the namespace from the downward API), mounted
read-only at /var/run/secrets/kubernetes.io/serviceaccount in every init container and container
that has nothing mounted there; and, having no imagePullSecrets, the ServiceAccount's.  Mirror
pods are left alone (and may not name a ServiceAccount)."""
from __future__ import annotations

from typing import Callable

from sim.api.meta import random_suffix
from sim.apiserver.admission import CREATE, Attributes, Lister, Wait, forbidden

PLUGIN_NAME = "ServiceAccount"
DEFAULT_SERVICE_ACCOUNT_NAME = "default"
SERVICE_ACCOUNT_VOLUME_NAME = "kube-api-access"
DEFAULT_API_TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
# serviceaccount.WarnOnlyBoundTokenExpirationSeconds: 1 h + 7 s
WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 3607
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
DEFAULT_LOOKUP_ATTEMPTS = 10  # getServiceAccount: numAttempts for the default ServiceAccount


def token_volume_source() -> dict:
    """TokenVolumeSource(), as the v1 API serializes it (defaultMode set explicitly, #104464)."""
    return {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS, "path": "token"}},
        {"configMap": {"name": ROOT_CA_CONFIG_MAP, "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}


class ServiceAccount:
    name = PLUGIN_NAME

    def __init__(self, lister_for: Callable[[str], Lister], rng: Callable[[], object]):
        self.lister = lister_for("serviceaccounts")
        self.rng = rng

    @staticmethod
    def handles(operation: str) -> bool:
        return operation == CREATE

    @staticmethod
    def _ignored(a: Attributes) -> bool:
        """shouldIgnore: only pods (and their ephemeralcontainers, not served here)."""
        return a.group != "" or a.resource != "pods" or bool(a.subresource) or a.obj is None

    # -- Admit ---------------------------------------------------------------------------
    def admit(self, a: Attributes) -> None:
        if self._ignored(a):
            return
        pod = a.obj
        spec = pod.setdefault("spec", {})
        if MIRROR_POD_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {}):
            return self.validate(a)
        if not spec.get("serviceAccountName"):
            # Convert_v1_PodSpec_To_core_PodSpec: the deprecated serviceAccount is an alias.
            spec["serviceAccountName"] = spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT_NAME
        name = spec["serviceAccountName"]
        sa = self.lister.get(name, a.namespace or "")
        if sa is None:
            if name == DEFAULT_SERVICE_ACCOUNT_NAME and a.attempt < DEFAULT_LOOKUP_ATTEMPTS - 1:
                # retryInterval := rand.Int63n(100)+100 ms between the direct lookups.
                raise Wait((self.rng().randrange(100) + 100) / 1000.0)
            raise self._not_found(a, name)
        spec["serviceAccount"] = name  # the v1 conversion writes the deprecated alias back
        if self._should_automount(sa, pod):
            self._mount_token(spec)
        if not spec.get("imagePullSecrets") and sa.get("imagePullSecrets"):
            spec["imagePullSecrets"] = [{"name": ref.get("name", "")} for ref in sa["imagePullSecrets"]]

    @staticmethod
    def _not_found(a: Attributes, name: str):
        return forbidden(a, f'error looking up service account {a.namespace}/{name}: '
                            f'serviceaccount "{name}" not found')

    @staticmethod
    def _should_automount(sa: dict, pod: dict) -> bool:
        """shouldAutomount: the pod's preference, else the ServiceAccount's, else true."""
        if (pod.get("spec") or {}).get("automountServiceAccountToken") is not None:
            return bool(pod["spec"]["automountServiceAccountToken"])
        if sa.get("automountServiceAccountToken") is not None:
            return bool(sa["automountServiceAccountToken"])
        return True

    def _mount_token(self, spec: dict) -> None:
        """mountServiceAccountToken."""
        volume_name = ""
        for vol in spec.get("volumes") or []:
            if str(vol.get("name", "")).startswith(SERVICE_ACCOUNT_VOLUME_NAME + "-"):
                volume_name = vol["name"]
                break
        has_volume = bool(volume_name)
        if not volume_name:
            volume_name = f"{SERVICE_ACCOUNT_VOLUME_NAME}-{random_suffix(self.rng())}"
        needs_volume = False
        for key in ("initContainers", "containers"):
            for container in spec.get(key) or []:
                mounts = container.get("volumeMounts") or []
                if any(m.get("mountPath") == DEFAULT_API_TOKEN_MOUNT_PATH for m in mounts):
                    continue
                container["volumeMounts"] = mounts + [{"name": volume_name, "readOnly": True,
                                                       "mountPath": DEFAULT_API_TOKEN_MOUNT_PATH}]
                needs_volume = True
        if not has_volume and needs_volume:
            spec["volumes"] = (spec.get("volumes") or []) + [{"name": volume_name,
                                                              "projected": token_volume_source()}]

    # -- Validate ------------------------------------------------------------------------
    def validate(self, a: Attributes) -> None:
        if self._ignored(a):
            return
        pod = a.obj
        spec = pod.get("spec") or {}
        if MIRROR_POD_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {}):
            if spec.get("serviceAccountName"):
                raise forbidden(a, "a mirror pod may not reference service accounts")
            return
        name = spec.get("serviceAccountName")
        if not name:
            md = pod.get("metadata") or {}
            raise forbidden(a, f"no service account specified for pod {a.namespace}/{md.get('name', '')}")
        if self.lister.get(name, a.namespace or "") is None:
            raise self._not_found(a, name)
