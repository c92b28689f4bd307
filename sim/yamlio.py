"""YAML as the engine reads and writes it (static pod manifests, kube-proxy's config file, the
add-ons' manifests, scenario and lesson files): PyYAML's safe subset, through libyaml's C parser
and emitter when PyYAML was built with them.  The pure-Python ones took about a sixth of the
engine's time in a profile of the simulation tests, since every kubelet parses its static pod
manifests and every kube-proxy its configuration as they start."""
from __future__ import annotations

from typing import Any, Iterator

import yaml

YAMLError = yaml.YAMLError
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


def safe_load_all(text: str) -> Iterator[Any]:
    return yaml.load_all(text, Loader=_LOADER)


def safe_dump(data: Any, **kwargs: Any) -> str:
    return yaml.dump(data, Dumper=_DUMPER, **kwargs)
