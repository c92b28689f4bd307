"""Jobs (batch/v1): k8s.io/api/batch/v1/types.go, pkg/apis/batch/v1/defaults.go (SetDefaults_Job),
pkg/registry/batch/job/strategy.go (the generated selector, the status subresource) and
storage.go (the deletion warning), pkg/apis/batch/validation/validation.go, and the printer of
pkg/printers/internalversion/printers.go (NAME STATUS COMPLETIONS DURATION AGE).

The Job controller (sim/controllers/job.py) runs them; the TTL-after-finished controller
(sim/controllers/ttlafterfinished.py) deletes the finished ones.

Invariants the strategy keeps, as upstream's:
- without `manualSelector: true`, the selector is generated on create: it selects
  `batch.kubernetes.io/controller-uid=<uid>`, and the template carries that label, the
  `batch.kubernetes.io/job-name` label and the legacy `controller-uid` / `job-name` ones;
- the Job's own labels, when it has none, are the template's (SetDefaults_Job shares the map,
  so the generated labels show on the Job too, as `kubectl get job -o yaml` shows them);
- `spec.selector`, `spec.completions` (but for elastic Indexed Jobs), `spec.completionMode`,
  `spec.podFailurePolicy`, `spec.successPolicy` and `spec.backoffLimitPerIndex` never change;
  the template changes only on a suspended Job that never started, and only its scheduling
  directives (node affinity, nodeSelector, tolerations, schedulingGates, labels, annotations);
- a delete through batch/v1 without a propagation policy orphans the pods (its
  DefaultGarbageCollectionPolicy, for backwards compatibility) and says so in a warning.
"""
from __future__ import annotations

import re
from typing import Any

from sim.api import validation as v
from sim.api.defaults import TAINT_NOT_READY, TAINT_UNREACHABLE, default_pod_spec
from sim.api.gotypes import BOOL, INT32, INT64, STRING, TIME, Slice, enum, struct
from sim.api.meta import deep_copy, parse_timestamp
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, POD_TEMPLATE_SPEC, TYPE_META, UID
from sim.api.selectors import SelectorError, labels_match, selector_from_label_selector
from sim.api.validation import GoSyntax, invalid, not_supported, required
from sim.registry.printers import AGE, NAME, Printer, col, human_duration, selector_string, since
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy

GROUP = "batch"

# k8s.io/api/batch/v1 labels and annotations
LABEL_PREFIX = "batch.kubernetes.io/"
JOB_COMPLETION_INDEX_ANNOTATION = LABEL_PREFIX + "job-completion-index"
JOB_INDEX_LABEL = LABEL_PREFIX + "job-completion-index"       # PodIndexLabel (1.28+)
JOB_INDEX_FAILURE_COUNT_ANNOTATION = LABEL_PREFIX + "job-index-failure-count"
JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = LABEL_PREFIX + "job-index-ignored-failure-count"
JOB_TRACKING_FINALIZER = LABEL_PREFIX + "job-tracking"
CONTROLLER_UID_LABEL = LABEL_PREFIX + "controller-uid"
JOB_NAME_LABEL = LABEL_PREFIX + "job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"

NON_INDEXED, INDEXED = "NonIndexed", "Indexed"
COMPLETION_MODES = (INDEXED, NON_INDEXED)          # sets.List: sorted
TERMINATING_OR_FAILED, FAILED_ONLY = "TerminatingOrFailed", "Failed"
POD_REPLACEMENT_POLICIES = (FAILED_ONLY, TERMINATING_OR_FAILED)
ACTION_FAIL_JOB, ACTION_FAIL_INDEX, ACTION_IGNORE, ACTION_COUNT = "FailJob", "FailIndex", "Ignore", "Count"
POD_FAILURE_POLICY_ACTIONS = (ACTION_COUNT, ACTION_FAIL_INDEX, ACTION_FAIL_JOB, ACTION_IGNORE)
OP_IN, OP_NOT_IN = "In", "NotIn"

# JobConditionType
COND_SUSPENDED, COND_COMPLETE, COND_FAILED = "Suspended", "Complete", "Failed"
COND_FAILURE_TARGET, COND_SUCCESS_CRITERIA_MET = "FailureTarget", "SuccessCriteriaMet"

