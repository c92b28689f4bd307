"""What the kubelet gives a container from the API: its environment (env with value, valueFrom
configMapKeyRef / secretKeyRef / fieldRef / resourceFieldRef, envFrom with prefix) and its
volumes (emptyDir, hostPath, configMap, secret, downwardAPI, projected), as
pkg/kubelet/kubelet_pods.go (makeEnvironmentVariables) and pkg/volume/* build them.

The objects a pod refers to are read when it starts (and, for env, again at each container
start: env never changes in a running container).  A missing object or key that is not
`optional` is upstream's error: for env, the container waits as CreateContainerConfigError
(`configmap "x" not found`, `couldn't find key k in ConfigMap default/x`); for a volume, the
pod stays ContainerCreating with FailedMount events.  Mounted ConfigMaps and Secrets are
refreshed every SYNC_SECONDS (the kubelet's sync period), so a change reaches the files a
minute or so later - never the environment.
"""
from __future__ import annotations

import base64
import json
import math
import posixpath
from typing import Callable

from sim.api.quantity import value as quantity_value
from sim.runtime.process import Volume

SYNC_SECONDS = 60.0
KINDS = {"configmaps": "ConfigMap", "secrets": "Secret"}


def _sources(pod: dict):
    """(resource, name, optional) of every ConfigMap and Secret the pod refers to."""
    spec = pod.get("spec") or {}
    for v in spec.get("volumes") or []:
        if not isinstance(v, dict):
            continue
        if isinstance(v.get("configMap"), dict):
            yield "configmaps", v["configMap"].get("name"), bool(v["configMap"].get("optional"))
        if isinstance(v.get("secret"), dict):
            yield "secrets", v["secret"].get("secretName"), bool(v["secret"].get("optional"))
        for src in (v.get("projected") or {}).get("sources") or []:
            if isinstance(src.get("configMap"), dict):
                yield "configmaps", src["configMap"].get("name"), bool(src["configMap"].get("optional"))
            if isinstance(src.get("secret"), dict):
                yield "secrets", src["secret"].get("name"), bool(src["secret"].get("optional"))
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        yield from container_sources(c)


def container_sources(container: dict):
    for e in container.get("env") or []:
        ref = (e.get("valueFrom") or {}) if isinstance(e, dict) else {}
        if isinstance(ref.get("configMapKeyRef"), dict):
            yield "configmaps", ref["configMapKeyRef"].get("name"), bool(ref["configMapKeyRef"].get("optional"))
        if isinstance(ref.get("secretKeyRef"), dict):
            yield "secrets", ref["secretKeyRef"].get("name"), bool(ref["secretKeyRef"].get("optional"))
    for e in container.get("envFrom") or []:
        if isinstance(e.get("configMapRef"), dict):
            yield "configmaps", e["configMapRef"].get("name"), bool(e["configMapRef"].get("optional"))
        if isinstance(e.get("secretRef"), dict):
            yield "secrets", e["secretRef"].get("name"), bool(e["secretRef"].get("optional"))


def fetch(kubelet, namespace: str, refs, done: Callable[[dict], None], refresh_for: str | None = None) -> None:
    """Read each (resource, name) through the API; done({(resource, name): object or None}).

    A refresh (the periodic re-read of what a running pod mounts; `refresh_for` names the pod)
    reads the kubelet's watch-based object cache (sim/kubelet/objectcache.py), which watches
    each object the pod refers to; what it has not listed yet is read through the apiserver's
    watch cache (resourceVersion=0), as upstream reads "a periodic refresh of an object we
    successfully fetched previously" (util.FromApiserverCache): never a quorum read through
    etcd for every pod every minute."""
    wanted = sorted({(r, n) for r, n, *_ in refs if isinstance(n, str) and n})
    found: dict = {}
    if not wanted:
        return done(found)
    if refresh_for is not None:
        cache = kubelet.object_cache
        cache.register(refresh_for, namespace, wanted)
        missing = []
        for resource, name in wanted:
            known, obj = cache.get(resource, namespace, name)
            if known:
                found[(resource, name)] = obj
            else:
                missing.append((resource, name))
        if not missing:
            return done(found)
        wanted = missing
    remaining = [len(wanted)]
    for resource, name in wanted:
        def got(resp: dict, key=(resource, name)) -> None:
            found[key] = resp["body"] if resp.get("code") == 200 else None
            remaining[0] -= 1
            if remaining[0] == 0:
                done(found)
        req = {"verb": "get", "resource": resource, "namespace": namespace, "name": name}
        if refresh_for is not None:
            req["query"] = {"resourceVersion": "0"}
        kubelet.api.request(req, got)


