"""ConfigMaps (pkg/registry/core/configmap): `data` (strings) and `binaryData` (base64 bytes),
at most 1 MiB of them in all, keys as IsConfigMapKey allows, and `immutable`: once set, neither
the data nor the flag may change (the object can still be deleted)."""
from __future__ import annotations

import base64
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import BOOL, BYTES, Map, struct
from sim.api.schema import OBJECT_META, STRING_MAP, TYPE_META
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

# k8s.io/api/core/v1 types.go: ConfigMap
CONFIG_MAP = struct("v1.ConfigMap", **TYPE_META, metadata=OBJECT_META, immutable=BOOL, data=STRING_MAP,
                    binaryData=Map(BYTES))


def byte_length(b64: Any) -> int:
    """The length of the bytes a (decoded, canonical) base64 value holds."""
    if not isinstance(b64, str):
        return 0
    try:
        return len(base64.b64decode(b64))
    except ValueError:
        return 0


def validate_config_map(cm: dict) -> list:
    """ValidateConfigMap: metadata (a DNS subdomain name), every key of data and binaryData a
    config key and in one of them only, at most MaxSecretSize bytes in all."""
    errs = v.validate_object_meta(cm, namespaced=True)
    data = cm.get("data") or {}
    binary = cm.get("binaryData") or {}
    total = 0
    for key, value in data.items():
        errs += [v.invalid(f"data[{key}]", key, msg) for msg in v.config_map_key_errors(key)]
        if key in binary:
            errs.append(v.invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += len(value.encode("utf-8")) if isinstance(value, str) else 0
    for key, value in binary.items():
        errs += [v.invalid(f"binaryData[{key}]", key, msg) for msg in v.config_map_key_errors(key)]
        if key in data:
            errs.append(v.invalid(f"binaryData[{key}]", key, "duplicate of key present in data"))
        total += byte_length(value)
    if total > v.MAX_SECRET_SIZE:
        # field.TooLong(field.NewPath(""), cfg, ...): a path with an empty name prints as "[]".
        errs.append(v.too_long("[]", v.MAX_SECRET_SIZE))
    return errs


def validate_config_map_update(new: dict, old: dict) -> list:
    """ValidateConfigMapUpdate: an immutable ConfigMap keeps its flag, data and binaryData."""
    errs: list = []
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(v.forbidden("immutable", v.IMMUTABLE_WHEN_SET))
        if (new.get("data") or None) != (old.get("data") or None):
            errs.append(v.forbidden("data", v.IMMUTABLE_WHEN_SET))
        if (new.get("binaryData") or None) != (old.get("binaryData") or None):
            errs.append(v.forbidden("binaryData", v.IMMUTABLE_WHEN_SET))
    return errs + validate_config_map(new)


class ConfigMapStrategy(Strategy):
    def validate(self, obj):
        return validate_config_map(obj)

    def validate_update(self, new, old):
        return validate_config_map_update(new, old)


CONFIGMAP_COLUMNS = [
    NAME,
    col("Data", description="Data contains the configuration data. Each key must consist of alphanumeric "
                            "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the "
                            "BinaryData field. The keys stored in Data must not overlap with the keys in the "
                            "BinaryData field, this is enforced during validation process."),
    AGE,
]


def configmap_row(cm: dict, now: float) -> list[Any]:
    md = cm.get("metadata", {})
    return [md.get("name", ""), len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
            since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("configmaps", "", "v1", "ConfigMap", True, "/registry/configmaps/", ("cm",), "configmap", (),
                    ConfigMapStrategy(), CONFIG_MAP, printer=Printer(CONFIGMAP_COLUMNS, configmap_row))
