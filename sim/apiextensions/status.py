"""A CustomResourceDefinition's status as its controllers write it: the naming controller
accepts names that no other CRD of the group holds (NamesAccepted) and the establishing
controller then marks the CRD Established (k8s.io/apiextensions-apiserver/pkg/controller/
status/naming_controller.go, establish/establishing_controller.go, apihelpers/helpers.go)."""
from __future__ import annotations

import copy


def condition(type_: str, status: str, reason: str, message: str) -> dict:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def find_condition(crd: dict, type_: str) -> dict | None:
    for c in ((crd.get("status") or {}).get("conditions") or []):
        if isinstance(c, dict) and c.get("type") == type_:
            return c
    return None


def is_condition_true(crd: dict, type_: str) -> bool:
    c = find_condition(crd, type_)
    return bool(c) and c.get("status") == "True"


def set_condition(crd: dict, new: dict, now: str) -> None:
    """SetCRDCondition: lastTransitionTime moves only when the status changes."""
    status = crd.setdefault("status", {})
    conds = status.setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c.get("type") == new["type"]:
            if c.get("status") != new["status"]:
                conds[i] = {**new, "lastTransitionTime": now}
            else:
                conds[i] = {**new, "lastTransitionTime": c.get("lastTransitionTime") or now}
            return
    conds.append({**new, "lastTransitionTime": now})


def _in_use(requested: str, accepted: str, used: set[str]) -> str | None:
    """equalToAcceptedOrFresh."""
    if requested == accepted or requested not in used:
        return None
    return f'"{requested}" is already in use'


def calculate_names_and_conditions(crd: dict, others: list[dict]) -> tuple[dict, dict, dict]:
    """calculateNamesAndConditions: (acceptedNames, NamesAccepted, Established) given the
    stored CRDs (any group; those of another group are ignored; crd's own stored copy may be
    among them, as in upstream's lister)."""
    spec = crd.get("spec") or {}
    group = spec.get("group")
    resources: set[str] = set()
    kinds: set[str] = set()
    for o in others:   # upstream lists every CRD of the group, this one included
        if (o.get("spec") or {}).get("group") != group:
            continue
        an = (o.get("status") or {}).get("acceptedNames") or {}
        resources.update(x for x in [an.get("plural"), an.get("singular"), *(an.get("shortNames") or [])] if x is not None)
        kinds.update(x for x in [an.get("kind"), an.get("listKind")] if x is not None)
    requested = spec.get("names") or {}
    accepted = (crd.get("status") or {}).get("acceptedNames") or {}
    new = copy.deepcopy(accepted)
    cond = {"type": "NamesAccepted", "status": "Unknown", "reason": "", "message": ""}

    def conflict(reason, msg):
        cond.update(status="False", reason=reason, message=msg)

    for field, reason in (("plural", "PluralConflict"), ("singular", "SingularConflict")):
        err = _in_use(requested.get(field) or "", accepted.get(field) or "", resources)
        if err:
            conflict(reason, err)
        else:
            new[field] = requested.get(field) or ""
    if (requested.get("shortNames") or None) != (accepted.get("shortNames") or None):
        mine = set(accepted.get("shortNames") or [])
        errs = [e for s in requested.get("shortNames") or [] if s not in mine
                for e in [_in_use(s, "", resources)] if e]
        if errs:
            conflict("ShortNamesConflict", errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")
        else:
            new["shortNames"] = requested.get("shortNames")
    for field, reason in (("kind", "KindConflict"), ("listKind", "ListKindConflict")):
        err = _in_use(requested.get(field) or "", accepted.get(field) or "", kinds)
        if err:
            conflict(reason, err)
        else:
            new[field] = requested.get(field) or ""
    if requested.get("categories") is not None:
        new["categories"] = requested.get("categories")
    else:
        new.pop("categories", None)
    new = {k: v for k, v in new.items() if v not in (None, []) and (v != "" or k in ("plural", "kind"))}
    if cond["status"] == "Unknown":
        cond.update(status="True", reason="NoConflicts", message="no conflicts found")
    established = condition("Established", "False", "NotAccepted", "not all names are accepted")
    old = find_condition(crd, "Established")
    if old is not None:
        established = {k: old[k] for k in ("type", "status", "reason", "message") if k in old}
    if established.get("status") != "True" and cond["status"] == "True":
        established = condition("Established", "False", "Installing", "the initial names have been accepted")
    return new, cond, established


def established_condition() -> dict:
    """What the establishing controller sets once NamesAccepted is True."""
    return condition("Established", "True", "InitialNamesAccepted", "the initial names have been accepted")


def apply_naming(crd: dict, others: list[dict], now: str) -> dict:
    """A copy of crd with the naming controller's status, then Established=True when the names
    are accepted (the two controllers' updates in one step, as the simulator may want them)."""
    crd = copy.deepcopy(crd)
    names, accepted, established = calculate_names_and_conditions(crd, others)
    crd.setdefault("status", {})["acceptedNames"] = names
    set_condition(crd, accepted, now)
    set_condition(crd, established, now)
    if accepted["status"] == "True":
        set_condition(crd, established_condition(), now)
    return crd