def data_of(obj: dict, resource: str) -> dict[str, str]:
    """A ConfigMap's data (and binaryData), a Secret's data decoded from base64."""
    if resource == "configmaps":
        out = {k: str(v) for k, v in (obj.get("data") or {}).items()}
        for k, v in (obj.get("binaryData") or {}).items():
            out[k] = _b64(v)
        return out
    out = {k: _b64(v) for k, v in (obj.get("data") or {}).items()}
    out.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    return out


def _b64(text) -> str:
    try:
        return base64.b64decode(str(text)).decode("utf-8", errors="replace")
    except (ValueError, TypeError):
        return ""


def _not_found(resource: str, name: str) -> str:
    return f'{KINDS[resource].lower()} "{name}" not found'


# -- the downward API ---------------------------------------------------------------------
def _ips(value) -> list[str]:
    """One address, or a dual-stack node's / pod's addresses (the primary first)."""
    if isinstance(value, (list, tuple)):
        return [ip for ip in value if ip]
    return [value] if value else []


def field_ref(pod: dict, path: str, node_ip, pod_ip) -> str | None:
    """podFieldSelectorRuntimeValue (pkg/kubelet/kubelet_pods.go); `node_ip` and `pod_ip` are an
    address or the list of a dual-stack node's / pod's: status.hostIPs and status.podIPs are
    every one, comma-separated (strings.Join), status.hostIP and status.podIP the first."""
    md, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    host_ips, pod_ips = _ips(node_ip), _ips(pod_ip)
    simple = {"metadata.name": md.get("name"), "metadata.namespace": md.get("namespace"), "metadata.uid": md.get("uid"),
              "spec.nodeName": spec.get("nodeName"), "spec.serviceAccountName": spec.get("serviceAccountName"),
              "status.hostIP": host_ips[0] if host_ips else "", "status.hostIPs": ",".join(host_ips),
              "status.podIP": pod_ips[0] if pod_ips else "", "status.podIPs": ",".join(pod_ips)}
    if path in simple:
        return str(simple[path] or "")
    for prefix, source in (("metadata.labels", md.get("labels")), ("metadata.annotations", md.get("annotations"))):
        if path == prefix:
            # fieldpath.FormatMap: `key=%q` per line, sorted (Go's %q: a quoted, escaped string).
            return "\n".join(f"{k}={json.dumps(str(v), ensure_ascii=False)}" for k, v in sorted((source or {}).items()))
        if path.startswith(prefix + "['") and path.endswith("']"):
            return str((source or {}).get(path[len(prefix) + 2:-2], ""))
    return None


def resource_field_ref(container: dict, ref: dict, node_allocatable: dict) -> str:
    """limits.cpu (cores, rounded up by the divisor), requests.memory (bytes), ...; a limit
    that is not set is the node's allocatable, as upstream."""
    resource = ref.get("resource", "")
    kind, _, name = resource.partition(".")
    res = (container.get("resources") or {}).get(kind) or {}
    raw = res.get(name) or (node_allocatable.get(name) if kind == "limits" else None) or "0"
    divisor = quantity_value(str(ref.get("divisor") or "1"))
    amount = quantity_value(str(raw))
    return str(int(math.ceil(amount / divisor))) if divisor else "0"


