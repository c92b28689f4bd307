"""managedFields on every write and server-side apply, as kube-apiserver's handlers call the field
manager (staging/src/k8s.io/apiserver/pkg/endpoints/handlers: create.go, update.go, patch.go's
applyPatcher, rest.go managerOrUserAgent; the managedfields package does the work, here
sim/api/fieldmanager.py).

The generic request path (server.py) calls in at a few points and nothing here knows a kind by
name: a kind's list and map types come from its strategy's `field_type_info(res)` (by default
from its Go type, `res.schema`; a custom resource's strategy answers from its CRD schema).

- `options_error(req)`: ValidateCreate/Update/PatchOptions on fieldManager and force (422);
- `track(server, res, req, old, new, subresource)`: FieldManager.UpdateNoErrors on a create
  (old None), an update, a non-apply patch, a /status or /scale write - the manager is
  ?fieldManager=, else the User-Agent's prefix (engine clients send theirs: "kubelet/v1.32.0 ..."
  gives "kubelet");
- `serve_apply(server, res, req, reply)`: a PATCH of application/apply-patch+yaml: apply
  semantics, creating the object when absent (patch.go's forceAllowCreate for apply), 409
  Conflict with one cause per conflicting field unless ?force=true, dryRun writes nothing.
"""
from __future__ import annotations

import copy
import json
from typing import Callable

from sim.api import fieldmanager as fm
from sim.api import status as st
from sim.api.fieldtyped import SchemaError, compare, to_field_set
from sim.api.fieldtypes import TypeInfo
from sim.api.queryparams import is_true
from sim.api.validation import FieldError, forbidden, invalid

APPLY_PATCH = "application/apply-patch+yaml"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}

# One TypeInfo per kind served (keyed by the Resource's identity: a kind defined again at run
# time, a CRD updated, is a new Resource and gets its own).
_TYPE_INFO: dict[int, tuple[object, TypeInfo]] = {}


def type_info(res) -> TypeInfo:
    hit = _TYPE_INFO.get(id(res))
    if hit is None or hit[0] is not res:
        hit = (res, res.strategy.field_type_info(res))
        _TYPE_INFO[id(res)] = hit
    return hit[1]


def manager(req: dict) -> str:
    """managerOrUserAgent: ?fieldManager=, else the User-Agent's prefix."""
    return (req.get("query") or {}).get("fieldManager") or fm.default_manager(req.get("user_agent") or "")


def options_error(req: dict) -> dict | None:
    """ValidateCreateOptions / ValidateUpdateOptions / ValidatePatchOptions: a fieldManager of at
    most 128 bytes of printable characters; `force` only on an apply patch, which must name its
    fieldManager.  A 422 on `<Kind>Options.meta.k8s.io ""`."""
    verb = req.get("verb")
    kind = _OPTIONS_KIND.get(verb)
    if kind is None:
        return None
    q = req.get("query") or {}
    errs: list[FieldError] = []
    name = q.get("fieldManager")
    if name is not None:
        if len(name.encode()) > fm.FIELD_MANAGER_MAX_LENGTH:
            errs.append(FieldError("fieldManager", "TooLong", None,
                                   f"may not be more than {fm.FIELD_MANAGER_MAX_LENGTH} bytes"))
        bad = next((i for i, ch in enumerate(name) if not ch.isprintable()), None)
        if bad is not None:
            errs.append(invalid("fieldManager", name, f"invalid characters at position {bad}"))
    if verb == "patch":
        if req.get("patch_type") == APPLY_PATCH:
            if not name:
                return fm.apply_requires_field_manager()
        elif "force" in q:
            errs.append(forbidden("force", "may not be specified for non-apply patch"))
    if not errs:
        return None
    from sim.apiserver.server import _invalid
    return _invalid(kind, "", errs, "meta.k8s.io")


_STAMP: list = [None, None, ""]   # (server, its clock, the timestamp): many writes per instant


def _timestamp(server) -> str:
    if _STAMP[0] is not server or _STAMP[1] != server.now:
        _STAMP[:] = [server, server.now, server.timestamp()]
    return _STAMP[2]


def _api_version(res, req: dict) -> str:
    """The group/version the request addresses (managedFields record it; an apply
    configuration must be written in it)."""
    from sim.apiserver.server import _requested_api_version
    return _requested_api_version(res, req)


def track(server, res, req: dict, old: dict | None, new: dict, subresource: str = "") -> dict:
    """FieldManager.UpdateNoErrors: `new` with its managedFields brought up to date (never fails
    the write: a schema the object does not fit leaves it without managedFields)."""
    return fm.update(old, new, manager(req), _api_version(res, req), _timestamp(server),
                     subresource=subresource or "", type_info=type_info(res))


def tracker(server, res, req: dict, subresource: str = "") -> Callable[[dict | None, dict], dict]:
    return lambda old, new: track(server, res, req, old, new, subresource)


