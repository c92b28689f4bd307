"""Writes cluster/api/protobuf_workloads.py: the protobuf message descriptors (field numbers,
JSON names, types) of the workload kinds kubectl's typed clients send as protobuf - `kubectl
create cronjob`, `kubectl create job [--from=cronjob/x]` from 1.32 on - read from the
FileDescriptorProtos that gogo-protobuf embeds, gzipped, in every kubectl binary up to 1.33
(k8s.io/api's generated.proto), so the numbers are upstream's own, not typed in by hand.

    python -m cluster.api.protobuf_generate /usr/lib/google-cloud-sdk/bin/kubectl.1.33

What a descriptor cannot say - which Go fields are pointers, whose zero value is kept in JSON
when set (`suspend: false`, `backoffLimit: 0`, `runAsUser: 0`) - is the POINTERS table below,
from k8s.io/api's types.go; every other scalar is read as omitempty.  Embedded Go structs
(Volume's VolumeSource, Probe's ProbeHandler) are fields in protobuf and inlined in JSON.
"""
from __future__ import annotations

import re
import sys
import zlib

from cluster.api.protobuf import fields

ROOTS = {("batch/v1", "CronJob"): ".k8s.io.api.batch.v1.CronJob", ("batch/v1", "Job"): ".k8s.io.api.batch.v1.Job"}

# Descriptors cluster/api/protobuf.py already has, by protobuf type name.
SHARED = {".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta": "OBJECT_META",
          ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector": "LABEL_SELECTOR",
          ".k8s.io.apimachinery.pkg.apis.meta.v1.Time": "TIME",
          ".k8s.io.apimachinery.pkg.api.resource.Quantity": "QUANTITY",
          ".k8s.io.apimachinery.pkg.util.intstr.IntOrString": "INT_OR_STRING",
          ".k8s.io.apimachinery.pkg.apis.meta.v1.Condition": "CONDITION",
          ".k8s.io.api.core.v1.ObjectReference": "OBJECT_REFERENCE",
          ".k8s.io.api.core.v1.LocalObjectReference": "LOCAL_OBJECT_REFERENCE"}

# Embedded structs: a field in protobuf, their fields inlined in JSON.  LocalObjectReference is
# embedded wherever it appears as `localObjectReference` (the key selectors, the env and volume
# sources and projections of ConfigMaps and Secrets).
INLINE = {("Volume", "volumeSource"), ("Probe", "handler"), ("EphemeralContainer", "ephemeralContainerCommon")}
INLINE_ANYWHERE = {"localObjectReference"}

# Pointer scalars (k8s.io/api types.go): kept when on the wire, even when zero.
POINTERS = {
    "PodSpec": {"terminationGracePeriodSeconds", "activeDeadlineSeconds", "automountServiceAccountToken",
                "shareProcessNamespace", "priority", "enableServiceLinks", "preemptionPolicy", "runtimeClassName",
                "setHostnameAsFQDN", "hostUsers"},
    "Container": {"restartPolicy"},
    "EphemeralContainerCommon": {"restartPolicy"},
    "SecurityContext": {"privileged", "runAsUser", "runAsGroup", "runAsNonRoot", "readOnlyRootFilesystem",
                        "allowPrivilegeEscalation", "procMount"},
    "PodSecurityContext": {"runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup", "fsGroupChangePolicy",
                           "supplementalGroupsPolicy", "seLinuxChangePolicy"},
    "SeccompProfile": {"localhostProfile"}, "AppArmorProfile": {"localhostProfile"},
    "WindowsSecurityContextOptions": {"gmsaCredentialSpecName", "gmsaCredentialSpec", "runAsUserName", "hostProcess"},
    "Toleration": {"tolerationSeconds"},
    "Probe": {"terminationGracePeriodSeconds"},
    "GRPCAction": {"service"},
    "Lifecycle": {"stopSignal"},
    "VolumeMount": {"mountPropagation", "recursiveReadOnly"},
    "ConfigMapKeySelector": {"optional"}, "SecretKeySelector": {"optional"},
    "ConfigMapEnvSource": {"optional"}, "SecretEnvSource": {"optional"},
    "ConfigMapVolumeSource": {"defaultMode", "optional"}, "SecretVolumeSource": {"defaultMode", "optional"},
    "ProjectedVolumeSource": {"defaultMode"}, "DownwardAPIVolumeSource": {"defaultMode"},
    "KeyToPath": {"mode"}, "DownwardAPIVolumeFile": {"mode"},
    "ConfigMapProjection": {"optional"}, "SecretProjection": {"optional"},
    "ServiceAccountTokenProjection": {"expirationSeconds"},
    "ClusterTrustBundleProjection": {"name", "signerName", "optional"},
    "HostPathVolumeSource": {"type"},
    "CSIVolumeSource": {"readOnly", "fsType"},
    "PersistentVolumeClaimSpec": {"storageClassName", "volumeMode", "volumeAttributesClassName"},
    "TopologySpreadConstraint": {"minDomains", "nodeAffinityPolicy", "nodeTaintsPolicy"},
    "PodDNSConfigOption": {"value"},
    "PodFailurePolicyOnExitCodesRequirement": {"containerName"},
    "SuccessPolicyRule": {"succeededIndexes", "succeededCount"},
    "JobSpec": {"parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "backoffLimitPerIndex",
                "maxFailedIndexes", "manualSelector", "ttlSecondsAfterFinished", "completionMode", "suspend",
                "podReplacementPolicy", "managedBy"},
    "JobStatus": {"ready", "terminating"},
    "CronJobSpec": {"timeZone", "startingDeadlineSeconds", "suspend", "successfulJobsHistoryLimit",
                    "failedJobsHistoryLimit"},
    "ImageVolumeSource": set(), "ResourceClaim": set(),
}

