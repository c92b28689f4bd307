"""KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): defaulting and validation as
upstream does them (pkg/scheduler/apis/config/v1/defaults.go, default_plugins.go,
pkg/scheduler/apis/config/validation/validation.go).

`default_configuration(cfg)` takes the JSON a user wrote (or None) and returns it defaulted:
every profile gets the default plugins merged in (mergePlugins: the user's enabled/disabled
lists per extension point over the default MultiPoint set), defaulted plugin args, and the
global fields (percentageOfNodesToScore 0 = adaptive, podInitialBackoffSeconds 1,
podMaxBackoffSeconds 10).  Invalid input raises ConfigError with upstream-style field errors.
"""
from __future__ import annotations

import copy

from sim.scheduler import plugins as registry

API_VERSION = "kubescheduler.config.k8s.io/v1"
KIND = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE = 0
DEFAULT_POD_INITIAL_BACKOFF_SECONDS = 1
DEFAULT_POD_MAX_BACKOFF_SECONDS = 10
DEFAULT_PARALLELISM = 16

# getDefaultPlugins(): the MultiPoint set, in upstream's order, with upstream's weights.
# The other volume plugins (NodeVolumeLimits, VolumeZone) and
# DynamicResources are upstream defaults too; they are not simulated, so not registered here.
DEFAULT_MULTI_POINT: list[dict] = [
    {"name": "PrioritySort"},
    {"name": "NodeUnschedulable"},
    {"name": "NodeName"},
    {"name": "TaintToleration", "weight": 3},
    {"name": "NodeAffinity", "weight": 2},
    {"name": "NodePorts"},
    {"name": "NodeResourcesFit", "weight": 1},
    {"name": "VolumeRestrictions"},
    {"name": "VolumeBinding"},
    {"name": "PodTopologySpread", "weight": 2},
    {"name": "InterPodAffinity", "weight": 2},
    {"name": "DefaultPreemption"},
    {"name": "NodeResourcesBalancedAllocation", "weight": 1},
    {"name": "ImageLocality", "weight": 1},
    {"name": "DefaultBinder"},
    {"name": "SchedulingGates"},   # applyFeatureGates: PodSchedulingReadiness (GA)
]

EXTENSION_POINT_KEYS = ["multiPoint", "preEnqueue", "queueSort", "preFilter", "filter", "postFilter",
                        "preScore", "score", "reserve", "permit", "preBind", "bind", "postBind"]


