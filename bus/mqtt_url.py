"""Broker addresses and TLS settings for :class:`bus.mqtt.MqttTransport`, checked up front.

``mqtt://host:port`` is plaintext (default port 1883), ``mqtts://host:port`` is TLS (default
8883). TLS asked for but not usable (no CA file, a missing file, a key without a certificate) is
an error here, before any socket is opened: the adapter never falls back to plaintext. TLS files
given with a plaintext URL are an error too, because they show the operator meant TLS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SCHEMES = {"mqtt": (False, 1883), "mqtts": (True, 8883)}


class BusConfigError(ValueError):
    """A broker URL or TLS setting that cannot work, with the reason."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and whether to speak TLS.

    Attributes:
        host: host name or IP address.
        port: TCP port.
        tls: True for ``mqtts://``.
        username: from ``mqtt://user:pass@host`` (None when absent).
        password: idem.
    """

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``: safe for logs and error messages.

    The password runs from the first ``:`` after the user name to the *last* ``@`` of the URL, as
    :func:`urllib.parse.urlsplit` reads it, so a password holding ``@``, ``/`` or ``:`` is hidden
    whole. Anything unusual errs on hiding too much, never too little.

    >>> redact_url("mqtts://controller:s3cret@edge.local:8883")
    'mqtts://controller:***@edge.local:8883'
    >>> redact_url("mqtts://controller:p@ss/w:rd@edge.local:8883")
    'mqtts://controller:***@edge.local:8883'
    """
    if not isinstance(url, str) or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    at = rest.rfind("@")
    colon = rest.find(":")
    if at < 0 or colon < 0 or colon > at:
        return url  # no user:password@ part
    return f"{scheme}://{rest[:colon]}:***{rest[at:]}"


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse ``mqtt://host[:port]`` or ``mqtts://host[:port]`` (optionally ``user:pass@``).

    >>> parse_broker_url("mqtts://edge.local")
    BrokerAddress(host='edge.local', port=8883, tls=True, username=None, password=None)
    """
    if not isinstance(url, str) or "://" not in url:
        raise BusConfigError(f"broker URL {redact_url(url)!r} must look like mqtt://host:port or mqtts://host:port")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise BusConfigError(
            f"broker URL {redact_url(url)!r}: unsupported scheme {parts.scheme!r} (use mqtt:// or mqtts://; "
            "websockets are not supported)"
        )
    tls, default_port = SCHEMES[scheme]
    if not parts.hostname:
        raise BusConfigError(f"broker URL {redact_url(url)!r} has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise BusConfigError(f"broker URL {redact_url(url)!r}: a path, query or fragment is not allowed")
    try:
        port = parts.port or default_port
    except ValueError as err:
        raise BusConfigError(f"broker URL {redact_url(url)!r}: bad port ({err})") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return BrokerAddress(parts.hostname, port, tls, username, password)


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for TLS: the CA to trust, and an optional client certificate and key."""

    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None


def check_tls(
    address: BrokerAddress, ca_file: str | None, cert_file: str | None, key_file: str | None
) -> TlsFiles | None:
    """TLS files for ``address``, or None for plaintext; raise :class:`BusConfigError` when unusable."""
    given = [name for name, value in (("ca_file", ca_file), ("cert_file", cert_file), ("key_file", key_file))
             if value]
    if not address.tls:
        if given:
            raise BusConfigError(
                f"{', '.join(given)} given for a plaintext mqtt:// broker: use mqtts:// to connect with TLS"
            )
        return None
    if not ca_file:
        raise BusConfigError("mqtts:// needs ca_file (the PEM CA that signed the broker's certificate)")
    if key_file and not cert_file:
        raise BusConfigError("key_file given without cert_file (the client certificate)")
    for name, value in (("ca_file", ca_file), ("cert_file", cert_file), ("key_file", key_file)):
        if value and not os.access(value, os.R_OK):
            raise BusConfigError(f"{name} {value!r} does not exist or is not readable")
    return TlsFiles(ca_file, cert_file, key_file)
