"""The cluster's PKI: its certificate authority (kubeadm's `ca`, /etc/kubernetes/pki/ca.crt and
ca.key, which kube-controller-manager signs with as --cluster-signing-cert-file/-key-file and
publishes as --root-ca-file), what its signers issue (pkg/controller/certificates/authority) and
what a kubelet's TLS bootstrap makes (client-go util/cert MakeCSR, util/keyutil).

Real X.509, made with `cryptography`, and deterministic, so that a run replays byte for byte:
keys are ECDSA P-256 keys derived from a seed (the CA's from a secret of the cluster, a
kubelet's from the kernel's seeded random generator), signatures are RFC 6979 deterministic
ECDSA, times come from the virtual clock and serial numbers from the kernel's generator.
Nothing here reads os.urandom or the wall clock.  `cryptography` is imported when first used.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sim.api.meta import EPOCH

# kubeadm's defaults: the CA for 10 years (caCertificateValidityPeriod 87600h0m0s);
# kube-controller-manager's --cluster-signing-duration 8760h0m0s (a year).
CA_VALIDITY = 10 * 365 * 24 * 3600
CA_COMMON_NAME = "kubernetes"
# authority.PermissiveSigningPolicy as csrsigning sets it (signer.go newSigner).
BACKDATE = 5 * 60
SHORT = 8 * 3600
_PEM = re.compile(r"-----BEGIN ([^-\r\n]+)-----\r?\n(.*?)-----END \1-----", re.S)


def _x509():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    return x509, hashes, serialization, ec, ExtendedKeyUsageOID, NameOID


def instant(api_seconds: float) -> dt.datetime:
    """The wall-clock instant of an API time (sim.api.meta: EPOCH + seconds), whole seconds as
    X.509 keeps them."""
    return EPOCH + dt.timedelta(seconds=int(api_seconds))


def api_seconds(when: dt.datetime) -> float:
    """The inverse of instant(): seconds since EPOCH, as Component.api_now counts them."""
    return (when - EPOCH).total_seconds()


def derive_key(seed: bytes):
    """An ECDSA P-256 private key derived from `seed` (its scalar: SHA-256 of the seed, reduced
    into [1, n-1]); keyutil.MakeEllipticPrivateKeyPEM draws the same kind of key at random."""
    _, _, _, ec, _, _ = _x509()
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256's order
    scalar = int.from_bytes(hashlib.sha256(seed).digest(), "big") % (n - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def key_from_rng(rng):
    """A private key drawn from the kernel's seeded generator (a kubelet's kubelet-client key)."""
    return derive_key(rng.getrandbits(256).to_bytes(32, "big"))


def _sign_args() -> dict:
    return {"ecdsa_deterministic": True}


def pem_blocks(data: bytes | str) -> list[tuple[str, bytes]]:
    """encoding/pem.Decode, block after block: (type, DER bytes); text around them is skipped,
    a block whose body is not base64 ends the list."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    out = []
    for m in _PEM.finditer(text):
        body = "".join(line.strip() for line in m.group(2).splitlines() if ":" not in line)
        try:
            out.append((m.group(1), base64.b64decode(body, validate=True)))
        except ValueError:
            break
    return out


def pem(block_type: str, der: bytes) -> str:
    b64 = base64.b64encode(der).decode()
    return f"-----BEGIN {block_type}-----\n" + "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64)) + \
        f"-----END {block_type}-----\n"


# -- certificate requests ------------------------------------------------------------------
class CSRError(ValueError):
    """ParseCSR / CheckSignature failed; the message is Go's."""


@dataclass(frozen=True)
class CertificateRequest:
    """The parts of an x509.CertificateRequest the API server and the controllers read."""
    der: bytes
    common_name: str
    organizations: tuple[str, ...]
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    emails: tuple[str, ...]
    uris: tuple[str, ...]
    public_key_der: bytes     # SubjectPublicKeyInfo (x509.MarshalPKIXPublicKey)
    rsa: bool                 # an RSA key: its client certificates also need "key encipherment"


