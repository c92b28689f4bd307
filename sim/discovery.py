"""What a client learns of the served kinds from discovery (metav1.APIResource), as
client-go's discovery client and RESTMapper give controllers: the garbage collector and the
namespace controller find every kind - custom ones too - this way, never by a list of names."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class APIResource:
    name: str
    group: str
    version: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    subresources: tuple[str, ...] = ()

    @property
    def gr(self) -> str:
        return f"{self.name}.{self.group}" if self.group else self.name

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @classmethod
    def from_description(cls, d: dict) -> "APIResource":
        """From sim.registry.Resource.describe()."""
        return cls(d["name"], d["group"], d["version"], d["kind"], bool(d["namespaced"]), tuple(d["verbs"]),
                   tuple(d.get("subresources") or ()))


def parse_discovery(resp: dict) -> list[APIResource] | None:
    """The reply to a {"verb": "discovery"} request; None when it failed."""
    if resp.get("code") != 200:
        return None
    return [APIResource.from_description(d) for d in resp["body"]["resources"]]