# validation.go limits
MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000
MAX_COMPLETIONS_FOR_BACKOFF_LIMIT_PER_INDEX = 100_000
MAX_POD_FAILURE_POLICY_RULES = 20
MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES = 255
MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS = 20
MAX_SUCCESS_POLICY_RULES = 20
MAX_INT32 = (1 << 31) - 1
COMPLETIONS_SOFT_LIMIT = 100_000                           # pkg/api/job/warnings.go
PARALLELISM_SOFT_LIMIT_FOR_UNLIMITED_COMPLETIONS = 10_000

DELETE_OPTION_WARNING = ("child pods are preserved by default when jobs are deleted; set propagationPolicy=Background "
                         "to remove them or set propagationPolicy=Orphan to suppress this warning")

# -- the Go type (k8s.io/api/batch/v1/types.go) ----------------------------------------------
POD_FAILURE_POLICY = struct(
    "v1.PodFailurePolicy", rules=Slice(struct(
        "v1.PodFailurePolicyRule", action=enum("v1.PodFailurePolicyAction"),
        onExitCodes=struct("v1.PodFailurePolicyOnExitCodesRequirement", containerName=STRING,
                           operator=enum("v1.PodFailurePolicyOnExitCodesOperator"), values=Slice(INT32)),
        onPodConditions=Slice(struct("v1.PodFailurePolicyOnPodConditionsPattern",
                                     type=enum("v1.PodConditionType"), status=enum("v1.ConditionStatus"))))))
SUCCESS_POLICY = struct("v1.SuccessPolicy", rules=Slice(struct("v1.SuccessPolicyRule", succeededIndexes=STRING,
                                                               succeededCount=INT32)))
JOB_SPEC = struct(
    "v1.JobSpec", parallelism=INT32, completions=INT32, activeDeadlineSeconds=INT64,
    podFailurePolicy=POD_FAILURE_POLICY, successPolicy=SUCCESS_POLICY, backoffLimit=INT32,
    backoffLimitPerIndex=INT32, maxFailedIndexes=INT32, selector=LABEL_SELECTOR, manualSelector=BOOL,
    template=POD_TEMPLATE_SPEC, ttlSecondsAfterFinished=INT32, completionMode=enum("v1.CompletionMode"),
    suspend=BOOL, podReplacementPolicy=enum("v1.PodReplacementPolicy"), managedBy=STRING)
JOB_STATUS = struct(
    "v1.JobStatus",
    conditions=Slice(struct("v1.JobCondition", type=enum("v1.JobConditionType"), status=enum("v1.ConditionStatus"),
                            lastProbeTime=TIME, lastTransitionTime=TIME, reason=STRING, message=STRING)),
    startTime=TIME, completionTime=TIME, active=INT32, succeeded=INT32, failed=INT32, terminating=INT32,
    completedIndexes=STRING, failedIndexes=STRING,
    uncountedTerminatedPods=struct("v1.UncountedTerminatedPods", succeeded=Slice(UID), failed=Slice(UID)),
    ready=INT32)
JOB = struct("v1.Job", **TYPE_META, metadata=OBJECT_META, spec=JOB_SPEC, status=JOB_STATUS)
# JobTemplateSpec, for CronJobs (sim/registry/batch/cronjobs.py)
JOB_TEMPLATE_SPEC = struct("v1.JobTemplateSpec", metadata=OBJECT_META, spec=JOB_SPEC)


# -- helpers every reader of a Job shares ----------------------------------------------------
def is_indexed(job: dict) -> bool:
    return ((job.get("spec") or {}).get("completionMode") or NON_INDEXED) == INDEXED


def job_condition(job: dict, ctype: str) -> dict | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype and c.get("status") == "True":
            return c
    return None


def is_finished(job: dict) -> bool:
    """IsJobFinished (pkg/controller/job/util): Complete or Failed is True."""
    return job_condition(job, COND_COMPLETE) is not None or job_condition(job, COND_FAILED) is not None


def finish_time(job: dict) -> float | None:
    """The lastTransitionTime of its Complete or Failed condition (ttlafterfinished's
    jobFinishTime)."""
    for ctype in (COND_COMPLETE, COND_FAILED):
        c = job_condition(job, ctype)
        if c is not None:
            return parse_timestamp(c.get("lastTransitionTime"))
    return None


