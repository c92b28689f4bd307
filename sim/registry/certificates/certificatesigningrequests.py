"""CertificateSigningRequests (pkg/registry/certificates/certificates, validation in
pkg/apis/certificates/validation): certificates.k8s.io/v1, cluster-scoped, short name "csr",
with the `status` and `approval` subresources.

A client sends a PEM PKCS#10 request (spec.request), the signer it wants (spec.signerName), the
key usages and optionally a lifetime (spec.expirationSeconds, at least 600 s).  Who asked is the
API server's to say: PrepareForCreate fills spec.username, uid, groups and extra from the
request's user, whatever the client wrote there, and empties the status.  The spec never changes
after that.  Approved and Denied conditions are added through /approval only (`kubectl
certificate approve|deny`), never removed, and exclude each other; the signer writes
status.certificate through /status, once.  Who may approve or sign is checked as the
CertificateApproval and CertificateSigning admission plugins check it: the `approve` or `sign`
verb on the `signers` resource named by the signerName (or by "<domain>/*").
"""
from __future__ import annotations

from typing import Any

from sim.api import certificates as capi
from sim.api import validation as v
from sim.api.gofmt import go_bytes
from sim.api.gotypes import BYTES, INT32, STRING, TIME, Map, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, STRINGS, TYPE_META
from sim.api.validation import GoSyntax
from sim.auth import rbac
from sim.pki import CSRError, certificate_error, parse_csr
from sim.registry.printers import AGE, NAME, Printer, col, human_duration, since
from sim.registry.rbac.policy import path_segment_errors
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy

GROUP = capi.GROUP
APPROVAL = "approval"

CONDITION = struct("v1.CertificateSigningRequestCondition", type=enum("v1.RequestConditionType"),
                   status=enum("v1.ConditionStatus"), reason=STRING, message=STRING, lastUpdateTime=TIME,
                   lastTransitionTime=TIME)
CERTIFICATE_SIGNING_REQUEST = struct(
    "v1.CertificateSigningRequest", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.CertificateSigningRequestSpec", request=BYTES, signerName=STRING, expirationSeconds=INT32,
                usages=Slice(enum("v1.KeyUsage")), username=STRING, uid=STRING, groups=STRINGS,
                extra=Map(STRINGS, "map[string]v1.ExtraValue")),
    status=struct("v1.CertificateSigningRequestStatus", conditions=Slice(CONDITION), certificate=BYTES))
REQUESTER_FIELDS = ("username", "uid", "groups", "extra")


# -- validation (pkg/apis/certificates/validation/validation.go) -----------------------------
def signer_name_errors(field: str, name: Any) -> list:
    """ValidateSignerName: "<domain>/<path>", the domain a DNS name of at least two labels, the
    path DNS subdomains joined by dots, 571 characters at most."""
    if not name:
        return [v.required(field)]
    name = str(name)
    segments = name.split("/")
    if len(segments) != 2:
        return [v.invalid(field, name, "must be a fully qualified domain and path of the form "
                                       "'example.com/signer-name'")]
    errs = []
    domain, path = segments
    if len(domain) > 253:
        errs.append(v.too_long(field, 253))
    labels = domain.split(".")
    for label in labels:
        msgs = v.dns1123_label_errors(label)
        if msgs:
            errs += [v.invalid(field, domain, f'validating label "{label}": {m}') for m in msgs]
            break
    if len(labels) < 2:
        errs.append(v.invalid(field, domain, "should be a domain with at least two segments separated by dots"))
    for label in path.split("."):
        msgs = v.dns1123_subdomain_errors(label)
        if msgs:
            errs += [v.invalid(field, path, f'validating label "{label}": {m}') for m in msgs]
            break
    if len(name) > 253 + 63 + 1 + 253 + 1:
        errs.append(v.too_long(field, 253 + 63 + 1 + 253 + 1))
    return errs


