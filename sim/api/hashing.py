"""The hashes workload controllers name things by: Go's hash/fnv (FNV-1 and FNV-1a, 32 bits),
k8s.io/apimachinery/pkg/util/rand.SafeEncodeString, and the bytes Go's json.Marshal writes for
a JSON map (what a ControllerRevision's Data.Raw holds and HashControllerRevision hashes)."""
from __future__ import annotations

import json
from typing import Any

FNV32_OFFSET, FNV32_PRIME = 0x811C9DC5, 0x01000193

# rand.SafeEncodeString's alphabet: no vowels and no 0, 1 or 3, so no bad words are spelled.
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def fnv32(data: bytes, h: int = FNV32_OFFSET) -> int:
    """fnv.New32 (FNV-1: multiply, then xor), continued from `h`."""
    for b in data:
        h = ((h * FNV32_PRIME) & 0xFFFFFFFF) ^ b
    return h


def fnv32a(data: bytes, h: int = FNV32_OFFSET) -> int:
    """fnv.New32a (FNV-1a: xor, then multiply), continued from `h`."""
    for b in data:
        h = ((h ^ b) * FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode_string(s: str) -> str:
    """rand.SafeEncodeString: each rune to alphanums[rune % 27]."""
    return "".join(ALPHANUMS[ord(ch) % len(ALPHANUMS)] for ch in s)


def go_json(value: Any) -> bytes:
    """json.Marshal of a map[string]interface{} holding `value`: compact, keys sorted (Go sorts
    a map's keys by their bytes, which for UTF-8 is code point order, as Python sorts them),
    and <, >, &, U+2028 and U+2029 escaped as Go's encoder does."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")).encode()
