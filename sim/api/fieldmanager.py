"""managedFields and server-side apply, as kube-apiserver's field manager does them
(k8s.io/apimachinery/pkg/util/managedfields/internal: fieldmanager.go, structuredmerge.go,
managedfieldsupdater.go, stripmeta.go, capmanagers.go, buildmanagerinfo.go, managedfields.go,
conflict.go; sigs.k8s.io/structured-merge-diff merge/update.go).

The API server calls, with the object as JSON and `now` the metav1.Time to stamp:
- `update(live_old, new, manager, api_version, now, subresource=...)` on every create
  (live_old None), update and non-apply patch, after the object is merged and defaulted and
  before it is stored: it returns `new` with metadata.managedFields brought up to date;
- `apply(live, applied, manager, api_version, now, force, subresource=...)` for an
  application/apply-patch+yaml PATCH (live None when it creates): it returns the merged object
  with its managedFields, or a `Conflicts` (a 409) or raises `ApplyError` (a 400).

A manager entry is identified as upstream identifies it (BuildManagerIdentifier): the JSON of
{manager, operation, apiVersion (Update only), subresource}; the same manager writing through
apps/v1 and through /status has two entries.
"""
from __future__ import annotations

import copy
import functools
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sim.api import status as st
from sim.api.fieldpath import (EMPTY, FieldSet, from_fields_v1, iterate, path_of, path_string,
                               recursive_difference, to_fields_v1)
from sim.api.fieldtyped import (MISSING, SchemaError, compare, ensure_named_fields_are_members, equal,
                                merge, remove_items, to_field_set)
from sim.api.fieldtypes import TypeInfo, type_info_for

# capmanagers.go DefaultMaxUpdateManagers, and the bucket the oldest Update entries merge into.
MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"
# apimachinery/pkg/apis/meta/v1/validation: FieldManagerMaxLength.
FIELD_MANAGER_MAX_LENGTH = 128

# stripmeta.go: never owned by anyone (a plain Difference: labels and annotations stay owned).
STRIPPED = frozenset(path_of(*p) for p in (
    ("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"), ("metadata", "namespace"),
    ("metadata", "creationTimestamp"), ("metadata", "selfLink"), ("metadata", "uid"),
    ("metadata", "clusterName"), ("metadata", "generation"), ("metadata", "managedFields"),
    ("metadata", "resourceVersion")))


@dataclass
class Managed:
    """One manager's fieldpath.VersionedSet and its managedFields time."""
    fields: FieldSet
    api_version: str
    applied: bool
    time: str | None = None
    # The FieldsV1 it was decoded from, reused when encoding while `fields` is still the very
    # set decoded (every change makes a new frozenset): a write re-encodes only the managers
    # it changed, not the whole managedFields.
    fields_v1: Any = None
    fields_v1_of: Any = None


class ManagedFieldsError(ValueError):
    """managedFields that do not decode (decodeManagedFields's errors)."""


class ApplyError(ValueError):
    """An apply request kube-apiserver refuses: 400 BadRequest, or (code 500) an error that is
    not a metav1.Status, which ErrorToAPIStatus answers as a 500 with no reason."""

    def __init__(self, message: str, code: int = 400):
        super().__init__(message)
        self.code = code

    def status(self) -> dict:
        if self.code == 400:
            return st.bad_request(str(self))
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": str(self), "code": self.code}


@functools.lru_cache(maxsize=4096)
def manager_identifier(manager: str, operation: str, api_version: str, subresource: str = "") -> str:
    """BuildManagerIdentifier (buildmanagerinfo.go fills in "unknown" for an empty name): the
    ManagedFieldsEntry's JSON without time and fields, and without apiVersion for an applier, so
    it keeps one entry whatever version it applies through."""
    entry: dict[str, Any] = {"manager": manager or "unknown", "operation": operation}
    if operation != "Apply" and api_version:
        entry["apiVersion"] = api_version
    if subresource:
        entry["subresource"] = subresource
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=1024)
@functools.lru_cache(maxsize=256)
def default_manager(user_agent: str) -> str:
    """prefixFromUserAgent (endpoints/handlers/rest.go): the User-Agent before its first "/",
    unprintable characters dropped, at most FieldManagerMaxLength bytes.  "kubectl/v1.37.1
    (linux/amd64) kubernetes/abc" gives "kubectl"."""
    out, size = [], 0
    for ch in (user_agent or "").split("/")[0]:
        if not ch.isprintable():
            continue
        size += len(ch.encode())
        if size > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(ch)
    return "".join(out)


