"""The eviction manager's local ephemeral storage checks (pkg/kubelet/eviction/eviction_manager.go
localStorageEviction, with LocalStorageCapacityIsolation, on by default): a pod is evicted when

- an emptyDir volume (on disk, not `medium: Memory`) holds more than its `sizeLimit`:
  `Usage of EmptyDir volume "cache" exceeds the limit "1Mi". `
- a container's writable layer and logs pass its `limits.ephemeral-storage`:
  `Container writer exceeded its local ephemeral storage limit "1Mi". `
- or the pod's containers' layers, logs and emptyDirs together pass the sum of its containers'
  limits: `Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. `

Usage is what the simulated programs wrote: the bytes of the files in a container's own
filesystem that the image did not bring (or that it changed), the lines of its log, and the
files in the pod's emptyDir volumes.  Only pods that set such a limit are looked at, as only
they can be evicted for it.
"""
from __future__ import annotations

from sim.api.quantity import QuantityError, format_memory, parse_quantity


def _quantity(text) -> int | None:
    try:
        return int(parse_quantity(str(text))) if text is not None else None
    except (QuantityError, ValueError):
        return None


def container_usage(c) -> int:
    """Bytes a running container wrote: its writable layer (what differs from its image's files)
    and its log."""
    own = getattr(c.fs.files, "own", {}) if c.fs is not None else {}
    layer = sum(len(v.encode()) for p, v in own.items() if c.files.get(p) != v)
    return layer + sum(len(line.encode()) + 1 for _, _, line in c.log)


def volume_usage(volume) -> int:
    return sum(len(v.encode()) for v in volume.files.values())


def _limited(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    if any(((c.get("resources") or {}).get("limits") or {}).get("ephemeral-storage") is not None
           for c in spec.get("containers") or []):
        return True
    return any(isinstance(v.get("emptyDir"), dict) and v["emptyDir"].get("sizeLimit") is not None
               for v in spec.get("volumes") or [])


def exceeded(w: dict, runtime) -> str | None:
    """The eviction message when the pod worker `w`'s pod uses more local storage than it may,
    else None."""
    pod = w["pod"]
    limited = w.get("storage_limited")
    if limited is None or limited[0] is not pod:
        limited = w["storage_limited"] = (pod, _limited(pod))   # read once per pod object
    if not limited[1]:
        return None
    spec = pod.get("spec") or {}
    volumes = w.get("volumes") or {}
    total = 0
    for v in spec.get("volumes") or []:
        ed = v.get("emptyDir")
        if not isinstance(ed, dict) or ed.get("medium") == "Memory" or v.get("name") not in volumes:
            continue
        used = volume_usage(volumes[v["name"]])
        total += used
        limit = _quantity(ed.get("sizeLimit"))
        if limit is not None and used > limit:
            return f'Usage of EmptyDir volume "{v["name"]}" exceeds the limit "{ed["sizeLimit"]}". '
    pod_limit, all_limited = 0, True
    for spec_c in spec.get("containers") or []:
        rec = w["containers"].get(spec_c.get("name"))
        c = runtime.container(rec.container_id) if rec is not None and rec.state == "running" else None
        used = container_usage(c) if c is not None else 0
        total += used
        raw = ((spec_c.get("resources") or {}).get("limits") or {}).get("ephemeral-storage")
        limit = _quantity(raw)
        if limit is None:
            all_limited = False
            continue
        pod_limit += limit
        if used > limit:
            return f'Container {spec_c.get("name")} exceeded its local ephemeral storage limit "{raw}". '
    if all_limited and pod_limit and total > pod_limit:
        return f"Pod ephemeral local storage usage exceeds the total limit of containers {format_memory(pod_limit)}. "
    return None
