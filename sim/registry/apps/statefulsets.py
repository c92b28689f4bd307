"""StatefulSets (pkg/registry/apps/statefulset, pkg/apis/apps/validation ValidateStatefulSet,
pkg/apis/apps/v1/defaults.go SetDefaults_StatefulSet): apps/v1, namespaced, short name "sts",
category "all", generation tracked, status and scale subresources, background garbage
collection of its pods by default.  The StatefulSet controller (sim/controllers/statefulset.py)
makes its pods `<name>-<ordinal>` and one PersistentVolumeClaim per pod and claim template.

Defaults (v1.36, MaxUnavailableStatefulSet beta and on): podManagementPolicy OrderedReady;
updateStrategy RollingUpdate with partition 0 and maxUnavailable 1; revisionHistoryLimit 10;
persistentVolumeClaimRetentionPolicy Retain / Retain; replicas 1; each claim template defaulted
as a PersistentVolumeClaim is (volumeMode Filesystem, status phase Pending).

Validation mirrors ValidateStatefulSetSpec, which - unlike a ReplicaSet's - does NOT validate
the template's pod spec (upstream's TODO: its volumes name claim templates the spec does not
hold); a bad spec shows only when the controller's pod create fails (FailedCreate events).
After creation only replicas, ordinals, template, updateStrategy, revisionHistoryLimit,
persistentVolumeClaimRetentionPolicy and minReadySeconds may change.
"""
from __future__ import annotations

from typing import Any

from sim.api import validation as v
from sim.api.gotypes import INT32, INT64, INT_OR_STRING, STRING, TIME, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, POD_TEMPLATE_SPEC, TYPE_META
from sim.api.selectors import SelectorError, format_label_selector, labels_match, selector_from_label_selector
from sim.api.validation import GoSyntax, forbidden, invalid, not_supported, required
from sim.registry.apps.deployments import default_pod_template   # the one PodTemplateSpec defaulter
from sim.registry.core.persistentvolumeclaims import PERSISTENT_VOLUME_CLAIM
from sim.registry.core.persistentvolumeclaims import PersistentVolumeClaimStrategy
from sim.registry.policy.poddisruptionbudgets import scaled_value, validate_positive_int_or_percent
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import COMMON_FIELDS, Resource, ScaleSubresource
from sim.registry.strategy import Strategy

GROUP = "apps"

# apps/v1 constants (k8s.io/api/apps/v1/types.go)
ORDERED_READY, PARALLEL = "OrderedReady", "Parallel"
ROLLING_UPDATE, ON_DELETE = "RollingUpdate", "OnDelete"
RETAIN, DELETE = "Retain", "Delete"
RETENTION_POLICIES = (RETAIN, DELETE)   # the order ValidatePersistentVolumeClaimRetentionPolicyType lists them

# k8s.io/api/apps/v1/types.go
STATEFUL_SET = struct(
    "v1.StatefulSet", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.StatefulSetSpec", replicas=INT32, selector=LABEL_SELECTOR, template=POD_TEMPLATE_SPEC,
                volumeClaimTemplates=Slice(PERSISTENT_VOLUME_CLAIM), serviceName=STRING,
                podManagementPolicy=enum("v1.PodManagementPolicyType"),
                updateStrategy=struct("v1.StatefulSetUpdateStrategy", type=enum("v1.StatefulSetUpdateStrategyType"),
                                      rollingUpdate=struct("v1.RollingUpdateStatefulSetStrategy", partition=INT32,
                                                           maxUnavailable=INT_OR_STRING)),
                revisionHistoryLimit=INT32, minReadySeconds=INT32,
                persistentVolumeClaimRetentionPolicy=struct(
                    "v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
                    whenDeleted=enum("v1.PersistentVolumeClaimRetentionPolicyType"),
                    whenScaled=enum("v1.PersistentVolumeClaimRetentionPolicyType")),
                ordinals=struct("v1.StatefulSetOrdinals", start=INT32)),
    status=struct("v1.StatefulSetStatus", observedGeneration=INT64, replicas=INT32, readyReplicas=INT32,
                  currentReplicas=INT32, updatedReplicas=INT32, currentRevision=STRING, updateRevision=STRING,
                  collisionCount=INT32,
                  conditions=Slice(struct("v1.StatefulSetCondition", type=enum("v1.StatefulSetConditionType"),
                                          status=enum("v1.ConditionStatus"), lastTransitionTime=TIME,
                                          reason=STRING, message=STRING)),
                  availableReplicas=INT32))