def parse_indexes(text: str | None, completions: int | None = None) -> list[tuple[int, int]] | None:
    """An indexes string ("1,3-5,7") as sorted, inclusive (first, last) intervals; None when it
    does not parse.  Indexes at or above `completions` are dropped, as the controller's
    parseIndexesFromString does."""
    out: list[tuple[int, int]] = []
    if not text:
        return out
    for part in text.split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            return None
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if completions is not None:
            if lo >= completions:
                continue
            hi = min(hi, completions - 1)
        out.append((lo, hi))
    return out


def format_indexes(indexes) -> str:
    """A sorted set of indexes as the compressed interval string (succeededIndexes.String())."""
    parts, run = [], None
    for i in sorted(set(indexes)):
        if run and i == run[1] + 1:
            run[1] = i
        else:
            if run:
                parts.append(str(run[0]) if run[0] == run[1] else f"{run[0]}-{run[1]}")
            run = [i, i]
    if run:
        parts.append(str(run[0]) if run[0] == run[1] else f"{run[0]}-{run[1]}")
    return ",".join(parts)


def indexes_of(text: str | None, completions: int | None = None) -> set[int]:
    return {i for lo, hi in parse_indexes(text, completions) or [] for i in range(lo, hi + 1)}


# -- defaulting (pkg/apis/batch/v1/defaults.go) ----------------------------------------------
def default_pod_template(template: dict) -> dict:
    """A pod template's scheme defaults (SetDefaults_PodSpec and the containers'), without the
    not-ready / unreachable tolerations: those come from DefaultTolerationSeconds admission when
    a pod is created, never on a template."""
    template = deep_copy(template or {})
    template.setdefault("metadata", {})
    given = (template.get("spec") or {}).get("tolerations") or []
    tspec = default_pod_spec(template.get("spec") or {})
    tspec["tolerations"] = [t for t in tspec.get("tolerations") or []
                            if t.get("key") not in (TAINT_NOT_READY, TAINT_UNREACHABLE) or t in given]
    if not tspec["tolerations"]:
        del tspec["tolerations"]
    template["spec"] = tspec
    return template


def default_job_spec(spec: dict) -> dict:
    """SetDefaults_Job on a JobSpec (in place; also for a CronJob's jobTemplate)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    if spec.get("completionMode") is None:
        spec["completionMode"] = NON_INDEXED
    if spec.get("suspend") is None:
        spec["suspend"] = False
    for rule in ((spec.get("podFailurePolicy") or {}).get("rules") or []):
        for pattern in rule.get("onPodConditions") or []:
            if isinstance(pattern, dict) and not pattern.get("status"):
                pattern["status"] = "True"
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = FAILED_ONLY if spec.get("podFailurePolicy") is not None \
            else TERMINATING_OR_FAILED
    if spec.get("manualSelector") is None:
        spec["manualSelector"] = False
    spec["template"] = default_pod_template(spec.get("template") or {})
    return spec


def default_job(job: dict) -> dict:
    job = deep_copy(job)
    job["apiVersion"], job["kind"] = "batch/v1", "Job"
    if not isinstance(job.get("spec"), dict):
        job["spec"] = {}
    spec = default_job_spec(job["spec"])
    labels = (spec["template"].get("metadata") or {}).get("labels")
    md = job.setdefault("metadata", {})
    if labels and not md.get("labels"):
        md["labels"] = dict(labels)
    return job


def generate_selector(job: dict) -> None:
    """generateSelector (strategy.go): the template's job-name and controller-uid labels (both
    prefixed and legacy; a label the user set stays, and validation judges it) and a selector on
    the prefixed controller-uid."""
    md, spec = job["metadata"], job["spec"]
    tmd = spec["template"].setdefault("metadata", {})
    labels = tmd.get("labels") or {}
    tmd["labels"] = labels
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, md.get("name") or "")
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, md.get("uid") or "")
    selector = spec.get("selector") or {}
    spec["selector"] = selector
    match = selector.get("matchLabels") or {}
    selector["matchLabels"] = match
    match.setdefault(CONTROLLER_UID_LABEL, md.get("uid") or "")


# -- validation (pkg/apis/batch/validation/validation.go) -------------------------------------
def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _non_negative(spec: dict, name: str, path: str) -> list:
    value = spec.get(name)
    if value is not None and (not _is_int(value) or value < 0):
        return [invalid(f"{path}.{name}", value, v.NON_NEGATIVE_MSG)]
    return []


def _has_label(labels: dict, path: str, key: str, expected: str) -> list:
    """ValidateHasLabel."""
    actual = labels.get(key)
    if actual is None:
        return [required(f"{path}.labels[{key}]", f"must be '{expected}'")]
    if actual != expected:
        return [invalid(f"{path}.labels[{key}]", actual, f"must be '{expected}'")]
    return []


def _go_selector(selector: dict | None) -> GoSyntax:
    """%#v of a *metav1.LabelSelector, as field.Invalid prints it (a pointer: its address)."""
    return GoSyntax("(*v1.LabelSelector)(0xc000000000)" if selector is not None else "(*v1.LabelSelector)(nil)")


