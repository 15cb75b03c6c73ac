"""TLS for the IRC listener: a self-signed certificate made on first start, the server
context, and client-certificate fingerprints for SASL EXTERNAL (CertFP).

The hard part: EXTERNAL needs the server to *request* a client certificate and accept any
self-signed one, then compare its SHA-256 fingerprint with those registered to accounts.
Python's ``ssl`` has no verify callback, and ``CERT_OPTIONAL`` aborts the handshake when
a presented certificate does not chain to a trusted CA, which every CertFP certificate
fails. So ``server_context`` installs an accept-all verify callback on the context's
``SSL_CTX`` through ctypes (the same libssl the ``_ssl`` module uses). That relies on the
CPython layout of ``SSLContext`` (the ``SSL_CTX *`` right after the object header, stable
since 2.7), so it is checked before use: the pointer must report the same verify mode and
options as the Python object. When the check fails (another interpreter, static OpenSSL)
we fall back to ``CERT_OPTIONAL`` with ``VERIFY_X509_PARTIAL_CHAIN``, where only
certificates passed as ``trusted_client_certs`` are accepted and any other client
certificate fails the handshake; with none to trust we do not request certificates at all
(``CERT_NONE``) so that every client can still connect. See docs/security.md.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime
import hashlib
import ipaddress
import os
import ssl
import sys
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from chatroom.server.store.private import FILE_MODE, private_dir

# ``cryptography`` (about 10 MB resident once imported) is needed only to make the
# self-signed certificate, once, on the first start: it is imported there, not here.
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "CERT_FILENAME",
    "KEY_FILENAME",
    "TLS12_CIPHERS",
    "accepts_any_client_cert",
    "cert_fingerprint_sha256",
    "ensure_self_signed",
    "fingerprint_der",
    "peer_fingerprint",
    "server_context",
]

CERT_FILENAME = "tls-cert.pem"
KEY_FILENAME = "tls-key.pem"
VALIDITY = datetime.timedelta(days=3650)
# A TLS handshake on the IRC port must finish within this many seconds (asyncio's default
# is 60): a connection is counted in the limits only once its session exists, after the
# handshake, so a silent handshake must not hold a socket for long.
HANDSHAKE_SECONDS = 10.0
# TLS 1.2 suites: ephemeral ECDH key exchange (forward secrecy) and an AEAD cipher only
# (AES-GCM, ChaCha20-Poly1305), with ECDSA or RSA certificates. Python's default list also
# offers AES-CBC with HMAC (the "Lucky 13" family of padding-oracle attacks).
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"


def ensure_self_signed(data_dir: Path, hostname: str) -> tuple[Path, Path]:
    """Return ``(cert, key)`` paths in ``data_dir``, creating them on first start.

    Existing files are reused as they are: clients pin the certificate (like SSH host
    keys), so replacing it would look like an attack to every one of them.
    """
    cert_path, key_path = data_dir / CERT_FILENAME, data_dir / KEY_FILENAME
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_dir(data_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = _self_signed_cert(key, hostname).public_bytes(serialization.Encoding.PEM)
    _write_atomically(key_path, key_pem, mode=FILE_MODE)
    _write_atomically(cert_path, cert_pem, mode=FILE_MODE)  # public, but 0600 like all
    return cert_path, key_path


def _self_signed_cert(key: ec.EllipticCurvePrivateKey, hostname: str) -> x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname or "localhost")])
    alt_names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    try:
        host_entry: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        host_entry = x509.DNSName(hostname)
    if hostname and host_entry not in alt_names:
        alt_names.insert(0, host_entry)
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    # A proper end-entity profile (CA:FALSE, key usages, key identifiers) so strict
    # verifiers such as Python 3.13's default VERIFY_X509_STRICT accept it when pinned.
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Write via a temporary file created with ``mode``, so the key is never world-readable."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed or os.open reused a file
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def fingerprint_der(der: bytes) -> str:
    """The CertFP form used everywhere: SHA-256, lowercase hex, no colons."""
    return hashlib.sha256(der).hexdigest()


_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
_PEM_END = "-----END CERTIFICATE-----"


def cert_fingerprint_sha256(cert_path: Path) -> str:
    """Fingerprint of the first certificate in a PEM file (what clients pin).

    The DER bytes are the base64 between the PEM markers; the file has been loaded into
    the TLS context already, which is what checks that it is a certificate at all."""
    text = cert_path.read_text(encoding="ascii", errors="replace")
    start = text.find(_PEM_BEGIN)
    end = text.find(_PEM_END, start)
    if start < 0 or end < 0:
        raise ValueError(f"{cert_path}: no PEM certificate in it")
    return fingerprint_der(ssl.PEM_cert_to_DER_cert(text[start : end + len(_PEM_END)]))


def peer_fingerprint(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str | None:
    """The client certificate's fingerprint, or None when it sent none.

    ``ssl_object`` is what ``transport.get_extra_info("ssl_object")`` returns.
    """
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return fingerprint_der(der) if der else None


_ACCEPT_ANY: weakref.WeakSet[ssl.SSLContext] = weakref.WeakSet()


def accepts_any_client_cert(context: ssl.SSLContext) -> bool:
    """True when ``context`` got the accept-all callback, i.e. CertFP works for everyone."""
    return context in _ACCEPT_ANY


def server_context(
    cert_path: Path, key_path: Path, *, trusted_client_certs: Iterable[str] = ()
) -> ssl.SSLContext:
    """A TLS 1.2+ server context that requests (never requires) a client certificate.

    TLS 1.2 offers only ``TLS12_CIPHERS``; TLS 1.3 suites are all AEAD with forward
    secrecy already and are not affected by ``set_ciphers``.

    ``trusted_client_certs`` (PEM strings) only matter in the fallback described in the
    module docstring.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.load_cert_chain(cert_path, key_path)
    context.verify_mode = ssl.CERT_OPTIONAL
    if _install_accept_all_verify(context):
        _ACCEPT_ANY.add(context)
        return context
    trusted = "\n".join(trusted_client_certs)
    if not trusted:
        context.verify_mode = ssl.CERT_NONE
        return context
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cadata=trusted)
    return context