def apply_requires_field_manager() -> dict:
    """ValidatePatchOptions: an apply patch without ?fieldManager= is a 422."""
    message = "Required value: is required for apply patch"
    return st.status(422, "Invalid", f'PatchOptions.meta.k8s.io "" is invalid: fieldManager: {message}',
                     {"name": "", "group": "meta.k8s.io", "kind": "PatchOptions",
                      "causes": [{"reason": "FieldValueRequired", "message": message, "field": "fieldManager"}]})


# -- decoding and encoding managedFields (managedfields.go) ----------------------------------

# decode_managed_fields of stored objects' managedFields lists, by the list's identity: a write
# decodes its live object's entries, and (with the watch cache holding the object the apiserver
# encoded, KubeAPIServer.decode_event) that list is the one the previous write built, so a Lease
# renewed every 10 s decodes its FieldsV1 once, not on every renewal.  Stored objects are never
# mutated (their readers copy first); the list is held, so its id is not reused.
DECODED_REMEMBERED = 4096
_decoded: dict[int, tuple[list, list[tuple]]] = {}


def decode_stored_managed_fields(entries: Any) -> dict[str, Managed]:
    """decode_managed_fields of a stored (never mutated) object's managedFields: the same
    answer, remembered for the list (fresh Managed records each time: callers change them)."""
    if not isinstance(entries, list):
        return decode_managed_fields(entries)
    hit = _decoded.get(id(entries))
    if hit is None or hit[0] is not entries:
        managers = decode_managed_fields(entries)   # a ManagedFieldsError is not remembered
        if len(_decoded) >= DECODED_REMEMBERED:
            del _decoded[next(iter(_decoded))]      # the oldest
        _decoded[id(entries)] = hit = (entries, [(ident, m.fields, m.api_version, m.applied, m.time, m.fields_v1)
                                                 for ident, m in managers.items()])
    return {ident: Managed(fields, api_version, applied, time, fields_v1, fields)
            for ident, fields, api_version, applied, time, fields_v1 in hit[1]}


def decode_managed_fields(entries: Any) -> dict[str, Managed]:
    """decodeManagedFields: each entry by its manager identifier (a later duplicate wins)."""
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise ManagedFieldsError("managedFields must be a list")
    managers: dict[str, Managed] = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise ManagedFieldsError(f"managed fields entry {i} is not an object")
        if e.get("operation") not in ("Apply", "Update"):
            raise ManagedFieldsError("operation must be `Apply` or `Update`")
        if not e.get("apiVersion"):
            raise ManagedFieldsError("apiVersion must not be empty")
        if not e.get("fieldsType"):
            raise ManagedFieldsError(f"missing fieldsType in managed fields entry {i}")
        if e["fieldsType"] != "FieldsV1":
            raise ManagedFieldsError(f'invalid fieldsType "{e["fieldsType"]}" in managed fields entry {i}')
        try:
            fields = from_fields_v1(e.get("fieldsV1") or {})
        except (ValueError, TypeError) as err:
            raise ManagedFieldsError(f"error decoding versioned set from {e}: {err}") from None
        ident = manager_identifier(e.get("manager", ""), e["operation"], e["apiVersion"], e.get("subresource", ""))
        managers[ident] = Managed(fields, e["apiVersion"], e["operation"] == "Apply", e.get("time"),
                                  e.get("fieldsV1") or {}, fields)
    return managers