def validate_generated_selector(job: dict) -> list:
    """ValidateGeneratedSelector (with the batch.kubernetes.io labels, 1.27+)."""
    md, spec = job.get("metadata") or {}, job.get("spec") or {}
    if spec.get("manualSelector") or spec.get("selector") is None:
        return []
    errs = []
    uid, name = md.get("uid") or "", md.get("name") or ""
    if not uid:
        errs.append(required("metadata.uid"))
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    path = "spec.template.metadata"
    errs += _has_label(labels, path, LEGACY_CONTROLLER_UID_LABEL, uid)
    errs += _has_label(labels, path, LEGACY_JOB_NAME_LABEL, name)
    errs += _has_label(labels, path, CONTROLLER_UID_LABEL, uid)
    errs += _has_label(labels, path, JOB_NAME_LABEL, name)
    try:
        reqs = selector_from_label_selector(spec["selector"])
    except SelectorError:
        return errs
    if not labels_match(reqs or [], {CONTROLLER_UID_LABEL: uid, JOB_NAME_LABEL: name}):
        errs.append(invalid("spec.selector", _go_selector(spec["selector"]), "`selector` not auto-generated"))
    return errs


def _validate_pod_failure_policy(spec: dict, path: str) -> list:
    """validatePodFailurePolicy / validatePodFailurePolicyRule."""
    policy = spec.get("podFailurePolicy")
    if policy is None:
        return []
    errs = []
    rules = policy.get("rules") or []
    rules_path = f"{path}.podFailurePolicy.rules"
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        errs.append(v.too_many(rules_path, len(rules), MAX_POD_FAILURE_POLICY_RULES))
    container_names = {c.get("name") for c in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []}
    container_names |= {c.get("name") for c in ((spec.get("template") or {}).get("spec") or {}).get("initContainers") or []}
    for i, rule in enumerate(rules):
        rp = f"{rules_path}[{i}]"
        action = rule.get("action")
        if action == ACTION_FAIL_INDEX and spec.get("backoffLimitPerIndex") is None:
            errs.append(invalid(f"{rp}.action", action, "requires the backoffLimitPerIndex to be set"))
        elif action not in POD_FAILURE_POLICY_ACTIONS:
            errs.append(not_supported(f"{rp}.action", action or "", POD_FAILURE_POLICY_ACTIONS))
        on_codes, on_conds = rule.get("onExitCodes"), rule.get("onPodConditions")
        if on_codes is not None and on_conds:
            errs.append(invalid(rp, GoSyntax("field.OmitValueType{}"),
                                "specifying both OnExitCodes and OnPodConditions is not supported"))
        elif on_codes is None and not on_conds:
            errs.append(invalid(rp, GoSyntax("field.OmitValueType{}"),
                                "specifying one of OnExitCodes and OnPodConditions is required"))
        if on_codes is not None:
            cp = f"{rp}.onExitCodes"
            name = on_codes.get("containerName")
            if name is not None and name not in container_names:
                errs.append(invalid(f"{cp}.containerName", name,
                                    "must be one of the container or initContainer names in the pod template"))
            op = on_codes.get("operator")
            if op not in (OP_IN, OP_NOT_IN):
                errs.append(not_supported(f"{cp}.operator", op or "", (OP_IN, OP_NOT_IN)))
            values = on_codes.get("values") or []
            if not values:
                errs.append(invalid(f"{cp}.values", GoSyntax("[]int32{}"), "at least one value is required"))
            elif len(values) > MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES:
                errs.append(v.too_many(f"{cp}.values", len(values), MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES))
            prev = None
            for j, value in enumerate(values):
                if op == OP_IN and value == 0:
                    errs.append(invalid(f"{cp}.values[{j}]", value, "must not be 0 for the In operator"))
                if prev is not None and prev == value:
                    errs.append(v.duplicate(f"{cp}.values[{j}]", value))
                elif prev is not None and prev > value:
                    errs.append(invalid(f"{cp}.values[{j}]", value, "must be ordered"))
                prev = value
        for j, pattern in enumerate(on_conds or []):
            pp = f"{rp}.onPodConditions[{j}]"
            status = pattern.get("status")
            if status not in ("True", "False", "Unknown"):
                errs.append(not_supported(f"{pp}.status", status or "", ("False", "True", "Unknown")))
            errs += [invalid(f"{pp}.type", pattern.get("type"), msg)
                     for msg in v.qualified_name_errors(pattern.get("type") or "")]
        if on_conds and len(on_conds) > MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS:
            errs.append(v.too_many(f"{rp}.onPodConditions", len(on_conds),
                                   MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS))
    return errs