def _last_applied(applied: dict) -> str:
    """lastappliedupdater.go buildLastApplied: the applied configuration without the annotation,
    as the unstructured JSON encoder writes it (keys sorted, a newline at the end)."""
    config = copy.deepcopy(applied)
    annotations = (config.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
    return json.dumps(config, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"


def _has_last_applied(obj: dict | None) -> bool:
    return bool((((obj or {}).get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED))


def _allowed_conflicts(live: dict, ti: TypeInfo) -> frozenset:
    """lastappliedmanager.go allowedConflictsFromLastApplied: the fields of the last client-side
    applied configuration whose live values are still the ones it applied."""
    try:
        last = json.loads(live["metadata"]["annotations"][LAST_APPLIED])
        if not isinstance(last, dict):
            return frozenset()
        base = fm._without_managed_fields(live, deep=False)
        fields = to_field_set(ti, last)
        added, modified, removed = compare(ti, base, last)
    except (ValueError, TypeError, KeyError, SchemaError):
        return frozenset()
    return fields - added - modified - removed


def _apply(live: dict | None, applied: dict, mgr: str, api_version: str, now: str, force: bool,
           sub: str, ti: TypeInfo):
    """fieldmanager.Apply with the two kubectl-specific layers (lastappliedmanager.go,
    lastappliedupdater.go), both only for the manager "kubectl": a first server-side apply of
    an object that was client-side applied is not a conflict on the fields its last-applied
    configuration set to the values they still have; and the last-applied annotation, when the
    object has one, follows the server-side applied configuration."""
    result = fm.apply(live, applied, mgr, api_version, now, force, subresource=sub, type_info=ti)
    if mgr != "kubectl" or not _has_last_applied(live):
        return result
    if isinstance(result, fm.Conflicts):
        allowed = _allowed_conflicts(live, ti)
        remaining = [(ident, p) for ident, p in result.items if p not in allowed]
        if remaining:
            result.items = remaining
            return result
        result = fm.apply(live, applied, mgr, api_version, now, True, subresource=sub, type_info=ti)
    if _has_last_applied(result):
        result["metadata"]["annotations"] = {**result["metadata"]["annotations"],
                                             LAST_APPLIED: _last_applied(applied)}
    return result


def serve_apply(server, res, req: dict, reply, retried: bool = False) -> None:
    """PATCH application/apply-patch+yaml (patch.go applyPatcher + fieldmanager.Apply)."""
    from sim.apiserver.server import _dry_run, _err, _precondition_rv
    error = options_error(req)
    if error:
        return reply(_err(error))
    body = req.get("body")
    if not isinstance(body, dict):
        return reply(_err(st.bad_request("the body of the request must be a JSON object")))
    sub = req.get("subresource") or ""
    name, ns = req.get("name", ""), req.get("namespace")
    md = body.get("metadata")
    if md is not None and not isinstance(md, dict):
        return reply(_err(st.bad_request("the body of the request must be a JSON object")))
    md = md or {}
    if md.get("name") and md["name"] != name:
        return reply(_err(st.bad_request(f"the name of the object ({md['name']}) does not match the name on the URL ({name})")))
    if res.namespaced and md.get("namespace") and md["namespace"] != ns:
        return reply(_err(st.bad_request("the namespace of the provided object does not match the namespace sent on the request")))
    applied, warnings, error = server.decode(res, req, body)
    if error:
        return reply(_err(error))
    mgr = manager(req)
    force = is_true((req.get("query") or {}).get("force"))
    ti = type_info(res)
    api_version = _api_version(res, req)
    version = api_version.rpartition("/")[2]
    if isinstance(applied, dict):
        # decode converted it to the storage version: the configuration is the requested one's,
        # applied to the live object as served at that version.
        applied = res.to_version(applied, version)

    def do_apply(live: dict | None) -> tuple[str, dict]:
        try:
            live = res.to_version(live, version) if live is not None else None
            result = _apply(live, applied, mgr, api_version, _timestamp(server), force, sub, ti)
        except fm.ApplyError as e:
            return "error", e.status()
        except fm.ManagedFieldsError as e:
            return "error", st.internal(str(e))
        if isinstance(result, fm.Conflicts):
            return "error", result.status()
        return "ok", result

    def done(resp: dict) -> None:
        if warnings and resp["code"] < 400:
            resp = dict(resp, warnings=list(warnings))
        reply(resp)

    if server._get_cached(res, ns, name) is None and server._get_corrupt(res, ns, name) is None:
        if sub:
            return reply(_err(st.not_found(res.name, name, res.group)))
        action, obj = do_apply(None)
        if action == "error":
            return reply(_err(obj))
        obj.setdefault("metadata", {})["name"] = name

        def created(resp: dict) -> None:
            # Created meanwhile by someone else: apply again, to the object now there.
            if resp["code"] == 409 and resp["body"].get("reason") == "AlreadyExists" and not retried:
                return serve_apply(server, res, req, reply, retried=True)
            done(resp)

        return server.do_create(res, dict(req, verb="create", body=obj, _applied=True), created)

    def mutate(cur: dict) -> tuple[str, dict]:
        action, result = do_apply(cur)
        if action == "error":
            return action, result
        result = res.from_version(result, version)  # stored at the storage version
        managed = result["metadata"].get("managedFields")

        def keep(_old: dict, new: dict) -> dict:
            # The applier's managedFields, whatever the strategy took from the live object (a
            # /status write keeps the live metadata).
            new["metadata"].pop("managedFields", None)
            if managed is not None:
                new["metadata"]["managedFields"] = managed
            return new
        return server._prepare_update(res, cur, result, sub or None, req, fields=keep)

    server.guaranteed_update(res, ns, name, mutate, done, _precondition_rv(body), dry_run=_dry_run(req))
