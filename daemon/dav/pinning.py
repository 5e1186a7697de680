"""Trusting exactly one certificate, named by its SHA-256 fingerprint (a self-hosted server's).

Verification stays on: the server's certificate is read once, its fingerprint compared with the
pinned one, and the TLS context then trusts that certificate alone (no system CAs), so every
later handshake must present exactly it. The host name is not checked against the
certificate: the fingerprint names the certificate more precisely than any name in it, and a
home server is often reached by an address its certificate does not list.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading

from daemon.errors import CertificatePinMismatch, NetworkError
from daemon.i18n import _

_FETCH_TIMEOUT = 15.0
# (host, port, pin) -> the certificate (DER) that matched, so a process fetches it once.
_matched: dict[tuple[str, int, str], bytes] = {}
_lock = threading.Lock()


def _fetch_certificate(host: str, port: int) -> bytes:
    """The certificate the server presents (DER), read without trusting it yet."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE  # only to read it; it is compared before any trust
    try:
        with (
            socket.create_connection((host, port), timeout=_FETCH_TIMEOUT) as raw,
            probe.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise NetworkError(
            _("The server {host} cannot be reached ({reason}).").format(
                host=f"{host}:{port}", reason=exc
            )
        ) from exc
    if not der:
        raise CertificatePinMismatch(
            _("The server {host} presented no certificate.").format(host=f"{host}:{port}")
        )
    return der


def check_pin(host: str, port: int, pin: str) -> bytes:
    """The server's certificate (DER) if its fingerprint is `pin`; else a clear refusal."""
    key = (host, port, pin)
    with _lock:
        known = _matched.get(key)
    if known is not None:
        return known
    der = _fetch_certificate(host, port)
    got = hashlib.sha256(der).hexdigest()
    if got != pin:
        raise CertificatePinMismatch(
            _(
                "The server {host} presented a certificate other than the one pinned at setup "
                "(its SHA-256 fingerprint is {got}, the pinned one is {pin}). Either the "
                "server's certificate was replaced (ask whoever runs it for the new fingerprint "
                "and run setup again with it) or someone is intercepting the connection. "
                "congsync did not connect."
            ).format(host=f"{host}:{port}", got=got, pin=pin)
        )
    with _lock:
        _matched[key] = der
    return der


def pinned_context(host: str, port: int, pin: str) -> ssl.SSLContext:
    """A client context that trusts the certificate with fingerprint `pin`, and nothing else."""
    der = check_pin(host, port, pin)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False  # see the module's description
    context.verify_mode = ssl.CERT_REQUIRED
    # The pinned certificate is the trust anchor itself, CA or not.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cadata=der)
    return context