# -- defaulting (SetObjectDefaults_StatefulSet) --------------------------------------------------
_PVC_STRATEGY = PersistentVolumeClaimStrategy()


def default_statefulset(sts: dict) -> dict:
    """SetDefaults_StatefulSet, and the PodTemplateSpec's and each claim template's defaults."""
    sts = deep_copy(sts)
    sts["apiVersion"], sts["kind"] = f"{GROUP}/v1", "StatefulSet"
    spec = sts.setdefault("spec", {})
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = ORDERED_READY
    strategy = spec.get("updateStrategy")
    if not isinstance(strategy, dict):
        strategy = spec["updateStrategy"] = {}
    if not strategy.get("type"):
        strategy["type"] = ROLLING_UPDATE
        if strategy.get("rollingUpdate") is None:
            strategy["rollingUpdate"] = {}   # takes the defaults below
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == ROLLING_UPDATE and isinstance(rolling, dict):
        if rolling.get("partition") is None:
            rolling["partition"] = 0
        if rolling.get("maxUnavailable") is None:   # MaxUnavailableStatefulSet (beta, on by default)
            rolling["maxUnavailable"] = 1
    policy = spec.get("persistentVolumeClaimRetentionPolicy")
    if not isinstance(policy, dict):
        policy = spec["persistentVolumeClaimRetentionPolicy"] = {}
    if not policy.get("whenDeleted"):
        policy["whenDeleted"] = RETAIN
    if not policy.get("whenScaled"):
        policy["whenScaled"] = RETAIN
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if isinstance(spec.get("template"), dict) or "template" not in spec:
        spec["template"] = default_pod_template(spec.get("template") or {})
    templates = spec.get("volumeClaimTemplates")
    if isinstance(templates, list):
        spec["volumeClaimTemplates"] = [_PVC_STRATEGY.default(t, None) if isinstance(t, dict) else t
                                        for t in templates]
    return sts


# -- validation (pkg/apis/apps/validation) ------------------------------------------------------
UPDATE_FORBIDDEN_MSG = ("updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                        "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
                        "'minReadySeconds' are forbidden")
# The spec fields ValidateStatefulSetUpdate lets change.
MUTABLE_SPEC_FIELDS = ("replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                       "persistentVolumeClaimRetentionPolicy", "minReadySeconds")


def _non_negative(value: Any, field: str) -> list:
    """ValidateNonnegativeField."""
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid(field, value, v.NON_NEGATIVE_MSG)]
    return []


def _go_rolling_update(rolling: dict) -> GoSyntax:
    return GoSyntax(f"&apps.RollingUpdateStatefulSetStrategy{{Partition:{rolling.get('partition') or 0}, "
                    f"MaxUnavailable:(*intstr.IntOrString)({'0xc000000000' if rolling.get('maxUnavailable') is not None else 'nil'})}}")


def validate_rolling_update(rolling: dict, field: str) -> list:
    """validateRollingUpdateStatefulSet: partition >= 0; maxUnavailable a positive int or a
    percentage, not 0, at most 100%."""
    errs = _non_negative(rolling.get("partition", 0), f"{field}.partition")
    mu = rolling.get("maxUnavailable")
    if mu is not None:
        errs += validate_positive_int_or_percent(mu, f"{field}.maxUnavailable")
        try:
            zero = scaled_value(mu, 100, False) == 0
        except Exception:  # noqa: BLE001 - already reported as not an int or percentage
            zero = False
        if zero:
            errs.append(invalid(f"{field}.maxUnavailable", mu, "cannot be 0"))
    return errs