def _validate_success_policy(spec: dict, path: str) -> list:
    """validateSuccessPolicy / validateSuccessPolicyRule."""
    policy = spec.get("successPolicy")
    if policy is None:
        return []
    sp = f"{path}.successPolicy"
    if (spec.get("completionMode") or NON_INDEXED) != INDEXED:
        return [invalid(f"{path}.completionMode", spec.get("completionMode"), "requires indexed completion mode")]
    rules = policy.get("rules") or []
    errs = []
    if not rules:
        errs.append(required(f"{sp}.rules", "at least one rules must be specified when the successPolicy is specified"))
    if len(rules) > MAX_SUCCESS_POLICY_RULES:
        errs.append(v.too_many(f"{sp}.rules", len(rules), MAX_SUCCESS_POLICY_RULES))
    completions = spec.get("completions") or 0
    for i, rule in enumerate(rules):
        rp = f"{sp}.rules[{i}]"
        indexes, count = rule.get("succeededIndexes"), rule.get("succeededCount")
        if indexes is None and count is None:
            errs.append(required(rp, "at least one of succeededCount or succeededIndexes must be specified"))
        total = None
        if indexes is not None:
            parsed = parse_indexes(indexes)
            if parsed is None:
                errs.append(invalid(f"{rp}.succeededIndexes", indexes, "error parsing succeededIndexes"))
            else:
                prev_hi = -1
                for lo, hi in parsed:
                    if lo > hi or lo <= prev_hi:
                        errs.append(invalid(f"{rp}.succeededIndexes", indexes,
                                            "error parsing succeededIndexes: non-increasing order"))
                        break
                    if hi >= completions:
                        errs.append(invalid(f"{rp}.succeededIndexes", indexes,
                                            f"error parsing succeededIndexes: too large index: {hi}"))
                        break
                    prev_hi = hi
                total = sum(hi - lo + 1 for lo, hi in parsed)
        if count is not None:
            if not _is_int(count) or count < 0:
                errs.append(invalid(f"{rp}.succeededCount", count, v.NON_NEGATIVE_MSG))
            elif count > completions:
                errs.append(invalid(f"{rp}.succeededCount", count,
                                    f"must be less than or equal to {completions} (the number of specified completions)"))
            elif total is not None and count > total:
                errs.append(invalid(f"{rp}.succeededCount", count,
                                    f"must be less than or equal to {total} (the number of indexes in the specified succeededIndexes field)"))
    return errs