def _conditions_errors(csr: dict, old: dict | None) -> list:
    """validateConditions (tolerating in an update what the stored object already has)."""
    field = "status.conditions"
    conds = capi.conditions(csr)
    old_conds = capi.conditions(old) if old is not None else []
    old_types = [c.get("type") for c in old_conds]
    allow_both = old is not None and capi.APPROVED in old_types and capi.DENIED in old_types
    allow_duplicates = len(old_types) != len(set(old_types))
    allow_empty = "" in old_types or None in old_types
    errs, seen = [], set()
    approved = denied = False
    for i, c in enumerate(conds):
        ctype, status = c.get("type") or "", c.get("status") or ""
        if not ctype and not allow_empty:
            errs.append(v.required(f"{field}[{i}].type"))
        allowed = ("True",) if ctype in (capi.APPROVED, capi.DENIED, capi.FAILED) else ("False", "True", "Unknown")
        if not status:
            errs.append(v.required(f"{field}[{i}].status"))
        elif status not in allowed:
            errs.append(v.not_supported(f"{field}[{i}].status", status, allowed))
        if not allow_both:
            if ctype == capi.APPROVED:
                approved = True
                if denied:
                    errs.append(v.invalid(f"{field}[{i}].type", ctype,
                                          "Approved and Denied conditions are mutually exclusive"))
            elif ctype == capi.DENIED:
                denied = True
                if approved:
                    errs.append(v.invalid(f"{field}[{i}].type", ctype,
                                          "Approved and Denied conditions are mutually exclusive"))
        if not allow_duplicates:
            if ctype in seen:
                errs.append(v.duplicate(f"{field}[{i}].type", ctype))
            seen.add(ctype)
    return errs


def validate(csr: dict, old: dict | None = None) -> list:
    """validateCertificateSigningRequest: any name (ValidateCertificateRequestName: "We don't
    care what you call your certificate requests", a path segment all the same), a request that
    parses and whose signature verifies, usages (known, once each), a signerName, a lifetime of
    at least 600 s, well-formed conditions and a certificate that is PEM X.509 when one is set.
    An update (`old`) tolerates what the stored object already holds, as getValidationOptions."""
    md = csr.get("metadata") if isinstance(csr.get("metadata"), dict) else {}
    name = md.get("name")
    errs = v.validate_object_meta(dict(csr, metadata=dict(md, name="x" if name else "")), namespaced=False)
    if name:
        errs = [v.invalid("metadata.name", name, m) for m in path_segment_errors(name)] + errs
    spec = csr.get("spec") if isinstance(csr.get("spec"), dict) else {}
    request = capi.request_pem(csr) if isinstance(spec.get("request"), str) else None
    try:
        parse_csr(request or b"")
    except CSRError as e:
        errs.append(v.invalid("spec.request", GoSyntax(go_bytes(request)), str(e)))
    usages = list(spec.get("usages") or [])
    if not usages:
        errs.append(v.required("spec.usages"))
    old_usages = list(((old or {}).get("spec") or {}).get("usages") or [])
    if not (old is not None and any(u not in capi.USAGES for u in old_usages)):
        errs += [v.not_supported(f"spec.usages[{i}]", u, capi.USAGES) for i, u in enumerate(usages)
                 if u not in capi.USAGES]
    if not (old is not None and len(set(old_usages)) != len(old_usages)):
        errs += [v.duplicate(f"spec.usages[{i}]", u) for i, u in enumerate(usages) if u in usages[:i]]
    signer = spec.get("signerName")
    if signer == capi.LEGACY_UNKNOWN and ((old or {}).get("spec") or {}).get("signerName") != capi.LEGACY_UNKNOWN:
        errs.append(v.invalid("spec.signerName", signer, "the legacy signerName is not allowed via this API version"))
    else:
        errs += signer_name_errors("spec.signerName", signer)
    seconds = spec.get("expirationSeconds")
    if seconds is not None and seconds < 600:
        errs.append(v.invalid("spec.expirationSeconds", seconds,
                              "may not specify a duration less than 600 seconds (10 minutes)"))
    errs += _conditions_errors(csr, old)
    cert, old_cert = capi.certificate_pem(csr), capi.certificate_pem(old or {})
    arbitrary = old is not None and (cert == old_cert or certificate_error(old_cert) is not None and bool(old_cert))
    if not arbitrary and cert:
        problem = certificate_error(cert)
        if problem:
            errs.append(v.invalid("status.certificate", "<certificate data>", problem))
    return errs