def validate_managed_fields(obj: dict) -> str | None:
    """Why an object's managedFields would not decode, or None.  Upstream never fails a write
    for it: an update whose managedFields do not decode keeps the live object's instead
    (decodeLiveOrNew), and only an apply configuration carrying managedFields is refused
    ("metadata.managedFields must be nil", see apply)."""
    try:
        decode_managed_fields((obj.get("metadata") or {}).get("managedFields"))
    except ManagedFieldsError as e:
        return str(e)
    return None


@functools.lru_cache(maxsize=4096)
def _seconds(time: str | None) -> int:
    if not time:
        return 0
    try:
        return int(dt.datetime.fromisoformat(time.replace("Z", "+00:00").replace("z", "+00:00")).timestamp())
    except ValueError:
        return 0


@functools.lru_cache(maxsize=4096)
def _who(ident: str) -> dict:
    """A manager identifier's fields (callers only read them)."""
    return json.loads(ident)


# Set.ToJSON remembered: a manager's set is encoded once while it stays the same (a kubelet's
# Lease, each node's status fields), not on every write.  The FieldsV1 returned is shared by the
# objects that carry it, which nobody mutates (stored and sent objects are read-only).
# Keyed by the set's identity, not its value: 1 and true are equal Python values, and hash
# alike, but not equal FieldsV1 ("v:1", "v:true").
ENCODED_REMEMBERED = 4096
_encoded: dict[int, tuple[FieldSet, dict]] = {}


def _fields_v1(fields: FieldSet) -> dict:
    hit = _encoded.get(id(fields))
    if hit is None or hit[0] is not fields:
        if len(_encoded) >= ENCODED_REMEMBERED:
            del _encoded[next(iter(_encoded))]  # the oldest
        hit = _encoded[id(fields)] = (fields, to_fields_v1(fields))
    return hit[1]


def encode_managed_fields(managers: dict[str, Managed]) -> list[dict]:
    """encodeManagedFields + sortEncodedManagedFields: Apply entries before Update ones, then
    oldest first, then by manager, apiVersion and subresource.  Key order is the Go struct's."""
    return [row[0] for row in _encode_rows(managers)]


def _encode_rows(managers: dict[str, Managed]) -> list[tuple[dict, str, Managed]]:
    """encode_managed_fields's entries, each with its manager identifier and record."""
    rows = []
    for ident, m in managers.items():
        who = _who(ident)
        entry: dict[str, Any] = {"manager": who["manager"], "operation": "Apply" if m.applied else "Update",
                                 "apiVersion": m.api_version}
        if m.time is not None:
            entry["time"] = m.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = m.fields_v1 if m.fields_v1_of is m.fields else _fields_v1(m.fields)
        if who.get("subresource"):
            entry["subresource"] = who["subresource"]
        rows.append((entry, ident, m))
    rows.sort(key=lambda r: (r[0]["operation"], _seconds(r[0].get("time")), r[0]["manager"], r[0]["apiVersion"],
                             r[0].get("subresource", "")))
    return rows


def _set_managed_fields(obj: dict, managers: dict[str, Managed]) -> dict:
    meta = obj.setdefault("metadata", {})
    meta.pop("managedFields", None)
    if managers:
        rows = _encode_rows(managers)
        entries = meta["managedFields"] = [row[0] for row in rows]
        _remember_decoded(entries, rows)
    return obj


def _remember_decoded(entries: list[dict], rows: list[tuple[dict, str, Managed]]) -> None:
    """What decode_managed_fields(entries) gives, known without decoding: the sets they were
    encoded from (FieldsV1 decodes to the set it encodes), in the entries' order.  The next
    write of the object then starts from the very sets of this one."""
    template = []
    for e, ident, m in rows:
        if () in m.fields:
            return  # the root path, which FieldsV1 cannot hold: decoding would lose it
        if manager_identifier(e["manager"], e["operation"], e["apiVersion"], e.get("subresource", "")) != ident:
            return  # an identifier decoding would not give: decode when asked
        template.append((ident, m.fields, m.api_version, m.applied, m.time, e["fieldsV1"]))
    if VERIFY_REMEMBERED:
        decoded = decode_managed_fields(entries)
        assert [(i, m.fields, m.api_version, m.applied, m.time, m.fields_v1) for i, m in decoded.items()] == template
    if len(_decoded) >= DECODED_REMEMBERED:
        del _decoded[next(iter(_decoded))]
    _decoded[id(entries)] = (entries, template)


