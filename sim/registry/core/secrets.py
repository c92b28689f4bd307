"""Secrets (pkg/registry/core/secret): `data` holds base64 bytes (a value that is not base64 does
not decode: a 400), `stringData` is write-only - merged into `data` when the object is decoded
(Convert_v1_Secret_To_core_Secret) and never stored; `type` defaults to Opaque, is validated per
type (kubernetes.io/tls needs tls.crt and tls.key, ...) and may not change; `immutable` as
ConfigMaps'.  Secrets can be selected by `type`."""
from __future__ import annotations

import base64
import json
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import BOOL, BYTES, Map, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, STRING_MAP, TYPE_META
from sim.registry.core.configmaps import byte_length
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy

# k8s.io/api/core/v1 types.go: Secret
SECRET = struct("v1.Secret", **TYPE_META, metadata=OBJECT_META, immutable=BOOL, data=Map(BYTES),
                stringData=STRING_MAP, type=enum("v1.SecretType"))

OPAQUE = "Opaque"
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
SERVICE_ACCOUNT_NAME_KEY = "kubernetes.io/service-account.name"
DOCKERCFG, DOCKERCFG_KEY = "kubernetes.io/dockercfg", ".dockercfg"
DOCKER_CONFIG_JSON, DOCKER_CONFIG_JSON_KEY = "kubernetes.io/dockerconfigjson", ".dockerconfigjson"
BASIC_AUTH, BASIC_AUTH_USERNAME, BASIC_AUTH_PASSWORD = "kubernetes.io/basic-auth", "username", "password"
SSH_AUTH, SSH_AUTH_PRIVATE_KEY = "kubernetes.io/ssh-auth", "ssh-privatekey"
TLS, TLS_CERT, TLS_KEY = "kubernetes.io/tls", "tls.crt", "tls.key"
REDACTED = "<secret contents redacted>"


def default_secret(obj: dict) -> dict:
    """The v1 -> internal conversion and SetDefaults_Secret: stringData's values overwrite
    data's (as UTF-8 bytes) and stringData is gone; type "" is Opaque."""
    obj = deep_copy(obj)
    string_data = obj.pop("stringData", None)
    if string_data:
        data = obj.get("data") or {}
        for k, val in string_data.items():
            data[k] = base64.b64encode((val or "").encode("utf-8")).decode("ascii")
        obj["data"] = data
    if not obj.get("type"):
        obj["type"] = OPAQUE
    return obj


def _go_json_error(raw: bytes) -> str | None:
    """json.Unmarshal(raw, &map[string]interface{}{}): None, or Go's error text."""
    text = raw.decode("utf-8", "replace")
    if not text.strip():
        return "unexpected end of JSON input"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()):
            return "unexpected end of JSON input"
        ch = text[e.pos]
        where = "looking for beginning of value" if e.msg.startswith("Expecting value") else \
            "after top-level value" if e.msg.startswith("Extra data") else "looking for beginning of object key string"
        return f"invalid character '{ch}' {where}"
    if not isinstance(value, dict) and value is not None:
        kind = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
        return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    return None


def validate_secret(secret: dict) -> list:
    """ValidateSecret."""
    errs = v.validate_object_meta(secret, namespaced=True)
    data = secret.get("data") or {}
    total = 0
    for key, value in data.items():
        errs += [v.invalid(f"data[{key}]", key, msg) for msg in v.config_map_key_errors(key)]
        total += byte_length(value)
    if total > v.MAX_SECRET_SIZE:
        errs.append(v.too_long("data", v.MAX_SECRET_SIZE))
    typ = secret.get("type") or ""
    if typ == SERVICE_ACCOUNT_TOKEN:
        if not ((secret.get("metadata") or {}).get("annotations") or {}).get(SERVICE_ACCOUNT_NAME_KEY):
            errs.append(v.required(f"metadata.annotations[{SERVICE_ACCOUNT_NAME_KEY}]"))
    elif typ in (DOCKERCFG, DOCKER_CONFIG_JSON):
        key = DOCKERCFG_KEY if typ == DOCKERCFG else DOCKER_CONFIG_JSON_KEY
        if key not in data:
            errs.append(v.required(f"data[{key}]"))
        else:
            error = _go_json_error(base64.b64decode(data[key] or ""))
            if error:
                errs.append(v.invalid(f"data[{key}]", REDACTED, error))
    elif typ == BASIC_AUTH:
        if BASIC_AUTH_USERNAME not in data and BASIC_AUTH_PASSWORD not in data:
            errs.append(v.required(f"data[{BASIC_AUTH_USERNAME}]"))
            errs.append(v.required(f"data[{BASIC_AUTH_PASSWORD}]"))
    elif typ == SSH_AUTH:
        if not byte_length(data.get(SSH_AUTH_PRIVATE_KEY)):
            errs.append(v.required(f"data[{SSH_AUTH_PRIVATE_KEY}]"))
    elif typ == TLS:
        for key in (TLS_CERT, TLS_KEY):
            if key not in data:
                errs.append(v.required(f"data[{key}]"))
    return errs


def validate_secret_update(new: dict, old: dict) -> list:
    """ValidateSecretUpdate: the type may not change; an immutable Secret keeps its flag and data."""
    errs = v.validate_immutable_field(new.get("type"), old.get("type"), "type")
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(v.forbidden("immutable", v.IMMUTABLE_WHEN_SET))
        if (new.get("data") or None) != (old.get("data") or None):
            errs.append(v.forbidden("data", v.IMMUTABLE_WHEN_SET))
    return errs + validate_secret(new)


class SecretStrategy(Strategy):
    def default(self, obj, ctx):
        return default_secret(obj)

    def prepare_for_update(self, res, new, old, ctx):
        """secret strategy PrepareForUpdate: an empty type keeps the stored one."""
        if not new.get("type") and old.get("type"):
            new = dict(new, type=old["type"])
        return super().prepare_for_update(res, new, old, ctx)

    def validate(self, obj):
        return validate_secret(obj)

    def validate_update(self, new, old):
        return validate_secret_update(new, old)


SECRET_COLUMNS = [
    NAME,
    col("Type", description="Used to facilitate programmatic handling of secret data. More info: "
                            "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"),
    col("Data", description="Data contains the secret data. Each key must consist of alphanumeric characters, "
                            "'-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, "
                            "representing the arbitrary (possibly non-string) data value here. Described in "
                            "https://tools.ietf.org/html/rfc4648#section-4"),
    AGE,
]


def secret_row(secret: dict, now: float) -> list[Any]:
    md = secret.get("metadata", {})
    return [md.get("name", ""), secret.get("type") or "", len(secret.get("data") or {}),
            since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("secrets", "", "v1", "Secret", True, "/registry/secrets/", (), "secret", (),
                    SecretStrategy(), SECRET,
                    # secret.SelectableFields
                    selectable_fields=COMMON_FIELDS + ("type",),
                    printer=Printer(SECRET_COLUMNS, secret_row))