def validate_update(new: dict, old: dict, approval: bool = False, certificate: bool = False) -> list:
    """validateCertificateSigningRequestUpdate: Approved, Denied and Failed conditions are never
    removed; only /approval adds or changes Approved and Denied; only /status sets the
    certificate, and only once; the spec is immutable."""
    errs = validate(new, old)
    for ctype in (capi.APPROVED, capi.DENIED, capi.FAILED):
        if len(_of_type(new, ctype)) < len(_of_type(old, ctype)):
            errs.append(v.forbidden("status.conditions", f'updates may not remove a condition of type "{ctype}"'))
    if not approval:
        for ctype in (capi.APPROVED, capi.DENIED):
            got, had = _of_type(new, ctype), _of_type(old, ctype)
            if len(got) > len(had):
                errs.append(v.forbidden("status.conditions", f'updates may not add a condition of type "{ctype}"'))
            elif len(got) == len(had) and got != had:
                errs.append(v.forbidden("status.conditions", f'updates may not modify a condition of type "{ctype}"'))
    if (new.get("spec") or {}) != (old.get("spec") or {}):
        errs.append(v.invalid("spec", "<spec>", "field is immutable"))
    cert, old_cert = capi.certificate_pem(new), capi.certificate_pem(old)
    if cert != old_cert:
        if not certificate:
            errs.append(v.forbidden("status.certificate", "updates may not set certificate content"))
        elif old_cert:
            errs.append(v.forbidden("status.certificate", "updates may not modify existing certificate content"))
    return errs


def _of_type(csr: dict, ctype: str) -> list[dict]:
    return [c for c in capi.conditions(csr) if c.get("type") == ctype]


# -- the strategies (pkg/registry/certificates/certificates/strategy.go) ----------------------
def populate_condition_timestamps(new: dict, old: dict, now: str) -> None:
    """populateConditionTimestamps: a condition without lastUpdateTime gets now; without
    lastTransitionTime, the old one's of the same type and status, else now."""
    for c in capi.conditions(new):
        if not c.get("lastUpdateTime"):
            c["lastUpdateTime"] = now
        if not c.get("lastTransitionTime"):
            c["lastTransitionTime"] = next(
                (o["lastTransitionTime"] for o in capi.conditions(old)
                 if o.get("type") == c.get("type") and o.get("status") == c.get("status")
                 and o.get("lastTransitionTime")), now)


def preserve_condition_instances(new: dict, old: dict, ctype: str) -> None:
    """preserveConditionInstances: the old instances of `ctype` replace the new ones, when there
    are as many (a /status write cannot change an Approved or Denied condition)."""
    new_conds = (new.get("status") or {}).get("conditions") or []
    new_idx = [i for i, c in enumerate(new_conds) if isinstance(c, dict) and c.get("type") == ctype]
    old_conds = [c for c in capi.conditions(old) if c.get("type") == ctype]
    if len(new_idx) == len(old_conds):
        for i, c in zip(new_idx, old_conds):
            new_conds[i] = deep_copy(c)


def authorized_for_signer(ctx, user: dict, verb: str, signer: str) -> bool:
    """certificates.IsAuthorizedForSignerName: `verb` on signers/<signerName>, or on
    signers/<domain>/* (group certificates.k8s.io)."""
    resolver = rbac.RuleResolver(ctx.cache.objects)
    for name in (signer, signer.split("/")[0] + "/*"):
        if rbac.authorize(resolver, rbac.resource_attributes(user, verb, GROUP, "signers", "", "", name))[0]:
            return True
    return False