def validate_job_spec_fields(spec: dict, path: str, opts: v.PodValidationOptions = v.PodValidationOptions()) -> list:
    """validateJobSpec: what a Job and a CronJob's job template share."""
    errs = []
    for name in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        errs += _non_negative(spec, name, path)
    indexed = (spec.get("completionMode") or NON_INDEXED) == INDEXED
    if spec.get("backoffLimitPerIndex") is not None:
        errs += _non_negative(spec, "backoffLimitPerIndex", path)
        if not indexed:
            errs.append(invalid(f"{path}.backoffLimitPerIndex", spec["backoffLimitPerIndex"],
                                "requires indexed completion mode"))
    if spec.get("maxFailedIndexes") is not None:
        errs += _non_negative(spec, "maxFailedIndexes", path)
        if spec.get("backoffLimitPerIndex") is None:
            errs.append(required(f"{path}.backoffLimitPerIndex",
                                 "when maxFailedIndexes is specified"))
        elif _is_int(spec.get("completions")) and spec["maxFailedIndexes"] > spec["completions"]:
            errs.append(invalid(f"{path}.maxFailedIndexes", spec["maxFailedIndexes"],
                                "must be less than or equal to completions"))
    mode = spec.get("completionMode")
    if mode is not None and mode not in COMPLETION_MODES:
        errs.append(not_supported(f"{path}.completionMode", mode, COMPLETION_MODES))
    if indexed:
        if spec.get("completions") is None:
            errs.append(required(f"{path}.completions", f"when completion mode is {INDEXED}"))
        elif _is_int(spec["completions"]) and spec["completions"] > MAX_PARALLELISM_FOR_INDEXED_JOB and \
                spec.get("backoffLimitPerIndex") is not None:
            errs.append(invalid(f"{path}.completions", spec["completions"],
                                f"must be less than or equal to {MAX_COMPLETIONS_FOR_BACKOFF_LIMIT_PER_INDEX} "
                                "when backoffLimitPerIndex is specified"))
        if _is_int(spec.get("parallelism")) and spec["parallelism"] > MAX_PARALLELISM_FOR_INDEXED_JOB:
            errs.append(invalid(f"{path}.parallelism", spec["parallelism"],
                                f"must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} "
                                f"when completion mode is {INDEXED}"))
    prp = spec.get("podReplacementPolicy")
    if prp is not None:
        if prp not in POD_REPLACEMENT_POLICIES:
            errs.append(not_supported(f"{path}.podReplacementPolicy", prp, POD_REPLACEMENT_POLICIES))
        elif spec.get("podFailurePolicy") is not None and prp != FAILED_ONLY:
            errs.append(not_supported(f"{path}.podReplacementPolicy", prp, (FAILED_ONLY,)))
    errs += _validate_pod_failure_policy(spec, path)
    errs += _validate_success_policy(spec, path)
    template = spec.get("template") or {}
    tmd = template.get("metadata") or {}
    errs += v.validate_labels(tmd.get("labels"), f"{path}.template.labels")
    errs += v.validate_annotations(tmd.get("annotations"), f"{path}.template.annotations")
    errs += v.validate_pod_spec(template.get("spec"), f"{path}.template.spec", opts)
    rp_path = f"{path}.template.spec.restartPolicy"
    restart = (template.get("spec") or {}).get("restartPolicy") or ""
    # SetDefaults_PodSpec turns a missing restartPolicy into Always: both read as unset here.
    if restart in ("Always", ""):
        errs.append(required(rp_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errs.append(not_supported(rp_path, restart, ("OnFailure", "Never")))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        errs.append(invalid(rp_path, restart, 'only "Never" is supported when podFailurePolicy is specified'))
    return errs


def validate_job_spec(spec: dict, path: str = "spec", opts: v.PodValidationOptions = v.PodValidationOptions()) -> list:
    """ValidateJobSpec: the shared fields, then the selector, which must match the template."""
    errs = validate_job_spec_fields(spec, path, opts)
    selector = spec.get("selector")
    if selector is None:
        errs.append(required(f"{path}.selector"))
        return errs
    errs += v.validate_label_selector(selector, f"{path}.selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    try:
        reqs = selector_from_label_selector(selector)
    except SelectorError:
        return errs
    if not labels_match(reqs or [], labels):
        errs.append(invalid(f"{path}.template.metadata.labels", labels, "`selector` does not match template `labels`"))
    return errs


def validate_job(job: dict, opts: v.PodValidationOptions = v.PodValidationOptions()) -> list:
    """ValidateJob: the name as a ReplicationController's (a DNS subdomain)."""
    errs = v.validate_object_meta(job, namespaced=True)
    errs += validate_generated_selector(job)
    spec = job.get("spec")
    if not isinstance(spec, dict):
        return errs + [required("spec")]
    return errs + validate_job_spec(spec, "spec", opts)


_GO_TEMPLATE = GoSyntax("core.PodTemplateSpec{...}")   # upstream prints the whole struct (%#v)


def _immutable(new_spec: dict, old_spec: dict, name: str, go: GoSyntax | None = None) -> list:
    if new_spec.get(name) == old_spec.get(name):
        return []
    value = new_spec.get(name)
    return [invalid(f"spec.{name}", go if go is not None and value is not None else value, "field is immutable")]


def _scheduling_directives_only(new_t: dict, old_t: dict) -> bool:
    """validatePodTemplateUpdate with AllowMutableSchedulingDirectives: the old template with the
    new node affinity, nodeSelector, tolerations, schedulingGates, labels and annotations."""
    old_t = deep_copy(old_t)
    nspec, ospec = new_t.get("spec") or {}, old_t.setdefault("spec", {})
    naff, oaff = nspec.get("affinity"), ospec.get("affinity")
    if naff is None and oaff is not None:
        oaff.pop("nodeAffinity", None)
        if not oaff:
            ospec.pop("affinity")
    elif naff is not None and oaff is None:
        ospec["affinity"] = {"nodeAffinity": naff["nodeAffinity"]} if "nodeAffinity" in naff else {}
    elif naff is not None and oaff is not None:
        if "nodeAffinity" in naff:
            oaff["nodeAffinity"] = naff["nodeAffinity"]
        else:
            oaff.pop("nodeAffinity", None)
    for key in ("nodeSelector", "tolerations", "schedulingGates"):
        if key in nspec:
            ospec[key] = nspec[key]
        else:
            ospec.pop(key, None)
    omd, nmd = old_t.setdefault("metadata", {}), new_t.get("metadata") or {}
    for key in ("labels", "annotations"):
        if key in nmd:
            omd[key] = nmd[key]
        else:
            omd.pop(key, None)
    return old_t == new_t


def validate_job_update(new: dict, old: dict) -> list:
    """ValidateJob, then ValidateJobSpecUpdate with the strategy's validationOptionsForJob."""
    nspec, ospec = new.get("spec") or {}, old.get("spec") or {}
    opts = v.pod_validation_options((ospec.get("template") or {}).get("spec"))
    errs = validate_job(new, opts)
    # validateCompletions: an Indexed Job scales "elastically" when completions moves with
    # parallelism (both equal after the update).
    if nspec.get("completions") != ospec.get("completions"):
        elastic = is_indexed(old) and nspec.get("completions") is not None and ospec.get("completions") is not None
        if not elastic:
            errs += _immutable(nspec, ospec, "completions")
        elif nspec.get("completions") != nspec.get("parallelism"):
            errs.append(invalid("spec.completions", nspec.get("completions"),
                                f"must be equal to parallelism when updating an Indexed Job "
                                f"({nspec.get('parallelism')} != {nspec.get('completions')})"))
    errs += _immutable(nspec, ospec, "selector", _go_selector(nspec.get("selector")))
    if nspec.get("template") != ospec.get("template"):
        suspended_not_started = bool(ospec.get("suspend")) and not (old.get("status") or {}).get("startTime")
        if not (suspended_not_started and _scheduling_directives_only(nspec.get("template") or {},
                                                                         ospec.get("template") or {})):
            errs.append(invalid("spec.template", _GO_TEMPLATE, "field is immutable"))
    errs += _immutable(nspec, ospec, "completionMode")
    errs += _immutable(nspec, ospec, "podFailurePolicy", GoSyntax("(*batch.PodFailurePolicy)(0xc000000000)"))
    errs += _immutable(nspec, ospec, "backoffLimitPerIndex")
    errs += _immutable(nspec, ospec, "managedBy")
    errs += _immutable(nspec, ospec, "successPolicy", GoSyntax("(*batch.SuccessPolicy)(0xc000000000)"))
    return errs


def validate_job_status(status: dict) -> list:
    """ValidateJobStatus (the counts, and the indexes strings parse)."""
    errs = []
    for name in ("active", "succeeded", "failed", "ready", "terminating"):
        errs += _non_negative(status, name, "status")
    return errs


# -- the strategy (pkg/registry/batch/job/strategy.go) ----------------------------------------
class JobStrategy(Strategy):
    default_copies = True
    tracks_generation = True

    def default(self, obj, ctx):
        return default_job(obj)

    def prepare_for_create(self, res, obj, ctx):
        """PrepareForCreate: an empty status, generation 1, and the generated selector unless
        manualSelector; the Job takes the template's labels when it has none (SetDefaults_Job
        shares the map, so the Job shows the generated labels as a real one does)."""
        super().prepare_for_create(res, obj, ctx)
        spec = obj["spec"]
        if not spec.get("manualSelector"):
            generate_selector(obj)
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        if labels and not obj["metadata"].get("labels"):
            obj["metadata"]["labels"] = dict(labels)

    def validate(self, obj):
        return validate_job(obj)

    def validate_update(self, new, old):
        return validate_job_update(new, old)

    def validate_status_update(self, new, old):
        return validate_job_status(new.get("status") or {})

    def warnings_on_create(self, obj: dict) -> list[str]:
        """WarningsOnCreate: a name that is not a DNS label makes odd pod names and hostnames;
        a huge Indexed Job may not track its completed indexes (WarningsForJobSpec)."""
        warnings = []
        msgs = v.dns1123_label_errors(obj["metadata"].get("name") or "")
        if msgs:
            warnings.append("metadata.name: this is used in Pod names and hostnames, which can result in surprising "
                            f"behavior; a DNS label is recommended: [{' '.join(msgs)}]")
        spec = obj.get("spec") or {}
        if is_indexed(obj) and (spec.get("completions") or 0) > COMPLETIONS_SOFT_LIMIT \
                and (spec.get("parallelism") or 0) > PARALLELISM_SOFT_LIMIT_FOR_UNLIMITED_COMPLETIONS:
            warnings.append("spec: In Indexed Jobs with a number of completions higher than 10^5 and a parallelism "
                            "higher than 10^4, Kubernetes might not be able to track completedIndexes when a big "
                            "number of indexes fail")
        return warnings

    def delete_warnings(self, res, orphan_opt, policy) -> list[str]:
        """storage.go REST.Delete: batch/v1 orphans by default, and says so."""
        return [DELETE_OPTION_WARNING] if orphan_opt is None and policy is None else []


# -- printing (printers.go printJob) ---------------------------------------------------------
JOB_COLUMNS = [
    NAME,
    col("Status", description="Status of the job."),
    col("Completions", description="The number of pods which reached phase Succeeded. The value increases "
        "monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs."),
    col("Duration", description="Time required to complete the job."),
    AGE,
    col("Containers", priority=1, description="Names of each container in the template."),
    col("Images", priority=1, description="Images referenced by each container in the template."),
    col("Selector", priority=1, description="A label query over pods that should match the pod count. Normally, "
        "the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"),
]


def job_status_word(job: dict) -> str:
    """printJob's STATUS (1.28+)."""
    if job_condition(job, COND_COMPLETE):
        return "Complete"
    if job_condition(job, COND_FAILED):
        return "Failed"
    if job["metadata"].get("deletionTimestamp"):
        return "Terminating"
    if job_condition(job, COND_SUSPENDED):
        return "Suspended"
    if job_condition(job, COND_FAILURE_TARGET):
        return "FailureTarget"
    if job_condition(job, COND_SUCCESS_CRITERIA_MET):
        return "SuccessCriteriaMet"
    return "Running"


def job_completions(job: dict) -> str:
    spec, st = job.get("spec") or {}, job.get("status") or {}
    succeeded = int(st.get("succeeded") or 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = spec.get("parallelism") or 0
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def job_duration(job: dict, now: float) -> str:
    st = job.get("status") or {}
    start = parse_timestamp(st.get("startTime"))
    if start is None:
        return ""
    end = parse_timestamp(st.get("completionTime"))
    return human_duration((now if end is None else end) - start)


def job_row(job: dict, now: float) -> list[Any]:
    md, spec = job.get("metadata", {}), job.get("spec", {})
    containers = (spec.get("template") or {}).get("spec", {}).get("containers", [])
    return [md.get("name", ""), job_status_word(job), job_completions(job), job_duration(job, now),
            since(md.get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            selector_string(spec.get("selector"))]


RESOURCE = Resource("jobs", GROUP, "v1", "Job", True, "/registry/jobs/", (), "job", ("status",),
                    JobStrategy(), JOB, categories=("all",), gc_policy="OrphanDependents",
                    selectable_fields=COMMON_FIELDS + ("status.successful",),
                    field_getters=(("status.successful", lambda j: str(int((j.get("status") or {}).get("succeeded") or 0))),),
                    printer=Printer(JOB_COLUMNS, job_row))
