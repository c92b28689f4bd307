"""The Priority admission plugin (plugin/pkg/admission/priority/admission.go).

Mutating, on pods: a new pod gets spec.priority (and spec.preemptionPolicy) from the
PriorityClass its spec.priorityClassName names, or from the globalDefault class (whose name it
then takes), or 0 and PreemptLowerPriority when there is none.  A pod that names a class that
does not exist, or carries a priority / preemptionPolicy of its own that differs from the
class's, is refused with 403 Forbidden.  On update the stored priority is kept when the new
object omits it (pod validation forbids changing it).

Validating, on PriorityClasses: only one class may be globalDefault.
"""
from __future__ import annotations

from sim.api.scheduling import DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS, GROUP, PREEMPT_LOWER_PRIORITY
from sim.apiserver.admission import CREATE, UPDATE, DELETE, Attributes, Lister, forbidden

PLUGIN_NAME = "Priority"


class Priority:
    name = PLUGIN_NAME

    def __init__(self, lister_for):
        self.lister: Lister = lister_for(f"priorityclasses.{GROUP}")

    @staticmethod
    def handles(operation: str) -> bool:
        return operation in (CREATE, UPDATE, DELETE)

    # -- Admit ---------------------------------------------------------------------------
    def admit(self, a: Attributes) -> None:
        # Subresources (pods/status, pods/binding) are not this plugin's business.
        if a.subresource or a.group != "" or a.resource != "pods":
            return
        if a.operation == CREATE:
            self._admit_new_pod(a)
        elif a.operation == UPDATE:
            self._keep_priority(a)

    def _admit_new_pod(self, a: Attributes) -> None:
        spec = a.obj.setdefault("spec", {})
        class_name = spec.get("priorityClassName") or ""
        if not class_name:
            class_name, priority, policy = self.default_priority()
            if class_name:
                spec["priorityClassName"] = class_name
        else:
            pc = self.lister.get(class_name)
            if pc is None:
                raise forbidden(a, f"no PriorityClass with name {class_name} was found")
            priority, policy = pc.get("value", 0), pc.get("preemptionPolicy")
        if spec.get("priority") is not None and spec["priority"] != priority:
            raise forbidden(a, f"the integer value of priority ({spec['priority']}) must not be provided in pod "
                               f"spec; priority admission controller computed {priority} from the given "
                               f"PriorityClass name")
        spec["priority"] = priority
        if policy is not None:
            if spec.get("preemptionPolicy") is not None and spec["preemptionPolicy"] != policy:
                raise forbidden(a, f"the string value of PreemptionPolicy ({spec['preemptionPolicy']}) must not be "
                                   f"provided in pod spec; priority admission controller computed {policy} from "
                                   f"the given PriorityClass name")
            spec["preemptionPolicy"] = policy

    @staticmethod
    def _keep_priority(a: Attributes) -> None:
        """This plugin set spec.priority on create; an update that omits it keeps it (any other
        change fails pod update validation)."""
        spec, old_spec = a.obj.setdefault("spec", {}), (a.old or {}).get("spec") or {}
        for field in ("priority", "preemptionPolicy"):
            if spec.get(field) is None and old_spec.get(field) is not None:
                spec[field] = old_spec[field]

    # -- Validate ------------------------------------------------------------------------
    def validate(self, a: Attributes) -> None:
        if a.subresource or a.group != GROUP or a.resource != "priorityclasses":
            return
        if a.operation not in (CREATE, UPDATE) or not a.obj.get("globalDefault"):
            return
        current = self.default_priority_class()
        if current is None:
            return
        # A second default, or marking another class default while one exists, is refused.
        if a.operation == CREATE or current["metadata"]["name"] != a.obj["metadata"]["name"]:
            raise forbidden(a, f"PriorityClass {current['metadata']['name']} is already marked as default. "
                               f"Only one default can exist")

    # -- the default class ----------------------------------------------------------------
    def default_priority_class(self) -> dict | None:
        """The globalDefault class; if a race made several, the one with the lowest value."""
        found = None
        for pc in self.lister.list():
            if pc.get("globalDefault") and (found is None or found.get("value", 0) > pc.get("value", 0)):
                found = pc
        return found

    def default_priority(self) -> tuple[str, int, str | None]:
        """(class name, priority, preemptionPolicy) for a pod that names no class."""
        pc = self.default_priority_class()
        if pc is not None:
            return pc["metadata"]["name"], pc.get("value", 0), pc.get("preemptionPolicy")
        return "", DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS, PREEMPT_LOWER_PRIORITY