SCALARS = {9: "string", 8: "bool", 5: "int32", 3: "int64", 12: "bytes"}


def file_descriptors(binary: bytes) -> list[bytes]:
    """The gzipped FileDescriptorProtos of k8s.io's generated.proto files in a Go binary."""
    out = []
    for m in re.finditer(rb"\x1f\x8b\x08\x00\x00\x00\x00\x00", binary):
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(binary[m.start():m.start() + 3_000_000])
            name = next((v for n, w, v in fields(raw) if n == 1 and w == 2), b"")
        except Exception:  # noqa: BLE001 - not a descriptor
            continue
        if name.startswith(b"k8s.io/"):
            out.append(raw)
    return out


def index(files: list[bytes]) -> dict[str, dict]:
    """Every message by its full type name: {"name", "fields": [(name, number, label, type,
    type_name)], "map_entry"}."""
    messages: dict[str, dict] = {}

    def add(prefix: str, data: bytes) -> None:
        name, flds, nested, map_entry = "", [], [], False
        for n, w, v in fields(data):
            if n == 1:
                name = v.decode()
            elif n == 2:
                f = {k: val for k, _, val in fields(v)}
                flds.append((f[1].decode(), f[3], f.get(4, 1), f.get(5), (f.get(6) or b"").decode()))
            elif n == 3:
                nested.append(v)
            elif n == 7:
                map_entry = any(k == 7 and val for k, _, val in fields(v))
        full = f"{prefix}.{name}"
        messages[full] = {"name": name, "fields": flds, "map_entry": map_entry}
        for sub in nested:
            add(full, sub)

    for raw in files:
        top = fields(raw)
        package = next(v for n, w, v in top if n == 2).decode()
        for n, w, v in top:
            if n == 4:
                add(f".{package}", v)
    return messages


def generate(binary_path: str) -> str:
    messages = index(file_descriptors(open(binary_path, "rb").read()))
    order: list[str] = []
    names: dict[str, str] = {}

    def var(full: str) -> str:
        if full in SHARED:
            return SHARED[full]
        if full not in names:
            parts = full.split(".")
            names[full] = "_".join(p for p in (parts[-3] if parts[-3] != "api" else "", parts[-1]) if p).upper()
            for _, _, _, _, tn in messages[full]["fields"]:
                if tn and not messages.get(tn, {}).get("map_entry"):
                    var(tn)
                elif tn:
                    for _, _, _, _, etn in messages[tn]["fields"]:
                        if etn:
                            var(etn)
            order.append(full)
        return names[full]

    def typ(ftype: int, tn: str) -> str:
        if ftype == 11:
            return var(tn)
        if ftype not in SCALARS:
            raise ValueError(f"unsupported protobuf type {ftype} ({tn})")
        return repr(SCALARS[ftype])

    roots = {key: var(full) for key, full in ROOTS.items()}
    lines = []
    for full in order:
        msg = messages[full]
        entries = []
        for name, number, label, ftype, tn in sorted(msg["fields"], key=lambda f: f[1]):
            if ftype == 11 and messages.get(tn, {}).get("map_entry"):
                key, val = sorted(messages[tn]["fields"], key=lambda f: f[1])
                kind, flag = f'("map", {typ(key[3], key[4])}, {typ(val[3], val[4])})', "True"
            elif label == 3:
                kind, flag = f'("repeated", {typ(ftype, tn)})', "True"
            elif (msg["name"], name) in INLINE or name in INLINE_ANYWHERE:
                kind, flag = f'("inline", {typ(ftype, tn)})', "True"
            else:
                kind = typ(ftype, tn)
                pointer = ftype == 11 or name in POINTERS.get(msg["name"], ())
                flag = "POINTER" if pointer else "True"
            entries.append(f'{number}: ("{name}", {kind}, {flag})')
        lines.append(f"# {full[1:]}\n{names[full]} = {{\n    " + ",\n    ".join(entries) + "}")
    header = (f'"""GENERATED by cluster/api/protobuf_generate.py from {binary_path.rsplit("/", 1)[-1]}\'s embedded '
              "k8s.io/api\ndescriptors: do not edit; regenerate.  The protobuf messages of the kinds "
              'ROOTS lists (see there)."""\n'
              "# flake8: noqa\n"
              "from cluster.api.protobuf import (CONDITION, INT_OR_STRING, LABEL_SELECTOR, LOCAL_OBJECT_REFERENCE,\n"
              "                                  OBJECT_META, OBJECT_REFERENCE, POINTER, QUANTITY, TIME)\n\n")
    footer = "\n\nKINDS = {\n" + "".join(f"    {key!r}: {v},\n" for key, v in roots.items()) + "}\n"
    return header + "\n".join(lines) + footer


if __name__ == "__main__":
    sys.stdout.write(generate(sys.argv[1]))
