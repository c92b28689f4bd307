"""pods/ephemeralcontainers (pkg/registry/core/pod/strategy.go, podEphemeralContainersStrategy;
`kubectl debug`): an update or patch of the pod through this subresource changes only
`spec.ephemeralContainers` (dropNonEphemeralContainerUpdates), and may only add containers:
ValidatePodEphemeralContainersUpdate refuses a changed or removed one, and an added one must be
a valid container without what an ephemeral container cannot have (ports, probes, lifecycle,
resources), named uniquely in the pod, its targetContainerName one of the pod's containers."""
from __future__ import annotations

from sim.api import validation
from sim.api.defaults import _image_pull_policy
from sim.api.meta import deep_copy
from sim.api.validation import FieldError, duplicate, forbidden, required

SUBRESOURCE = "ephemeralcontainers"
# EphemeralContainerCommon fields validateEphemeralContainers forbids.
FORBIDDEN_FIELDS = ("ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "resources",
                    "resizePolicy")


def not_found(field: str, value) -> FieldError:
    return FieldError(field, "NotFound", value)


def prepare_for_update(candidate: dict, old: dict) -> dict:
    """The stored pod with the candidate's ephemeral containers, defaulted as a container is."""
    new = deep_copy(old)
    added = deep_copy((candidate.get("spec") or {}).get("ephemeralContainers") or [])
    for c in added:
        if isinstance(c, dict):
            c.setdefault("imagePullPolicy", _image_pull_policy(str(c.get("image", ""))))
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
    if added:
        new["spec"]["ephemeralContainers"] = added
    else:
        new["spec"].pop("ephemeralContainers", None)
    if added != (old.get("spec") or {}).get("ephemeralContainers", []):
        # KEP-5067: a change of the spec through this subresource moves the generation too.
        new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
    return new


def validate_update(new: dict, old: dict) -> list[FieldError]:
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    eph = [c for c in spec.get("ephemeralContainers") or [] if isinstance(c, dict)]
    old_eph = {c.get("name"): c for c in old_spec.get("ephemeralContainers") or [] if isinstance(c, dict)}
    errs: list[FieldError] = []
    new_by_name = {c.get("name"): c for c in eph}
    for name, c in old_eph.items():
        if name not in new_by_name:
            errs.append(forbidden("spec.ephemeralContainers", f'existing ephemeral containers "{name}" may not '
                                                              "be removed"))
        elif new_by_name[name] != c:
            errs.append(forbidden(f"spec.ephemeralContainers[{list(new_by_name).index(name)}]",
                                  f'existing ephemeral containers "{name}" may not be changed'))
    regular = [c.get("name") for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])]
    seen = set(regular)
    for i, c in enumerate(eph):
        path = f"spec.ephemeralContainers[{i}]"
        name = c.get("name")
        if name in old_eph:
            seen.add(name)
            continue
        if not name:
            errs.append(required(f"{path}.name"))
        else:
            errs += [validation.invalid(f"{path}.name", name, d) for d in validation.dns1123_label_errors(str(name))]
            if name in seen:
                errs.append(duplicate(f"{path}.name", name))
            seen.add(name)
        if not c.get("image"):
            errs.append(required(f"{path}.image"))
        for field in FORBIDDEN_FIELDS:
            if c.get(field):
                errs.append(forbidden(f"{path}.{field}", "cannot be set for an Ephemeral Container"))
        target = c.get("targetContainerName")
        if target and target not in regular:
            errs.append(not_found(f"{path}.targetContainerName", target))
    return errs
