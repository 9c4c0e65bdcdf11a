"""Throw-away PKI for TLS tests: a CA, a broker certificate for 127.0.0.1, a client certificate.

Made with the ``openssl`` command line in the test's temp folder (skips when openssl is absent,
fails under CI). Nothing here is used outside tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Pki:
    """Paths of the generated PEM files."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _signed(name: str, subject: str, ca: str, folder: Path, ext: str | None) -> None:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", subject, cwd=folder)
    args = ["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2"]
    if ext:
        (folder / f"{name}.ext").write_text(ext)
        args += ["-extfile", f"{name}.ext"]
    _openssl(*args, cwd=folder)


def make_pki(folder: Path) -> Pki:
    """Generate the files in ``folder`` (about a second of CPU)."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI"):
            pytest.fail("openssl is needed for the TLS tests")
        pytest.skip("openssl is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    for ca in ("ca", "other_ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                 "-days", "2", "-subj", f"/CN=bulletyard test {ca}", cwd=folder)
    _signed("server", "/CN=127.0.0.1", "ca", folder, "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _signed("client", "/CN=agv-0001", "ca", folder, None)
    for path in folder.iterdir():
        path.chmod(0o644)  # the broker may run as its own user
    folder.chmod(0o755)
    return Pki(folder / "ca.crt", folder / "server.crt", folder / "server.key", folder / "client.crt",
               folder / "client.key", folder / "other_ca.crt")
