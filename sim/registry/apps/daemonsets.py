"""DaemonSets (pkg/registry/apps/daemonset, pkg/apis/apps/validation, k8s.io/api/apps/v1):
apps/v1, namespaced, short name "ds", in the `all` category, generation tracked, a status
subresource the DaemonSet controller (sim/controllers/daemonset.py) writes.

Defaults (SetDefaults_DaemonSet): updateStrategy RollingUpdate with maxUnavailable 1 and
maxSurge 0, revisionHistoryLimit 10, and the pod template's spec defaulted as a pod's is.

The template generation: the internal DaemonSetSpec.TemplateGeneration, 1 on create and one more
each time an update changes the template (no client may set it), is served in apps/v1 as the
annotation `deprecated.daemonset.template.generation`; the controller labels the pods it makes
with it (`pod-template-generation`), beside the revision's hash (`controller-revision-hash`).
"""
from __future__ import annotations

from typing import Any

from sim.api import validation as v
from sim.api.gotypes import INT32, INT64, INT_OR_STRING, STRING, TIME, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, POD_TEMPLATE_SPEC, TYPE_META
from sim.api.selectors import SelectorError, labels_match, selector_from_label_selector
from sim.api.validation import GoSyntax, invalid, not_supported, required
from sim.registry.apps.deployments import default_pod_template, int_or_percent_value
from sim.registry.policy.poddisruptionbudgets import _go_int_or_string, validate_positive_int_or_percent
from sim.registry.printers import AGE, NAME, Printer, col, selector_string, since
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy

GROUP = "apps"

# k8s.io/api/apps/v1 constants
DEPRECATED_TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"  # DeprecatedTemplateGeneration
DAEMONSET_TEMPLATE_GENERATION_KEY = "pod-template-generation"                # DaemonSetTemplateGenerationKey
DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY = "controller-revision-hash"              # DefaultDaemonSetUniqueLabelKey
ROLLING_UPDATE, ON_DELETE = "RollingUpdate", "OnDelete"
UPDATE_STRATEGY_TYPES = (ROLLING_UPDATE, ON_DELETE)
DEFAULT_REVISION_HISTORY_LIMIT = 10

# k8s.io/api/apps/v1/types.go: DaemonSet
DAEMON_SET = struct(
    "v1.DaemonSet", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.DaemonSetSpec", selector=LABEL_SELECTOR, template=POD_TEMPLATE_SPEC,
                updateStrategy=struct("v1.DaemonSetUpdateStrategy", type=enum("v1.DaemonSetUpdateStrategyType"),
                                      rollingUpdate=struct("v1.RollingUpdateDaemonSet", maxUnavailable=INT_OR_STRING,
                                                           maxSurge=INT_OR_STRING)),
                minReadySeconds=INT32, revisionHistoryLimit=INT32),
    status=struct("v1.DaemonSetStatus", currentNumberScheduled=INT32, numberMisscheduled=INT32,
                  desiredNumberScheduled=INT32, numberReady=INT32, observedGeneration=INT64,
                  updatedNumberScheduled=INT32, numberAvailable=INT32, numberUnavailable=INT32,
                  collisionCount=INT32,
                  conditions=Slice(struct("v1.DaemonSetCondition", type=enum("v1.DaemonSetConditionType"),
                                          status=enum("v1.ConditionStatus"), lastTransitionTime=TIME,
                                          reason=STRING, message=STRING))))


# -- defaults (pkg/apis/apps/v1/defaults.go SetDefaults_DaemonSet) -------------------------------
def default_daemonset(ds: dict) -> dict:
    ds = deep_copy(ds)
    ds["apiVersion"], ds["kind"] = f"{GROUP}/v1", "DaemonSet"
    spec = ds.get("spec")
    if not isinstance(spec, dict):
        return ds  # validation says what is wrong
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        if not strategy.get("type"):
            strategy["type"] = ROLLING_UPDATE
        if strategy["type"] == ROLLING_UPDATE:
            ru = strategy.get("rollingUpdate")
            if not isinstance(ru, dict):
                ru = strategy["rollingUpdate"] = {}
            if ru.get("maxUnavailable") is None:
                ru["maxUnavailable"] = 1
            if ru.get("maxSurge") is None:
                ru["maxSurge"] = 0
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = DEFAULT_REVISION_HISTORY_LIMIT
    if isinstance(spec.get("template"), dict):
        spec["template"] = default_pod_template(spec["template"])
    return ds


# -- the template generation (internal Spec.TemplateGeneration <-> the v1 annotation) -----------
def template_generation(ds: dict) -> int | None:
    """util.GetTemplateGeneration: the annotation as an int64, or None (absent or unparsable)."""
    value = ((ds.get("metadata") or {}).get("annotations") or {}).get(DEPRECATED_TEMPLATE_GENERATION)
    if value is None:
        return None
    try:
        return int(value, 10) if value.strip() == value and value.lstrip("+-").isdigit() else None
    except (ValueError, AttributeError):
        return None