def validate_spec(spec: dict, field: str = "spec") -> list:
    """ValidateStatefulSetSpec."""
    errs = []
    pmp = spec.get("podManagementPolicy") or ""
    if pmp == "":
        errs.append(required(f"{field}.podManagementPolicy"))
    elif pmp not in (ORDERED_READY, PARALLEL):
        errs.append(invalid(f"{field}.podManagementPolicy", pmp, f"must be '{ORDERED_READY}' or '{PARALLEL}'"))
    strategy = spec.get("updateStrategy") if isinstance(spec.get("updateStrategy"), dict) else {}
    stype = strategy.get("type") or ""
    rolling = strategy.get("rollingUpdate")
    if stype == "":
        errs.append(required(f"{field}.updateStrategy"))
    elif stype == ON_DELETE:
        if rolling is not None:
            errs.append(invalid(f"{field}.updateStrategy.rollingUpdate", _go_rolling_update(rolling),
                                f"only allowed for updateStrategy '{ROLLING_UPDATE}'"))
    elif stype == ROLLING_UPDATE:
        if isinstance(rolling, dict):
            errs += validate_rolling_update(rolling, f"{field}.updateStrategy.rollingUpdate")
    else:
        errs.append(invalid(f"{field}.updateStrategy", GoSyntax(f'apps.StatefulSetUpdateStrategy{{Type:"{stype}", '
                                                                 f'RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}}'),
                            f"must be '{ROLLING_UPDATE}' or '{ON_DELETE}'"))
    policy = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(policy, dict):
        for name in ("whenDeleted", "whenScaled"):
            if policy.get(name) not in RETENTION_POLICIES:
                errs.append(not_supported(f"{field}.persistentVolumeClaimRetentionPolicy.{name}",
                                          policy.get(name) or "", RETENTION_POLICIES))
    errs += _non_negative(spec.get("replicas", 0), f"{field}.replicas")
    errs += _non_negative(spec.get("minReadySeconds", 0), f"{field}.minReadySeconds")
    if isinstance(spec.get("ordinals"), dict):
        errs += _non_negative(spec["ordinals"].get("start", 0), f"{field}.ordinals.start")
    sel = spec.get("selector")
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    tmeta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    if sel is None:
        errs.append(required(f"{field}.selector"))
        reqs = []
    else:
        errs += v.validate_label_selector(sel, f"{field}.selector")
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            errs.append(invalid(f"{field}.selector", GoSyntax("&v1.LabelSelector{MatchLabels:map[string]string(nil), "
                                                              "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"),
                                "empty selector is invalid for statefulset"))
        try:
            reqs = selector_from_label_selector(sel) or []
        except SelectorError:
            reqs = None
    if reqs is None:
        errs.append(invalid(f"{field}.selector", GoSyntax("&v1.LabelSelector{...}"), ""))
    else:
        # ValidatePodTemplateSpecForStatefulSet: labels and annotations only, not the pod spec.
        tlabels = tmeta.get("labels") or {}
        if reqs and not labels_match(reqs, tlabels):
            errs.append(invalid(f"{field}.template.metadata.labels", tlabels, "`selector` does not match template `labels`"))
        errs += v.validate_labels(tmeta.get("labels"), f"{field}.template.labels")
        errs += v.validate_annotations(tmeta.get("annotations"), f"{field}.template.annotations")
    tspec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    rp = tspec.get("restartPolicy") or ""
    if rp != "Always":
        errs.append(not_supported(f"{field}.template.spec.restartPolicy", rp, ("Always",)))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden(f"{field}.template.spec.activeDeadlineSeconds",
                              "activeDeadlineSeconds in StatefulSet is not Supported"))
    return errs


