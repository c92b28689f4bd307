"""The serving certificate of the Kubernetes API's HTTPS port.

kubectl (client-go's clientcmd) sends a kubeconfig's credentials - a bearer token, --token, --as -
only to an https server: over plain http it drops them.  So `manage.py demo --tls-port N` also
serves everything on N over TLS with a self-signed certificate for 127.0.0.1 and localhost (and
the host it serves on), made once and kept in PILOTHOUSE_TLS_DIR (default var/tls), as kubeadm
makes the apiserver's serving certificate; the kubeconfig the control API hands out carries it
as certificate-authority-data.  Made with `cryptography` (a dependency of daphne's autobahn);
Twisted serves it through pyOpenSSL."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from django.conf import settings

CERT_NAME, KEY_NAME = "apiserver.crt", "apiserver.key"
VALID_DAYS = 3650


def tls_dir() -> Path:
    return Path(os.environ.get("PILOTHOUSE_TLS_DIR") or settings.BASE_DIR / "var" / "tls")


def tls_port() -> int:
    """The HTTPS port this process serves on (set by `manage.py demo --tls-port`), 0 for none."""
    try:
        return int(os.environ.get("PILOTHOUSE_TLS_PORT", "0"))
    except ValueError:
        return 0


def ensure_certificate(host: str = "127.0.0.1") -> tuple[Path, Path]:
    """(certificate, key) paths, made if missing: a self-signed certificate with SANs for
    127.0.0.1, ::1, localhost and `host`."""
    directory = tls_dir()
    cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pilothouse-apiserver")])
    sans: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                    x509.IPAddress(ipaddress.ip_address("::1"))]
    try:
        ip = ipaddress.ip_address(host)
        if ip not in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")) and not ip.is_unspecified:
            sans.append(x509.IPAddress(ip))
    except ValueError:
        if host and host != "localhost":
            sans.append(x509.DNSName(host))
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def certificate_pem() -> bytes | None:
    path = tls_dir() / CERT_NAME
    return path.read_bytes() if path.exists() else None
