"""A throwaway certificate authority for a TLS engine on loopback: a CA, a server
certificate for 127.0.0.1 (serverAuth) and a client certificate (clientAuth), as PEM files.
Used by tests and bench/, so it depends on nothing from pytest."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Material:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca(root: Path, name: str = "dockhand-test-ca") -> Material:
    """A CA and the certificates it signs, written below `root`."""
    root.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = _key()
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(common: str, usage: x509.ObjectIdentifier, server: bool) -> tuple[bytes, Any]:
        key = _key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), key

    material = Material(
        ca=root / "ca.pem",
        server_cert=root / "server-cert.pem",
        server_key=root / "server-key.pem",
        client_cert=root / "cert.pem",
        client_key=root / "key.pem",
    )
    material.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pem, key = leaf("127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH, server=True)
    material.server_cert.write_bytes(pem)
    _write_key(key, material.server_key)
    pem, key = leaf("dockhand", ExtendedKeyUsageOID.CLIENT_AUTH, server=False)
    material.client_cert.write_bytes(pem)
    _write_key(key, material.client_key)
    return material


def dockerd_tls_args(material: Material, port: int) -> tuple[str, ...]:
    """dockerd flags for a second listener: TLS on a loopback port, clients verified."""
    return (
        "--host",
        f"tcp://127.0.0.1:{port}",
        "--tlsverify",
        "--tlscacert",
        str(material.ca),
        "--tlscert",
        str(material.server_cert),
        "--tlskey",
        str(material.server_key),
    )