class CertificateSigningRequestStrategy(Strategy):
    update_subresources = ("status", APPROVAL)

    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = capi.API_VERSION, "CertificateSigningRequest"
        return obj

    def prepare_for_create(self, res, obj, ctx):
        """Clear any user-specified requester and status ("users cannot create pre-approved
        certificate requests")."""
        spec = obj.get("spec")
        if isinstance(spec, dict):
            for k in REQUESTER_FIELDS:
                spec.pop(k, None)
        obj["status"] = {}

    def record_requester(self, obj, user):
        """"Inject user.Info from request context"."""
        if not user:
            return
        spec = obj.setdefault("spec", {})
        if user.get("username"):
            spec["username"] = user["username"]
        if user.get("uid"):
            spec["uid"] = user["uid"]
        if user.get("groups"):
            spec["groups"] = list(user["groups"])
        if user.get("extra"):
            spec["extra"] = {k: list(vs) for k, vs in user["extra"].items()}

    def validate(self, obj):
        return validate(obj)

    def prepare_for_update(self, res, new, old, ctx):
        """Certificate requests are immutable after creation except via subresources."""
        new = super().prepare_for_update(res, new, old, ctx)
        new["spec"] = deep_copy(old.get("spec") or {})
        return new

    def validate_update(self, new, old):
        return validate_update(new, old)

    def prepare_for_subresource_update(self, res, sub, candidate, old, ctx):
        if sub == APPROVAL:
            # csrApprovalStrategy: only the conditions change, their timestamps filled in.
            new = deep_copy(old)
            conds = deep_copy((candidate.get("status") or {}).get("conditions") or [])
            new.setdefault("status", {})
            if conds:
                new["status"]["conditions"] = conds
            else:
                new["status"].pop("conditions", None)
            populate_condition_timestamps(new, old, ctx.timestamp())
            return new
        # csrStatusStrategy: the spec stays, Approved and Denied conditions are preserved.
        new = self.prepare_for_status_update(res, candidate, old, ctx)
        for ctype in (capi.APPROVED, capi.DENIED):
            preserve_condition_instances(new, old, ctype)
        populate_condition_timestamps(new, old, ctx.timestamp())
        return new

    def validate_subresource_update(self, sub, new, old):
        return validate_update(new, old, approval=sub == APPROVAL, certificate=sub == "status")

    def authorize_write(self, res, obj, old, user, ctx, sub=None):
        """The CertificateApproval admission plugin (a write to /approval: `approve` on the old
        object's signer) and CertificateSigning (a write to /status that changes the
        certificate: `sign` on the signer); plugin/pkg/admission/certificates."""
        if user is None or old is None:
            return None
        if sub == APPROVAL:
            verb, signer = "approve", (old.get("spec") or {}).get("signerName", "")
        elif sub == "status" and capi.certificate_pem(obj) != capi.certificate_pem(old):
            verb, signer = "sign", (old.get("spec") or {}).get("signerName", "")
        else:
            return None
        if authorized_for_signer(ctx, user, verb, signer):
            return None
        return rbac.forbidden_status(GROUP, res.name, old["metadata"]["name"],
                                     f'user not permitted to {verb} requests with signerName "{signer}"')

    def field_type_info(self, res):
        """GetResetFields: the spec and status through the object; the spec and conditions
        through /status; the spec and certificate through /approval."""
        from sim.api.fieldtypes import TypeInfo
        return TypeInfo(res.schema, kind=res.kind, reset_fields={
            "": [("spec",), ("status",)], "status": [("spec",), ("status", "conditions")],
            APPROVAL: [("spec",), ("status", "certificate")]})


# -- printing (pkg/printers/internalversion/printers.go printCertificateSigningRequest) -------
CSR_COLUMNS = [
    NAME, AGE,
    col("SignerName", description="signerName indicates the requested signer, and is a qualified name."),
    col("Requestor", description="request contains an x509 certificate signing request encoded in a "
                                 "\"CERTIFICATE REQUEST\" PEM block. When serialized as JSON or YAML, the data "
                                 "is additionally base64-encoded."),
    col("RequestedDuration", description="expirationSeconds is the requested duration of validity of the issued "
                                         "certificate."),
    col("Condition", description="conditions applied to the request. Known conditions are \"Approved\", "
                                 "\"Denied\", and \"Failed\"."),
]


def csr_row(csr: dict, now: float) -> list[Any]:
    md, spec = csr.get("metadata") or {}, csr.get("spec") or {}
    seconds = spec.get("expirationSeconds")
    return [md.get("name", ""), since(md.get("creationTimestamp"), now), spec.get("signerName") or "<none>",
            spec.get("username", ""), human_duration(seconds) if seconds is not None else "<none>",
            capi.condition_summary(csr)]


RESOURCE = Resource("certificatesigningrequests", GROUP, "v1", "CertificateSigningRequest", False,
                    "/registry/certificatesigningrequests/", ("csr",), "certificatesigningrequest",
                    ("status", APPROVAL), CertificateSigningRequestStrategy(), CERTIFICATE_SIGNING_REQUEST,
                    selectable_fields=COMMON_FIELDS + ("spec.signerName",),
                    printer=Printer(CSR_COLUMNS, csr_row))