class ConfigError(ValueError):
    """An invalid KubeSchedulerConfiguration; `errors` are upstream-style field errors."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid KubeSchedulerConfiguration: " + "; ".join(errors))


def default_plugins() -> dict:
    return {"multiPoint": {"enabled": [dict(p) for p in DEFAULT_MULTI_POINT if registry.available(p["name"])]}}


def merge_plugin_set(default: dict, custom: dict | None) -> dict:
    """mergePluginSet: custom disabled names (or "*") drop defaults; a custom entry naming a
    default replaces it in place; other custom entries are appended."""
    custom = custom or {}
    disabled_names = {p.get("name") for p in custom.get("disabled") or []}
    disabled = [{"name": p.get("name")} for p in custom.get("disabled") or []]
    disabled += [{"name": p.get("name")} for p in default.get("disabled") or []]
    disabled_names |= {p.get("name") for p in default.get("disabled") or []}
    custom_enabled = {p.get("name"): (i, p) for i, p in enumerate(custom.get("enabled") or [])}
    replaced: set[int] = set()
    enabled = []
    if "*" not in disabled_names:
        for p in default.get("enabled") or []:
            if p["name"] in disabled_names:
                continue
            if p["name"] in custom_enabled:
                i, cp = custom_enabled[p["name"]]
                p = cp
                replaced.add(i)
            enabled.append(dict(p))
    for i, p in enumerate(custom.get("enabled") or []):
        if i not in replaced:
            enabled.append(dict(p))
    out = {"enabled": enabled}
    if disabled:
        out["disabled"] = disabled
    return out


def merge_plugins(default: dict, custom: dict | None) -> dict:
    if custom is None:
        return default
    return {k: merge_plugin_set(default.get(k) or {}, custom.get(k)) for k in EXTENSION_POINT_KEYS}


def plugin_names(plugins: dict) -> list[str]:
    names: set[str] = set()
    for k in EXTENSION_POINT_KEYS:
        for p in (plugins.get(k) or {}).get("enabled") or []:
            names.add(p.get("name"))
    return sorted(names)


def _int_field(obj: dict, key: str, path: str, errors: list[str]) -> None:
    v = obj.get(key)
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
        errors.append(f"{path}{key}: Invalid value: {v!r}: must be an integer")


def default_configuration(cfg: dict | None) -> dict:
    """SetDefaults_KubeSchedulerConfiguration, then validation.  Returns a new dict."""
    if cfg is not None and not isinstance(cfg, dict):
        raise ConfigError([f"KubeSchedulerConfiguration must be an object, got {type(cfg).__name__}"])
    obj = copy.deepcopy(cfg) if cfg else {}
    errors: list[str] = []
    if obj.get("apiVersion", API_VERSION) != API_VERSION:
        errors.append(f'apiVersion: Unsupported value: "{obj.get("apiVersion")}": supported values: "{API_VERSION}"')
    if obj.get("kind", KIND) != KIND:
        errors.append(f'kind: Unsupported value: "{obj.get("kind")}": supported values: "{KIND}"')
    for key in ("percentageOfNodesToScore", "podInitialBackoffSeconds", "podMaxBackoffSeconds", "parallelism"):
        _int_field(obj, key, "", errors)
    if errors:
        raise ConfigError(errors)
    obj["apiVersion"], obj["kind"] = API_VERSION, KIND
    obj.setdefault("parallelism", DEFAULT_PARALLELISM)
    profiles = obj.get("profiles")
    if profiles is None or profiles == []:
        profiles = obj["profiles"] = [{}]
    if not isinstance(profiles, list) or not all(isinstance(p, dict) for p in profiles):
        raise ConfigError(["profiles: Invalid value: must be a list of objects"])
    if len(profiles) == 1 and profiles[0].get("schedulerName") is None:
        profiles[0]["schedulerName"] = DEFAULT_SCHEDULER_NAME
    for prof in profiles:
        _default_profile(prof)
    if obj.get("percentageOfNodesToScore") is None:
        obj["percentageOfNodesToScore"] = DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE
    obj.setdefault("podInitialBackoffSeconds", DEFAULT_POD_INITIAL_BACKOFF_SECONDS)
    obj.setdefault("podMaxBackoffSeconds", DEFAULT_POD_MAX_BACKOFF_SECONDS)
    validate_configuration(obj)
    return obj


def _default_profile(prof: dict) -> None:
    """setDefaults_KubeSchedulerProfile."""
    prof["plugins"] = merge_plugins(default_plugins(), prof.get("plugins"))
    configs = prof.get("pluginConfig") or []
    seen = set()
    for pc in configs:
        name = pc.get("name")
        seen.add(name)
        cls = registry.get(name) if isinstance(name, str) else None
        if cls is not None:
            pc["args"] = cls.default_args(pc.get("args") if pc.get("args") is not None else {})
    for name in plugin_names(prof["plugins"]):
        if name in seen:
            continue
        cls = registry.get(name)
        if cls is None:
            continue
        args = cls.default_args(None)
        if args is not None:
            configs.append({"name": name, "args": args})
    prof["pluginConfig"] = configs


def validate_configuration(obj: dict) -> None:
    """ValidateKubeSchedulerConfiguration (the parts the simulator uses)."""
    errors: list[str] = []
    pct = obj.get("percentageOfNodesToScore")
    if pct is not None and not 0 <= pct <= 100:
        errors.append(f"percentageOfNodesToScore: Invalid value: {pct}: not in valid range [0-100]")
    ib, mb = obj.get("podInitialBackoffSeconds"), obj.get("podMaxBackoffSeconds")
    if ib <= 0:
        errors.append(f"podInitialBackoffSeconds: Invalid value: {ib}: must be greater than 0")
    if mb < ib:
        errors.append(f"podMaxBackoffSeconds: Invalid value: {mb}: must be greater than or equal to PodInitialBackoffSeconds")
    if obj.get("parallelism", 1) <= 0:
        errors.append(f"parallelism: Invalid value: {obj.get('parallelism')}: should be an integer value greater than zero")
    names: dict[str, int] = {}
    queue_sort = None
    for i, prof in enumerate(obj["profiles"]):
        path = f"profiles[{i}]"
        name = prof.get("schedulerName")
        if not name:
            errors.append(f"{path}.schedulerName: Required value")
        elif name in names:
            errors.append(f"{path}.schedulerName: Duplicate value: \"{name}\"")
        else:
            names[name] = i
        p = prof.get("percentageOfNodesToScore")
        if p is not None and (isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 100):
            errors.append(f"{path}.percentageOfNodesToScore: Invalid value: {p!r}: not in valid range [0-100]")
        plugins = prof["plugins"]
        for k in EXTENSION_POINT_KEYS:
            for j, pl in enumerate((plugins.get(k) or {}).get("enabled") or []):
                w = pl.get("weight", 0)
                if isinstance(w, bool) or not isinstance(w, int) or w < 0:
                    errors.append(f"{path}.plugins.{k}.enabled[{j}].weight: Invalid value: {w!r}: must be a non-negative integer")
        qs = _queue_sort_of(plugins)
        if queue_sort is None:
            queue_sort = qs
        elif qs != queue_sort:
            errors.append(f"{path}.plugins.queueSort: Invalid value: {qs!r}: queueSort must be the same for all profiles")
        seen_configs = set()
        for j, pc in enumerate(prof.get("pluginConfig") or []):
            pname = pc.get("name")
            if pname in seen_configs:
                errors.append(f"{path}.pluginConfig[{j}]: Duplicate value: \"{pname}\"")
                continue
            seen_configs.add(pname)
            cls = registry.get(pname) if isinstance(pname, str) else None
            if cls is not None:
                errors.extend(cls.validate_args(pc.get("args"), f"{path}.pluginConfig[{j}].args"))
    if errors:
        raise ConfigError(errors)


def _queue_sort_of(plugins: dict) -> list[str]:
    from sim.scheduler.framework.interface import QueueSortPlugin
    disabled = {p.get("name") for p in (plugins.get("queueSort") or {}).get("disabled") or []}
    out = [p.get("name") for p in (plugins.get("queueSort") or {}).get("enabled") or []]
    if "*" not in disabled:
        for p in (plugins.get("multiPoint") or {}).get("enabled") or []:
            cls = registry.get(p.get("name"))
            if cls is not None and issubclass(cls, QueueSortPlugin) and p.get("name") not in disabled and p.get("name") not in out:
                out.append(p.get("name"))
    return out
