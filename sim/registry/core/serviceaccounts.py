"""ServiceAccounts (pkg/registry/core/serviceaccount): an identity for pods.  The serviceaccounts
controller makes a `default` one in every namespace (sim/controllers/serviceaccounts.py) and the
ServiceAccount admission plugin gives each new pod one (sim/apiserver/admission/serviceaccount.py).
The strategy keeps only the name of each `secrets` reference (cleanSecretReferences).  The
`token` subresource is the TokenRequest API (sim/apiserver/tokenrequest.py)."""
from __future__ import annotations

from typing import Any

from sim.api import validation as v
from sim.api.gotypes import BOOL, Slice, struct
from sim.api.schema import LOCAL_OBJECT_REFERENCE, OBJECT_META, OBJECT_REFERENCE, TYPE_META
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

# k8s.io/api/core/v1 types.go: ServiceAccount
SERVICE_ACCOUNT = struct("v1.ServiceAccount", **TYPE_META, metadata=OBJECT_META, secrets=Slice(OBJECT_REFERENCE),
                         imagePullSecrets=Slice(LOCAL_OBJECT_REFERENCE), automountServiceAccountToken=BOOL)
DEFAULT_SERVICE_ACCOUNT = "default"


def clean_secret_references(sa: dict) -> None:
    """cleanSecretReferences: a `secrets` entry keeps its name only."""
    if sa.get("secrets"):
        sa["secrets"] = [{"name": ref.get("name")} if (ref or {}).get("name") else {}
                         for ref in sa["secrets"]]


def validate_service_account(sa: dict) -> list:
    """ValidateServiceAccount: its metadata, the name a DNS subdomain."""
    return v.validate_object_meta(sa, namespaced=True)


class ServiceAccountStrategy(Strategy):
    def prepare_for_create(self, res, obj, ctx):
        clean_secret_references(obj)

    def prepare_for_update(self, res, new, old, ctx):
        new = super().prepare_for_update(res, new, old, ctx)
        clean_secret_references(new)
        return new

    def validate(self, obj):
        return validate_service_account(obj)


SERVICEACCOUNT_COLUMNS = [
    NAME,
    col("Secrets", description="Secrets is a list of the secrets in the same namespace that pods running using "
                               "this ServiceAccount are allowed to use. Pods are only limited to this list if this "
                               "service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to "
                               "\"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated "
                               "since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This "
                               "field should not be used to find auto-generated service account token secrets for "
                               "use outside of pods. Instead, tokens can be requested directly using the "
                               "TokenRequest API, or service account token secrets can be manually created. More "
                               "info: https://kubernetes.io/docs/concepts/configuration/secret"),
    AGE,
]


def serviceaccount_row(sa: dict, now: float) -> list[Any]:
    md = sa.get("metadata", {})
    return [md.get("name", ""), len(sa.get("secrets") or []), since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("serviceaccounts", "", "v1", "ServiceAccount", True, "/registry/serviceaccounts/", ("sa",),
                    "serviceaccount", ("token",), ServiceAccountStrategy(), SERVICE_ACCOUNT,
                    printer=Printer(SERVICEACCOUNT_COLUMNS, serviceaccount_row))