def _set_template_generation(ds: dict, generation: int) -> None:
    ds["metadata"].setdefault("annotations", {})[DEPRECATED_TEMPLATE_GENERATION] = str(generation)


# -- validation (pkg/apis/apps/validation/validation.go) -----------------------------------------
def validate_rolling_update(ru: dict, field: str) -> list:
    """ValidateRollingUpdateDaemonSet: both positive ints or percentages of at most 100%, and
    exactly one of them non-zero."""
    errs = []
    max_unavailable, max_surge = ru.get("maxUnavailable"), ru.get("maxSurge")
    for name, value in (("maxUnavailable", max_unavailable), ("maxSurge", max_surge)):
        if value is not None:
            errs += validate_positive_int_or_percent(value, f"{field}.{name}")
    has_unavailable = int_or_percent_value(max_unavailable) != 0
    has_surge = int_or_percent_value(max_surge) != 0
    if has_unavailable and has_surge:
        errs.append(invalid(f"{field}.maxSurge", _go_int_or_string(max_surge),
                            "may not be set when maxUnavailable is non-zero"))
    elif not has_unavailable and not has_surge:
        errs.append(required(f"{field}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return errs


def validate_update_strategy(strategy: Any, field: str) -> list:
    """ValidateDaemonSetUpdateStrategy."""
    strategy = strategy if isinstance(strategy, dict) else {}
    kind = strategy.get("type") or ""
    if kind == ON_DELETE:
        return []
    if kind == ROLLING_UPDATE:
        ru = strategy.get("rollingUpdate")
        if not isinstance(ru, dict):
            return [required(f"{field}.rollingUpdate")]
        return validate_rolling_update(ru, f"{field}.rollingUpdate")
    ru = strategy.get("rollingUpdate")
    go = "apps.DaemonSetUpdateStrategy{Type:" + f'"{kind}", RollingUpdate:' + \
        ("(*apps.RollingUpdateDaemonSet)(nil)" if ru is None else "(*apps.RollingUpdateDaemonSet)(0xc000000000)") + "}"
    return [not_supported(field, GoSyntax(go), UPDATE_STRATEGY_TYPES)]


def _non_negative(value: Any, field: str) -> list:
    return [invalid(field, value, v.NON_NEGATIVE_MSG)] if isinstance(value, int) and value < 0 else []


def validate_spec(spec: dict, opts: v.PodValidationOptions, field: str = "spec") -> list:
    """ValidateDaemonSetSpec."""
    errs = []
    sel = spec.get("selector")
    errs += v.validate_label_selector(sel, f"{field}.selector", opts.allow_invalid_label_value_in_selector)
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    tmd = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    tlabels = tmd.get("labels") or {}
    try:
        reqs = selector_from_label_selector(sel) if isinstance(sel, dict) else None
        # LabelSelectorAsSelector: a nil selector selects nothing, an empty one everything.
        if (reqs is None and sel is None) or (reqs is not None and not labels_match(reqs, tlabels)):
            errs.append(invalid(f"{field}.template.metadata.labels", tlabels,
                                "`selector` does not match template `labels`"))
    except SelectorError:
        pass  # ValidateLabelSelector reported it
    if isinstance(sel, dict) and not (sel.get("matchLabels") or sel.get("matchExpressions")):
        errs.append(invalid(f"{field}.selector", GoSyntax(
            "&v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"),
            "empty selector is invalid for daemonset"))
    # ValidatePodTemplateSpec: the template's labels and annotations, then its pod spec.
    errs += v.validate_labels(tlabels, f"{field}.template.metadata.labels")
    errs += v.validate_annotations(tmd.get("annotations"), f"{field}.template.metadata.annotations")
    tspec = template.get("spec")
    errs += v.validate_pod_spec(tspec, f"{field}.template.spec", opts)
    tspec = tspec if isinstance(tspec, dict) else {}
    rp = tspec.get("restartPolicy", "Always")
    if rp != "Always":
        errs.append(not_supported(f"{field}.template.spec.restartPolicy", rp, ("Always",)))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(invalid(f"{field}.template.spec.activeDeadlineSeconds", tspec["activeDeadlineSeconds"],
                            "activeDeadlineSeconds in DaemonSet is not Supported"))
    errs += _non_negative(spec.get("minReadySeconds", 0), f"{field}.minReadySeconds")
    errs += validate_update_strategy(spec.get("updateStrategy"), f"{field}.updateStrategy")
    if spec.get("revisionHistoryLimit") is not None:
        errs += _non_negative(spec["revisionHistoryLimit"], f"{field}.revisionHistoryLimit")
    return errs


def validate(ds: dict, opts: v.PodValidationOptions = v.PodValidationOptions()) -> list:
    """ValidateDaemonSet."""
    errs = v.validate_object_meta(ds, namespaced=True)
    spec = ds.get("spec")
    if not isinstance(spec, dict):
        return errs + [required("spec")]
    return errs + validate_spec(spec, opts)


def validate_update(new: dict, old: dict) -> list:
    """ValidateDaemonSetUpdate, and the strategy's apps/v1 rule that the selector is immutable."""
    old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
    old_template_spec = (old_spec.get("template") or {}).get("spec")
    errs = validate(new, v.pod_validation_options(old_template_spec))
    new_sel = (new.get("spec") or {}).get("selector") if isinstance(new.get("spec"), dict) else None
    errs += v.validate_immutable_field(new_sel, old_spec.get("selector"), "spec.selector")
    return errs


STATUS_COUNTS = ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady",
                 "updatedNumberScheduled", "numberAvailable", "numberUnavailable")


def validate_status_update(new: dict, old: dict) -> list:
    """ValidateDaemonSetStatusUpdate: no negative count; collisionCount never goes down."""
    status = new.get("status") or {}
    errs = v.validate_object_meta(new, namespaced=True)
    for name in STATUS_COUNTS + ("observedGeneration",):
        errs += _non_negative(status.get(name, 0), f"status.{name}")
    if status.get("collisionCount") is not None:
        errs += _non_negative(status["collisionCount"], "status.collisionCount")
    old_count = (old.get("status") or {}).get("collisionCount")
    if old_count is not None and (status.get("collisionCount") or 0) < old_count:
        errs.append(invalid("status.collisionCount", status.get("collisionCount"), "cannot be decremented"))
    return errs


class DaemonSetStrategy(Strategy):
    default_copies = True  # default_daemonset deep-copies first
    tracks_generation = True

    def default(self, obj, ctx):
        return default_daemonset(obj)

    def initial_status(self, obj):
        # DaemonSetStatus{}: the first four counts have no omitempty.
        return {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}

    def prepare_for_create(self, res, obj, ctx):
        """PrepareForCreate: an empty status, generation 1, a template generation of at least 1."""
        super().prepare_for_create(res, obj, ctx)
        generation = template_generation(obj)
        _set_template_generation(obj, generation if generation is not None and generation >= 1 else 1)

    def prepare_for_update(self, res, new, old, ctx):
        """PrepareForUpdate: no client sets the template generation; a changed template raises
        it by one (and the generation with it)."""
        new = super().prepare_for_update(res, new, old, ctx)
        generation = template_generation(old) or 0
        if (new.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
            generation += 1
        _set_template_generation(new, generation)
        return new

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)

    def validate_status_update(self, new, old):
        return validate_status_update(new, old)


# -- printer (pkg/printers/internalversion/printers.go printDaemonSet) ---------------------------
DAEMONSET_COLUMNS = [
    NAME,
    col("Desired", "integer", description="The total number of nodes that should be running the daemon pod "
                                          "(including nodes correctly running the daemon pod). More info: "
                                          "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"),
    col("Current", "integer", description="The number of nodes that are running at least 1 daemon pod and are "
                                          "supposed to run the daemon pod. More info: "
                                          "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"),
    col("Ready", "integer", description="numberReady is the number of nodes that should be running the daemon pod "
                                        "and have one or more of the daemon pod running with a Ready Condition."),
    col("Up-to-date", "integer", description="The total number of nodes that are running updated daemon pod"),
    col("Available", "integer", description="The number of nodes that should be running the daemon pod and have one "
                                            "or more of the daemon pod running and available (ready for at least "
                                            "spec.minReadySeconds)"),
    col("Node Selector", description="NodeSelector is a selector which must be true for the pod to fit on a node. "
                                     "Selector which must match a node's labels for the pod to be scheduled on that "
                                     "node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
    AGE,
    col("Containers", priority=1, description="Names of each container in the template."),
    col("Images", priority=1, description="Images referenced by each container in the template."),
    col("Selector", priority=1, description="A label query over pods that are managed by the daemon set. Must match "
                                            "in order to be controlled. It must match the pod template's labels. More "
                                            "info: https://kubernetes.io/docs/concepts/overview/working-with-objects/"
                                            "labels/#label-selectors"),
]


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: "k=v,..." sorted by key, "<none>" for none."""
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels)) if labels else "<none>"


def daemonset_row(ds: dict, now: float) -> list[Any]:
    md, spec, st = ds.get("metadata", {}), ds.get("spec") or {}, ds.get("status") or {}
    tspec = (spec.get("template") or {}).get("spec") or {}
    containers = tspec.get("containers") or []
    return [md.get("name", ""), int(st.get("desiredNumberScheduled") or 0), int(st.get("currentNumberScheduled") or 0),
            int(st.get("numberReady") or 0), int(st.get("updatedNumberScheduled") or 0),
            int(st.get("numberAvailable") or 0), format_labels(tspec.get("nodeSelector")),
            since(md.get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            selector_string(spec.get("selector"))]


RESOURCE = Resource("daemonsets", GROUP, "v1", "DaemonSet", True, "/registry/daemonsets/", ("ds",), "daemonset",
                    ("status",), DaemonSetStrategy(), DAEMON_SET, categories=("all",),
                    selectable_fields=COMMON_FIELDS, printer=Printer(DAEMONSET_COLUMNS, daemonset_row))