# int verify_callback(int preverify_ok, X509_STORE_CTX *ctx)
_VerifyCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


def _accept_any(_preverify_ok: int, _store: int | None) -> int:
    """Accept whatever the client sent; the fingerprint decides later, per account."""
    return 1


# Kept at module level: OpenSSL holds the raw pointer for the life of every context.
_ACCEPT_ANY_CALLBACK = _VerifyCallback(_accept_any)


def _install_accept_all_verify(context: ssl.SSLContext) -> bool:
    libssl = _libssl()
    if libssl is None or sys.implementation.name != "cpython":
        return False
    address = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not address:
        return False
    try:
        get_mode = libssl.SSL_CTX_get_verify_mode
        get_mode.argtypes, get_mode.restype = [ctypes.c_void_p], ctypes.c_int
        get_options = libssl.SSL_CTX_get_options
        get_options.argtypes, get_options.restype = [ctypes.c_void_p], ctypes.c_uint64
        set_verify = libssl.SSL_CTX_set_verify
        set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VerifyCallback]
        set_verify.restype = None
    except AttributeError:
        return False
    # Prove the pointer is this context's SSL_CTX before writing through it.
    if get_mode(address) != int(context.verify_mode) or get_options(address) != int(
        context.options
    ):
        return False
    context.verify_mode = ssl.CERT_NONE
    if get_mode(address) != int(ssl.CERT_NONE):
        return False
    context.verify_mode = ssl.CERT_OPTIONAL
    # SSL_VERIFY_PEER (1) without FAIL_IF_NO_PEER_CERT: request, do not require.
    set_verify(address, 1, _ACCEPT_ANY_CALLBACK)
    return True


def _libssl() -> ctypes.CDLL | None:
    """The libssl already loaded by ``_ssl``, confirmed by its version number."""
    for candidate in [*_loaded_libssl_paths(), ctypes.util.find_library("ssl")]:
        if not candidate:
            continue
        try:
            lib = ctypes.CDLL(candidate)
            version = lib.OpenSSL_version_num
            version.argtypes, version.restype = [], ctypes.c_ulong
            if version() == ssl.OPENSSL_VERSION_NUMBER:
                return lib
        except (OSError, AttributeError):
            continue
    return None


def _loaded_libssl_paths() -> list[str]:
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split()[-1] for line in maps if "libssl" in line and "/" in line}
    except OSError:
        return []
    return sorted(paths)
