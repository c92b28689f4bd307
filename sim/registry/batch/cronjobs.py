"""CronJobs (batch/v1; pkg/registry/batch/cronjob, pkg/apis/batch/validation ValidateCronJob,
k8s.io/api/batch/v1 SetDefaults_CronJob, printers.go printCronJob): namespaced, short name
"cj", in the `all` category, generation tracked, a status subresource the CronJob controller
(sim/controllers/cronjob.py) writes.

spec.schedule is cron syntax as robfig/cron's ParseStandard reads it (sim/api/cronschedule.py);
spec.timeZone an IANA zone name; spec.jobTemplate the Job each run creates (validated as a
Job's spec is, with the selector left to the Job's own defaulting).  A name is at most 52
characters: the controller appends `-<minutes since the epoch>` (11 characters) to name each
Job, and a Job's name must stay a 63-character DNS label.
"""
from __future__ import annotations

import re
from typing import Any

from sim.api import validation as v
from sim.api.cronschedule import CronError, TimeZoneError, load_location, parse_standard
from sim.api.gotypes import BOOL, INT32, INT64, STRING, TIME, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, OBJECT_REFERENCE, TYPE_META
from sim.api.validation import invalid, not_supported, required
from sim.registry.batch import jobs
from sim.registry.printers import AGE, NAME, Printer, col, selector_string, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

GROUP = "batch"

# ConcurrencyPolicy (k8s.io/api/batch/v1/types.go)
ALLOW, FORBID, REPLACE = "Allow", "Forbid", "Replace"
CONCURRENCY_POLICIES = (ALLOW, FORBID, REPLACE)

# k8s.io/api/batch/v1/types.go
CRON_JOB = struct(
    "v1.CronJob", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.CronJobSpec", schedule=STRING, timeZone=STRING, startingDeadlineSeconds=INT64,
                concurrencyPolicy=enum("v1.ConcurrencyPolicy"), suspend=BOOL, jobTemplate=jobs.JOB_TEMPLATE_SPEC,
                successfulJobsHistoryLimit=INT32, failedJobsHistoryLimit=INT32),
    status=struct("v1.CronJobStatus", active=Slice(OBJECT_REFERENCE), lastScheduleTime=TIME,
                  lastSuccessfulTime=TIME))

# apimachineryvalidation.DNS1035LabelMaxLength - len("-$TIMESTAMP")
MAX_NAME_LENGTH = 63 - 11


# -- defaulting (pkg/apis/batch/v1/defaults.go SetDefaults_CronJob, SetObjectDefaults_CronJob) ----
def default_cronjob(cj: dict) -> dict:
    cj = deep_copy(cj)
    cj["apiVersion"], cj["kind"] = f"{GROUP}/v1", "CronJob"
    spec = cj.setdefault("spec", {})
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = ALLOW
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    # The template's pod spec gets the pod defaults (SetObjectDefaults_CronJob walks into it);
    # the JobSpec itself is not defaulted here: each Job is when the controller creates it.
    template = spec.setdefault("jobTemplate", {})
    jspec = template.setdefault("spec", {})
    jspec["template"] = jobs.default_pod_template(jspec.get("template") or {})
    return cj


# -- validation (pkg/apis/batch/validation/validation.go) --------------------------------------
# https://data.iana.org/time-zones/theory.html#naming (validTimeZoneCharacters)
_TZ_PART = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")