# Debugging aid (tests set it): check that what _remember_decoded remembers is what decoding gives.
VERIFY_REMEMBERED = False


def _without_managed_fields(obj: dict, deep: bool = True) -> dict:
    """The object without metadata.managedFields: a deep copy, or (deep=False, for a value only
    read, or whose metadata alone is written) new top and metadata dicts sharing the rest."""
    if deep:
        obj = copy.deepcopy(obj)
        if isinstance(obj.get("metadata"), dict):
            obj["metadata"].pop("managedFields", None)
        return obj
    obj = dict(obj)
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return obj


def _live_or_new(live: dict | None, new: dict, ignore_new: bool) -> dict[str, Managed]:
    """decodeLiveOrNew: the managedFields a client sent (so it can edit them), unless the write is
    to a subresource; `[]` or `[{}]` resets them; ones that do not decode, or none, fall back to
    the live object's (so a client unaware of them cannot drop them); undecodable live ones to
    none at all."""
    live_entries = ((live or {}).get("metadata") or {}).get("managedFields")

    def live_managers():
        try:
            return decode_stored_managed_fields(live_entries)
        except ManagedFieldsError:
            return {}
    if ignore_new:
        return live_managers()
    sent = (new.get("metadata") or {}).get("managedFields")
    if isinstance(sent, list) and (sent == [] or sent == [{}]):
        return {}
    try:
        # A client that did not touch them (a merge patch, an update of what it read) sends the
        # live entries back: equal values decode to equal sets, the live ones remembered.
        managers = (decode_stored_managed_fields(live_entries) if sent is not None and sent == live_entries
                    else decode_managed_fields(sent))
    except ManagedFieldsError:
        managers = {}
    return managers or live_managers()


# -- update (non-apply writes) -------------------------------------------------------------

def _ignored(ti: TypeInfo, subresource: str) -> list:
    return [path_of(*p) for p in ti.reset_fields(subresource)]


def update(live_old: dict | None, new: dict, manager: str, api_version: str, now: str, *,
           subresource: str = "", operation: str = "Update", type_info: TypeInfo | None = None) -> dict:
    """FieldManager.Update for a create (live_old None), update or non-apply patch: the fields
    the write changed become `manager`'s (operation Update, at `now`), and every other manager
    loses the fields it changed or removed; an entry left empty goes.  A write that changes
    nothing leaves the entries (and their times) alone.  Then at most MAX_UPDATE_MANAGERS Update
    entries are kept."""
    ti = type_info or type_info_for(new.get("kind", ""))
    managers = _live_or_new(live_old, new, bool(subresource))
    # Neither is written below but `out`'s metadata: shallow copies keep a write's cost to what
    # it changed (compare skips equal subtrees).
    out = _without_managed_fields(new, deep=False)
    live = _without_managed_fields(live_old, deep=False) if live_old is not None else ti.zero
    ignored = _ignored(ti, subresource)
    try:
        added, modified, removed = compare(ti, live, out)
    except SchemaError:
        return out      # UpdateNoErrors: the write goes through, its managedFields cleared
    changed = recursive_difference(added | modified, ignored)
    removed = recursive_difference(removed, ignored)
    # managedfieldsupdater.go runs the write as "current-operation": the writer's own earlier
    # entry is another manager here, losing what changed, and takes it back in the union below.
    for ident in list(managers):
        m = managers[ident]
        if not m.fields.isdisjoint(changed) or not m.fields.isdisjoint(removed):
            m.fields = m.fields - changed - removed
        if not m.fields:
            del managers[ident]
    own = changed - STRIPPED
    if own:
        ident = manager_identifier(manager, operation, api_version, subresource)
        previous = managers.get(ident)
        fields = own | (previous.fields if previous else EMPTY)
        entry = Managed(fields, api_version, False, now)
        if previous is not None and previous.fields_v1_of is not None and fields == previous.fields_v1_of:
            # The writer changed only fields it already owned (a Lease renewal, a status
            # heartbeat): the very set it had (whose encoding _fields_v1 remembers); only the
            # time moves, as managedFieldsUpdater.Update stamps it.
            entry.fields = previous.fields_v1_of
        managers[ident] = entry
    _cap_update_managers(managers)
    return _set_managed_fields(out, managers)


