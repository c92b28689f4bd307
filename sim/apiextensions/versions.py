"""Kubernetes' version priority (k8s.io/apimachinery/pkg/version helpers.go
CompareKubeAwareVersionStrings): GA before beta before alpha, a higher major or minor first,
then the versions that do not look like Kubernetes' (v1, v2beta1 ...) in alphabetical order.
Discovery lists a group's versions in this order; the first is the preferred version."""
from __future__ import annotations

import re

_KUBE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_STAGE = {None: 2, "beta": 1, "alpha": 0}


def priority_key(version: str) -> tuple:
    m = _KUBE.match(version)
    if m is None:
        return (1, version)  # non-Kubernetes versions last, alphabetically
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    return (0, -_STAGE[stage], -major, -minor)


def sort_versions(versions: list[str]) -> list[str]:
    return sorted(versions, key=priority_key)