# -- env ------------------------------------------------------------------------------
def container_env(pod: dict, container: dict, objs: dict, node_ip: str, pod_ip: str | None,
                  node_allocatable: dict) -> tuple[dict[str, str], str | None]:
    """The container's environment, or the CreateContainerConfigError message."""
    from sim.runtime.images import expand
    env: dict[str, str] = {}
    ns = (pod.get("metadata") or {}).get("namespace", "")
    for e in container.get("envFrom") or []:
        for key, resource in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
            ref = e.get(key)
            if not isinstance(ref, dict):
                continue
            obj = objs.get((resource, ref.get("name")))
            if obj is None:
                if ref.get("optional"):
                    continue
                return env, _not_found(resource, ref.get("name"))
            for k, v in data_of(obj, resource).items():
                env[f"{e.get('prefix') or ''}{k}"] = v
    for e in container.get("env") or []:
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            continue
        if "valueFrom" not in e:
            env[e["name"]] = expand(str(e.get("value") or ""), env)
            continue
        src = e["valueFrom"] or {}
        for key, resource in (("configMapKeyRef", "configmaps"), ("secretKeyRef", "secrets")):
            ref = src.get(key)
            if not isinstance(ref, dict):
                continue
            obj = objs.get((resource, ref.get("name")))
            if obj is None:
                if ref.get("optional"):
                    break
                return env, _not_found(resource, ref.get("name"))
            data = data_of(obj, resource)
            if ref.get("key") not in data:
                if ref.get("optional"):
                    break
                return env, f"couldn't find key {ref.get('key')} in {KINDS[resource]} {ns}/{ref.get('name')}"
            env[e["name"]] = data[ref["key"]]
            break
        else:
            if isinstance(src.get("fieldRef"), dict):
                got = field_ref(pod, src["fieldRef"].get("fieldPath", ""), node_ip, pod_ip)
                if got is not None:
                    env[e["name"]] = got
            elif isinstance(src.get("resourceFieldRef"), dict):
                env[e["name"]] = resource_field_ref(container, src["resourceFieldRef"], node_allocatable)
    return env, None


# -- volumes ----------------------------------------------------------------------------
def _items(data: dict[str, str], items, name: str, kind: str) -> tuple[dict[str, str], str | None]:
    if not items:
        return dict(data), None
    out = {}
    for item in items:
        if item.get("key") not in data:
            return out, f'configmap references non-existent config key: {item.get("key")}' if kind == "configmaps" \
                else f'references non-existent secret key: {item.get("key")}'
        out[posixpath.normpath(item.get("path") or item["key"])] = data[item["key"]]
    return out, None


def volume_files(pod: dict, volume: dict, objs: dict, node_ip: str, pod_ip: str | None) -> tuple[dict[str, str] | None, str | None]:
    """The files a configMap / secret / downwardAPI / projected volume holds now; (None, None)
    for a volume of another kind; (files, error) when it cannot be set up."""
    name = volume.get("name", "")
    sources = []
    if isinstance(volume.get("configMap"), dict):
        sources.append(("configmaps", volume["configMap"]))
    elif isinstance(volume.get("secret"), dict):
        sources.append(("secrets", {**volume["secret"], "name": volume["secret"].get("secretName")}))
    elif isinstance(volume.get("downwardAPI"), dict):
        sources.append(("downwardAPI", volume["downwardAPI"]))
    elif isinstance(volume.get("projected"), dict):
        for src in volume["projected"].get("sources") or []:
            if isinstance(src.get("configMap"), dict):
                sources.append(("configmaps", src["configMap"]))
            elif isinstance(src.get("secret"), dict):
                sources.append(("secrets", src["secret"]))
            elif isinstance(src.get("downwardAPI"), dict):
                sources.append(("downwardAPI", src["downwardAPI"]))
            elif isinstance(src.get("serviceAccountToken"), dict):
                path = src["serviceAccountToken"].get("path") or "token"
                sources.append(("token", {"path": path}))
    else:
        return None, None
    files: dict[str, str] = {}
    for kind, src in sources:
        if kind in ("configmaps", "secrets"):
            obj = objs.get((kind, src.get("name")))
            if obj is None:
                if src.get("optional"):
                    continue
                return files, f'MountVolume.SetUp failed for volume "{name}" : {_not_found(kind, src.get("name"))}'
            got, error = _items(data_of(obj, kind), src.get("items"), name, kind)
            if error:
                return files, f'MountVolume.SetUp failed for volume "{name}" : {error}'
            files.update(got)
        elif kind == "downwardAPI":
            for item in src.get("items") or []:
                ref = item.get("fieldRef") or {}
                value = field_ref(pod, ref.get("fieldPath", ""), node_ip, pod_ip)
                if value is not None and item.get("path"):
                    files[posixpath.normpath(item["path"])] = value
        elif kind == "token":
            files[src["path"]] = "eyJhbGciOiJSUzI1NiJ9.simulated-service-account-token.signature"
    return files, None