def _cap_update_managers(managers: dict[str, Managed], cap: int = MAX_UPDATE_MANAGERS) -> None:
    """capUpdateManagers: beyond `cap` Update entries, the oldest ones are merged per apiVersion
    into an "ancient-changes" entry (the first of a version seen becomes the bucket when a
    second one joins it), which takes the time of the latest merged."""
    updaters = [ident for ident, m in managers.items() if not m.applied]
    if len(updaters) <= cap:
        return
    updaters.sort(key=lambda ident: (_seconds(managers[ident].time), ident))
    first_of_version: dict[str, str] = {}
    length = len(updaters)
    for ident in updaters:
        if length <= cap:
            break
        m = managers[ident]
        bucket = manager_identifier(ANCIENT_CHANGES, "Update", m.api_version)
        if m.api_version not in first_of_version:
            first_of_version[m.api_version] = ident
            continue
        if bucket not in managers:
            managers[bucket] = managers.pop(first_of_version[m.api_version])
        managers[bucket] = Managed(m.fields | managers[bucket].fields, m.api_version, m.applied, m.time)
        del managers[ident]
        length -= 1


# -- apply ---------------------------------------------------------------------------------

class Conflicts:
    """merge.Conflicts, rendered as conflict.go's NewConflictError renders them."""

    def __init__(self, by_manager: dict[str, FieldSet]):
        # Upstream walks a Go map (random order); managers sorted keeps the causes stable.
        self.items: list[tuple[str, tuple]] = [(ident, p) for ident in sorted(by_manager)
                                               for p in iterate(by_manager[ident])]

    def __len__(self) -> int:
        return len(self.items)

    @staticmethod
    def _who(ident: str) -> str:
        """printManager: "name" [with subresource "status"] [using <apiVersion> for an Update]."""
        who = json.loads(ident)
        text = json.dumps(who.get("manager", ""), ensure_ascii=False)
        if who.get("subresource"):
            text += f' with subresource {json.dumps(who["subresource"], ensure_ascii=False)}'
        if who.get("operation") == "Update":
            text += f' using {who.get("apiVersion", "")}'
        return text

    def message(self) -> str:
        if len(self.items) == 1:
            ident, p = self.items[0]
            return f"Apply failed with 1 conflict: conflict with {self._who(ident)}: {path_string(p)}"
        lines, last = [], None
        for ident, p in self.items:
            if ident != last:
                lines.append(f"conflicts with {self._who(ident)}:")
                last = ident
            lines.append(f"- {path_string(p)}")
        return f"Apply failed with {len(self.items)} conflicts: " + "\n".join(lines)

    def status(self) -> dict:
        """errors.NewApplyConflict: 409 Conflict, one FieldManagerConflict cause per field."""
        causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {self._who(ident)}",
                   "field": path_string(p)} for ident, p in self.items]
        return st.status(409, "Conflict", self.message(), {"causes": causes})


