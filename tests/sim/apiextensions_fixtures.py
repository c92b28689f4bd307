"""The Kubernetes documentation's CronTab CustomResourceDefinition
(https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/),
shared by the apiextensions tests."""
import copy

CRON_SPEC_PATTERN = r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$"

CRONTAB_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {"type": "string", "pattern": CRON_SPEC_PATTERN},
                "image": {"type": "string"},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
            },
        },
    },
}

CRONTAB_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "versions": [{"name": "v1", "served": True, "storage": True,
                      "schema": {"openAPIV3Schema": CRONTAB_SCHEMA}}],
        "scope": "Namespaced",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
    },
}

# The documentation's defaulting example: the same schema with defaults.
CRONTAB_DEFAULTED_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {"type": "string", "pattern": CRON_SPEC_PATTERN, "default": "5 0 * * *"},
                "image": {"type": "string"},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
            },
        },
    },
}


def crontab_crd(**spec_changes):
    crd = copy.deepcopy(CRONTAB_CRD)
    crd["spec"].update(copy.deepcopy(spec_changes))
    return crd


def with_schema(schema, crd=None):
    crd = copy.deepcopy(crd or CRONTAB_CRD)
    crd["spec"]["versions"][0]["schema"] = {"openAPIV3Schema": copy.deepcopy(schema)}
    return crd


def texts(errors):
    return [e.text() for e in errors]