def validate_schedule_format(schedule: str, allow_tz_in_schedule: bool, time_zone, field: str) -> list:
    """validateScheduleFormat."""
    errs = []
    try:
        parse_standard(schedule)
    except CronError as e:
        errs.append(invalid(field, schedule, str(e)))
    if allow_tz_in_schedule and "TZ" in schedule and time_zone is not None:
        errs.append(invalid(field, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
    elif not allow_tz_in_schedule and "TZ" in schedule:
        errs.append(invalid(field, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    return errs


def validate_time_zone(time_zone, field: str) -> list:
    """validateTimeZone."""
    if time_zone is None:
        return []
    if time_zone == "":
        return [invalid(field, time_zone, "timeZone must be nil or non-empty string")]
    for part in time_zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_PART.fullmatch(part):
            return [invalid(field, time_zone, f"unknown time zone {time_zone}")]
    errs = []
    if time_zone.lower() == "local":
        errs.append(invalid(field, time_zone,
                            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
    try:
        load_location(time_zone)
    except TimeZoneError as e:
        errs.append(invalid(field, time_zone, str(e)))
    return errs


def validate_job_template_spec(template: dict, field: str, old_template: dict | None = None) -> list:
    """ValidateJobTemplateSpec: the Job's spec as a Job's, and no selector of its own (the Job
    gets one generated)."""
    spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    old_pod_spec = (((old_template or {}).get("spec") or {}).get("template") or {}).get("spec")
    errs = jobs.validate_job_spec_fields(spec, f"{field}.spec", v.pod_validation_options(old_pod_spec))
    if spec.get("selector") is not None:
        errs.append(invalid(f"{field}.spec.selector", spec["selector"], "`selector` will be auto-generated"))
    if spec.get("manualSelector"):
        errs.append(not_supported(f"{field}.spec.manualSelector", True, ("nil", "false")))
    return errs


def validate_cronjob_spec(spec: dict, old_spec: dict | None, field: str = "spec") -> list:
    """validateCronJobSpec."""
    errs = []
    schedule = spec.get("schedule") or ""
    if not schedule:
        errs.append(required(f"{field}.schedule"))
    else:
        allow_tz = "TZ" in ((old_spec or {}).get("schedule") or "")
        errs += validate_schedule_format(schedule, allow_tz, spec.get("timeZone"), f"{field}.schedule")
    if spec.get("startingDeadlineSeconds") is not None and spec["startingDeadlineSeconds"] < 0:
        errs.append(invalid(f"{field}.startingDeadlineSeconds", spec["startingDeadlineSeconds"], v.NON_NEGATIVE_MSG))
    if old_spec is None or old_spec.get("timeZone") != spec.get("timeZone"):
        errs += validate_time_zone(spec.get("timeZone"), f"{field}.timeZone")
    policy = spec.get("concurrencyPolicy") or ""
    if not policy:
        errs.append(required(f"{field}.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        errs.append(not_supported(f"{field}.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    template = spec.get("jobTemplate") if isinstance(spec.get("jobTemplate"), dict) else {}
    errs += validate_job_template_spec(template, f"{field}.jobTemplate",
                                       (old_spec or {}).get("jobTemplate") if old_spec else None)
    for name in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if spec.get(name) is not None and spec[name] < 0:
            errs.append(invalid(f"{field}.{name}", spec[name], v.NON_NEGATIVE_MSG))
    return errs


def validate_cronjob(cj: dict) -> list:
    """ValidateCronJobCreate."""
    errs = v.validate_object_meta(cj, namespaced=True)
    spec = cj.get("spec") if isinstance(cj.get("spec"), dict) else {}
    errs += validate_cronjob_spec(spec, None)
    name = (cj.get("metadata") or {}).get("name") or ""
    if len(name) > MAX_NAME_LENGTH:
        errs.append(invalid("metadata.name", name, f"must be no more than {MAX_NAME_LENGTH} characters"))
    return errs


def validate_cronjob_update(new: dict, old: dict) -> list:
    """ValidateCronJobUpdate: no 52-character limit, so that an old CronJob with a longer name
    can still be updated and deleted."""
    errs = v.validate_object_meta(new, namespaced=True)
    spec = new.get("spec") if isinstance(new.get("spec"), dict) else {}
    return errs + validate_cronjob_spec(spec, old.get("spec") or {})


class CronJobStrategy(Strategy):
    default_copies = True  # default_cronjob deep-copies first
    tracks_generation = True

    def default(self, obj, ctx):
        return default_cronjob(obj)

    def validate(self, obj):
        return validate_cronjob(obj)

    def validate_update(self, new, old):
        return validate_cronjob_update(new, old)

    def validate_status_update(self, new, old):
        # cronJobStatusStrategy.ValidateUpdate: only the object meta update.
        return v.validate_object_meta(new, namespaced=True)


# -- printer (printers.go printCronJob) ---------------------------------------------------------
CRONJOB_COLUMNS = [
    NAME,
    col("Schedule", description="The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    col("Timezone", description="The time zone name for the given schedule, see "
        "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to "
        "the time zone of the kube-controller-manager process. The set of valid time zone names and the time "
        "zone offset is loaded from the system-wide time zone database by the API server during CronJob "
        "validation and the controller manager during execution. If no system-wide time zone database can be "
        "found a bundled version of the database is used instead. If the time zone name becomes invalid during "
        "the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating "
        "new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be "
        "found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"),
    col("Suspend", "boolean", description="This flag tells the controller to suspend subsequent executions, it does "
        "not apply to already started executions.  Defaults to false."),
    col("Active", "integer", description="A list of pointers to currently running jobs."),
    col("Last Schedule", description="Information when was the last time the job was successfully scheduled."),
    AGE,
    col("Containers", priority=1, description="Names of each container in the template."),
    col("Images", priority=1, description="Images referenced by each container in the template."),
    col("Selector", priority=1, description="A label query over pods that should match the pod count. Normally, "
        "the system sets this field for you. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"),
]


def _bool_ptr(value) -> str:
    """printBoolPtr."""
    return "<unset>" if value is None else ("True" if value else "False")


def cronjob_row(cj: dict, now: float) -> list[Any]:
    md, spec, st = cj.get("metadata", {}), cj.get("spec") or {}, cj.get("status") or {}
    jspec = (spec.get("jobTemplate") or {}).get("spec") or {}
    containers = ((jspec.get("template") or {}).get("spec") or {}).get("containers") or []
    last = st.get("lastScheduleTime")
    return [md.get("name", ""), spec.get("schedule", ""),
            spec["timeZone"] if spec.get("timeZone") is not None else "<none>",
            _bool_ptr(spec.get("suspend")), len(st.get("active") or []),
            since(last, now) if last else "<none>", since(md.get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            selector_string(jspec.get("selector"))]


RESOURCE = Resource("cronjobs", GROUP, "v1", "CronJob", True, "/registry/cronjobs/", ("cj",), "cronjob",
                    ("status",), CronJobStrategy(), CRON_JOB, categories=("all",),
                    printer=Printer(CRONJOB_COLUMNS, cronjob_row))