@lru_cache(maxsize=256)
def parse_csr(pem_bytes: bytes) -> CertificateRequest:
    """pkg/apis/certificates ParseCSR, then CheckSignature: the first PEM block must be a
    CERTIFICATE REQUEST holding a PKCS#10 request whose signature verifies.  CSRError says why not."""
    x509, _, serialization, _, _, NameOID = _x509()
    blocks = pem_blocks(pem_bytes)
    if not blocks or blocks[0][0] != "CERTIFICATE REQUEST":
        raise CSRError("PEM block type must be CERTIFICATE REQUEST")
    der = blocks[0][1]
    try:
        req = x509.load_der_x509_csr(der)
        subject = req.subject
        cn = [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        orgs = tuple(a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
        key = req.public_key()
    except ValueError as e:
        raise CSRError(f"x509: malformed certificate request ({e})") from None
    if not req.is_signature_valid:
        from cryptography.hazmat.primitives.asymmetric import ec as ec_, rsa
        raise CSRError("x509: ECDSA verification failure" if isinstance(key, ec_.EllipticCurvePublicKey)
                       else "crypto/rsa: verification error" if isinstance(key, rsa.RSAPublicKey)
                       else "x509: signature verification failure")
    try:
        sans = req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = None
    return CertificateRequest(
        der, str(cn[0]) if cn else "", tuple(str(o) for o in orgs),
        tuple(sans.get_values_for_type(x509.DNSName)) if sans else (),
        tuple(str(ip) for ip in sans.get_values_for_type(x509.IPAddress)) if sans else (),
        tuple(sans.get_values_for_type(x509.RFC822Name)) if sans else (),
        tuple(sans.get_values_for_type(x509.UniformResourceIdentifier)) if sans else (),
        key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        _is_rsa(key))


def _is_rsa(key) -> bool:
    from cryptography.hazmat.primitives.asymmetric import rsa
    return isinstance(key, rsa.RSAPublicKey)


def make_csr(key, common_name: str, organizations: list[str] | tuple[str, ...]) -> str:
    """certutil.MakeCSR(key, &pkix.Name{CommonName, Organization}, nil, nil): a PEM CERTIFICATE
    REQUEST signed with `key` (deterministically)."""
    x509, hashes, serialization, _, _, NameOID = _x509()
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
                     + [x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    req = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256(), **_sign_args())
    return req.public_bytes(serialization.Encoding.PEM).decode()


def public_key_der(key) -> bytes:
    _, _, serialization, _, _, _ = _x509()
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_key_pem(key) -> str:
    _, _, serialization, _, _, _ = _x509()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


# -- the certificate authority -----------------------------------------------------------------
class SigningError(ValueError):
    """The authority refused to sign; the message is upstream's."""


# authority/policies.go keyUsageDict and extKeyUsageDict, by the certificates API's names.
_KEY_USAGES = {"signing": "digital_signature", "digital signature": "digital_signature",
               "content commitment": "content_commitment", "key encipherment": "key_encipherment",
               "key agreement": "key_agreement", "data encipherment": "data_encipherment",
               "cert sign": "key_cert_sign", "crl sign": "crl_sign", "encipher only": "encipher_only",
               "decipher only": "decipher_only"}
_EXT_KEY_USAGES = {"any": "ANY_EXTENDED_KEY_USAGE", "server auth": "SERVER_AUTH", "client auth": "CLIENT_AUTH",
                   "code signing": "CODE_SIGNING", "email protection": "EMAIL_PROTECTION",
                   "s/mime": "EMAIL_PROTECTION", "ipsec end system": "IPSEC_IKE", "ipsec tunnel": "IPSEC_IKE",
                   "ipsec user": "IPSEC_IKE", "timestamping": "TIME_STAMPING", "ocsp signing": "OCSP_SIGNING"}
_EXT_ORDER = ("ANY_EXTENDED_KEY_USAGE", "SERVER_AUTH", "CLIENT_AUTH", "CODE_SIGNING", "EMAIL_PROTECTION",
              "IPSEC_IKE", "TIME_STAMPING", "OCSP_SIGNING")


class CertificateAuthority:
    """authority.CertificateAuthority: the CA certificate and its key."""

    def __init__(self, key, certificate):
        self.key, self.certificate = key, certificate
        _, _, serialization, _, _, _ = _x509()
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        self.not_after = api_seconds(certificate.not_valid_after_utc)

    @classmethod
    def for_cluster(cls, secret: str, start: float) -> "CertificateAuthority":
        """kubeadm's `certs/ca` phase (pkiutil.NewCertificateAuthority): a self-signed CA named
        "kubernetes", valid for 10 years from `start` (API seconds), its key and serial number
        derived from the cluster's `secret` (the same cluster makes the same CA every time)."""
        x509, hashes, _, _, _, NameOID = _x509()
        key = derive_key(f"pilothouse/cluster-ca/{secret}".encode())
        serial = int.from_bytes(hashlib.sha256(f"pilothouse/cluster-ca-serial/{secret}".encode()).digest()[:16],
                                "big") | 1
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(serial)
                .not_valid_before(instant(start)).not_valid_after(instant(start + CA_VALIDITY))
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256(), **_sign_args()))
        return cls(key, cert)

    def spki_sha256(self) -> str:
        """pubkeypin.Hash: what --discovery-token-ca-cert-hash pins, "sha256:<hex>" of the CA's
        SubjectPublicKeyInfo."""
        return "sha256:" + hashlib.sha256(public_key_der(self.key)).hexdigest()

    def sign(self, request: CertificateRequest, usages: list[str], ttl: float, now: float, serial: int) -> str:
        """CertificateAuthority.Sign with PermissiveSigningPolicy (authority.go, policies.go): the
        request's subject and SANs, the usages asked for, NotBefore 5 minutes back (not for a
        certificate shorter-lived than 8 hours' NotAfter), NotAfter at most the CA's; no other
        extension.  `now` is API seconds, `serial` the certificate's serial number.  A PEM
        CERTIFICATE, or SigningError."""
        x509, hashes, serialization, _, EKU, _ = _x509()
        now = float(int(now))   # X.509 keeps whole seconds: NotAfter - NotBefore is the TTL exactly
        if not now - BACKDATE < self.not_after:
            raise SigningError(f"the signer has expired: NotAfter={self.not_after_text()}")
        key_usage, ext = set(), set()
        unrecognized = []
        for u in usages:
            if u in _KEY_USAGES:
                key_usage.add(_KEY_USAGES[u])
            elif u in _EXT_KEY_USAGES:
                ext.add(_EXT_KEY_USAGES[u])
            else:
                unrecognized.append(u)
        if unrecognized:
            raise SigningError("unrecognized usage values: [" + " ".join(f'"{u}"' for u in unrecognized) + "]")
        not_before = now - BACKDATE
        not_after = now + ttl - BACKDATE if ttl >= SHORT else now + ttl
        not_after = min(not_after, self.not_after)
        if not now < self.not_after:
            raise SigningError(f"refusing to sign a certificate that expired in the past: "
                               f"NotAfter={self.not_after_text()}")
        req = x509.load_der_x509_csr(request.der)
        builder = (x509.CertificateBuilder().subject_name(req.subject).issuer_name(self.certificate.subject)
                   .public_key(req.public_key()).serial_number(serial)
                   .not_valid_before(instant(not_before)).not_valid_after(instant(not_after)))
        if key_usage:
            flags = {f: f in key_usage for f in ("digital_signature", "content_commitment", "key_encipherment",
                                                 "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                                                 "encipher_only", "decipher_only")}
            builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
        if ext:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([getattr(EKU, e) for e in _EXT_ORDER if e in ext]), critical=False)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        sans: list[Any] = [x509.DNSName(d) for d in request.dns_names]
        sans += [x509.RFC822Name(e) for e in request.emails]
        sans += [x509.UniformResourceIdentifier(u) for u in request.uris]
        if request.ip_addresses:
            import ipaddress
            sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in request.ip_addresses]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256(), **_sign_args())
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    def not_after_text(self) -> str:
        """time.Time's String() of NotAfter, as %v prints it in upstream's errors."""
        return instant(self.not_after).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def certificate_not_after(pem_bytes: bytes) -> float | None:
    """The NotAfter (API seconds) of the first certificate in a PEM bundle (cert.ParseCertsPEM),
    None when none parses."""
    x509 = _x509()[0]
    for block_type, der in pem_blocks(pem_bytes):
        if block_type != "CERTIFICATE":
            continue
        try:
            return api_seconds(x509.load_der_x509_certificate(der).not_valid_after_utc)
        except ValueError:
            return None
    return None


def certificate_error(pem_bytes: bytes) -> str | None:
    """validateCertificate (pkg/apis/certificates/validation): status.certificate must be one or
    more CERTIFICATE PEM blocks without headers, each an X.509 certificate; None when it is."""
    x509 = _x509()[0]
    text = pem_bytes.decode("latin-1")
    blocks = 0
    for m in _PEM.finditer(text):
        if m.group(1) != "CERTIFICATE":
            return f'only CERTIFICATE PEM blocks are allowed, found "{m.group(1)}"'
        lines = m.group(2).splitlines()
        if any(":" in line for line in lines):
            return "no PEM block headers are permitted"
        try:
            der = base64.b64decode("".join(line.strip() for line in lines), validate=True)
            x509.load_der_x509_certificate(der)
        except ValueError:
            return "x509: malformed certificate"
        blocks += 1
    return None if blocks else "must contain at least one CERTIFICATE PEM block"