def validate(sts: dict) -> list:
    """ValidateStatefulSet: the name a DNS label (ValidateStatefulSetName: its pods' hostnames)."""
    errs = v.validate_object_meta(sts, namespaced=True, name_is_label=True)
    spec = sts.get("spec")
    if not isinstance(spec, dict):
        return errs + [required("spec")]
    return errs + validate_spec(spec)


def validate_update(new: dict, old: dict) -> list:
    """ValidateStatefulSetUpdate: the name is not validated again (older ones were subdomains);
    the spec beyond MUTABLE_SPEC_FIELDS may not change."""
    errs = v.validate_object_meta(new, namespaced=True)
    errs += validate_spec(new.get("spec") or {})
    ns, os_ = dict(new.get("spec") or {}), dict(old.get("spec") or {})
    for name in MUTABLE_SPEC_FIELDS:
        ns.pop(name, None)
        os_.pop(name, None)
    if ns != os_:
        errs.append(forbidden("spec", UPDATE_FORBIDDEN_MSG))
    return errs


def validate_status(status: dict, field: str = "status") -> list:
    """ValidateStatefulSetStatus."""
    errs = []
    for name in ("replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas",
                 "observedGeneration", "collisionCount"):
        errs += _non_negative(status.get(name, 0), f"{field}.{name}")
    replicas = status.get("replicas") or 0
    for name in ("readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"):
        if (status.get(name) or 0) > replicas:
            errs.append(invalid(f"{field}.{name}", status.get(name), "cannot be greater than status.replicas"))
    if (status.get("availableReplicas") or 0) > (status.get("readyReplicas") or 0):
        errs.append(invalid(f"{field}.availableReplicas", status.get("availableReplicas"),
                            "cannot be greater than status.readyReplicas"))
    return errs


def validate_status_update(new: dict, old: dict) -> list:
    """ValidateStatefulSetStatusUpdate: the collision count never goes down."""
    errs = validate_status(new.get("status") or {}) + v.validate_object_meta(new, namespaced=True)
    new_cc, old_cc = (new.get("status") or {}).get("collisionCount"), (old.get("status") or {}).get("collisionCount")
    if old_cc is not None and (new_cc is None or new_cc < old_cc):
        errs.append(invalid("status.collisionCount", new_cc or 0, "cannot be decremented"))
    return errs


class StatefulSetStrategy(Strategy):
    default_copies = True   # default_statefulset deep-copies first
    tracks_generation = True

    def default(self, obj, ctx):
        return default_statefulset(obj)

    def initial_status(self, obj):
        return {"replicas": 0, "availableReplicas": 0}   # StatefulSetStatus{}: no omitempty on these two

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)

    def validate_status_update(self, new, old):
        return validate_status_update(new, old)


# -- printer (printers.go printStatefulSet) ------------------------------------------------------
STATEFULSET_COLUMNS = [
    NAME,
    col("Ready", description="Number of the pod with ready state"),
    AGE,
    col("Containers", priority=1, description="Names of each container in the template."),
    col("Images", priority=1, description="Images referenced by each container in the template."),
]


def statefulset_row(sts: dict, now: float) -> list[Any]:
    md, spec, st = sts.get("metadata", {}), sts.get("spec") or {}, sts.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    desired = spec.get("replicas") if spec.get("replicas") is not None else 1
    return [md.get("name", ""), f"{int(st.get('readyReplicas') or 0)}/{int(desired)}",
            since(md.get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


RESOURCE = Resource("statefulsets", GROUP, "v1", "StatefulSet", True, "/registry/statefulsets/", ("sts",),
                    "statefulset", ("status", "scale"), StatefulSetStrategy(), STATEFUL_SET,
                    categories=("all",), selectable_fields=COMMON_FIELDS,
                    printer=Printer(STATEFULSET_COLUMNS, statefulset_row),
                    scale=ScaleSubresource(selector=lambda s: format_label_selector((s.get("spec") or {}).get("selector") or {})))