def _prune(ti: TypeInfo, merged: Any, managers: dict[str, Managed], applier: str, last: Managed | None) -> Any:
    """Updater.prune (merge/update.go): remove what the applier applied last time and not this
    time, unless a manager (the applier's new configuration included) still owns it; fields
    nobody owned before stay (addBackOwnedItems, addBackDanglingItems)."""
    if last is None or not last.fields:
        return merged
    named = lambda s: ensure_named_fields_are_members(ti, s)  # noqa: E731
    last_set = named(last.fields)
    managed = named(frozenset().union(*(m.fields for m in managers.values())))
    merged_set = named(to_field_set(ti, merged))
    pruned = _or_empty(remove_items(ti, merged, last_set))
    pruned = _or_empty(remove_items(ti, merged, merged_set - (named(to_field_set(ti, pruned)) | managed)))
    dangling = (merged_set - named(to_field_set(ti, pruned))) & last_set
    return _or_empty(remove_items(ti, merged, dangling))


def _or_empty(value: Any) -> Any:
    return {} if value is MISSING else value


def apply(live: dict | None, applied: dict, manager: str, api_version: str, now: str, force: bool = False, *,
          subresource: str = "", type_info: TypeInfo | None = None) -> dict | Conflicts:
    """FieldManager.Apply: merge the applied configuration into the live object (an empty one
    when creating); the applier owns exactly the fields of its configuration (operation Apply);
    what it applied before and dropped now is removed unless someone else owns it.  A field the
    configuration changes that another manager owns is a conflict (`Conflicts`, nothing is
    written) unless `force`, which takes it from them; applying the value already there shares
    it.  An apply that changes nothing returns the live object, its applier's time unchanged."""
    ti = type_info or type_info_for(applied.get("kind", ""))
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise ApplyError("metadata.managedFields must be nil")
    if applied.get("apiVersion", "") != api_version:
        raise ApplyError("Incorrect version specified in apply patch. Specified patch version: "
                         f"{applied.get('apiVersion', '')}, expected: {api_version}")
    try:
        managers = decode_managed_fields(((live or {}).get("metadata") or {}).get("managedFields"))
    except ManagedFieldsError as e:
        raise ManagedFieldsError(f"failed to decode managed fields: {e}") from None
    base = _without_managed_fields(live) if live is not None else copy.deepcopy(ti.zero)
    ignored = _ignored(ti, subresource)
    ident = manager_identifier(manager, "Apply", api_version, subresource)
    try:
        config_set = recursive_difference(to_field_set(ti, applied, strict=True), ignored)
        merged = merge(ti, base, applied)
    except SchemaError as e:
        # structuredmerge.go: the configuration does not convert to its typed value.
        meta = applied.get("metadata") or {}
        who = "/".join(x for x in (meta.get("namespace"), meta.get("name")) if x)
        group, _, version = applied.get("apiVersion", "").rpartition("/")
        raise ApplyError(f"failed to create typed patch object ({who}; {group}/{version}, "
                         f"Kind={applied.get('kind', '')}): {e}", 500) from None
    last = managers.get(ident)
    managers[ident] = Managed(config_set, api_version, True, last.time if last else None)
    merged = _prune(ti, merged, managers, ident, last)

    added, modified, removed = compare(ti, base, merged)
    changed = recursive_difference(added | modified, ignored)
    removed = recursive_difference(removed, ignored)
    conflicts = {other: m.fields & changed for other, m in managers.items()
                 if other != ident and m.fields & changed}
    if conflicts and not force:
        return Conflicts(conflicts)
    for other in list(managers):
        if other == ident:
            continue
        managers[other].fields = managers[other].fields - conflicts.get(other, EMPTY) - removed
        if not managers[other].fields:
            del managers[other]
    managers[ident].fields -= STRIPPED
    if not managers[ident].fields:
        del managers[ident]
    if equal(base, merged):
        return _set_managed_fields(base, managers)
    if ident in managers:
        managers[ident].time = now
    # The Go object serializes apiVersion and kind first, whatever order the merge left.
    merged = {**{k: merged[k] for k in ("apiVersion", "kind") if k in merged}, **merged}
    return _set_managed_fields(merged, managers)
