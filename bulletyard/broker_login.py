"""Broker logins without a password on the command line, and files only their owner can read.

Why: a password given as ``--broker mqtts://user:PASSWORD@host`` or ``--password`` is readable
by every user of the machine in ``ps`` and ``/proc/PID/cmdline``, and lands in shell histories
and in the logs of whatever starts the process. Every command that logs in to the broker takes
``--username`` and the password from ``--password-file`` (read once, stripped of the final
newline) or from the environment variable ``BULLETYARD_MQTT_PASSWORD``; a password inside the
URL still works for a quick try on a laptop, and is never logged (:func:`bus.mqtt_url.redact_url`).

:func:`write_private` creates a file with mode 0600 from the start (``os.open`` with the mode and
``O_EXCL``), so there is no moment in which another user could open it, as there is between a
plain write and a later ``chmod``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bulletyard.errors import UsageError
from warehouse_maps.errors import InputError
from warehouse_maps.safe_load import read_text_capped

PASSWORD_ENV = "BULLETYARD_MQTT_PASSWORD"
"""Environment variable holding the broker password when no ``--password-file`` is given."""


def add_login_options(p: argparse.ArgumentParser) -> None:
    """``--username`` and ``--password-file`` (the password is never an option's value)."""
    p.add_argument("--username", default=None, help="broker user name")
    p.add_argument(
        "--password-file",
        type=Path,
        default=None,
        help=f"file holding the broker password (or set {PASSWORD_ENV}); never put it on the command line",
    )


def password(args: argparse.Namespace) -> str | None:
    """The password from ``--password-file``, else ``$BULLETYARD_MQTT_PASSWORD``, else None.

    Raises:
        UsageError: the file cannot be read (names the file and why).
    """
    if args.password_file is not None:
        try:  # a regular file within the size limit (a password file of /dev/zero would never end)
            return read_text_capped(args.password_file).rstrip("\r\n")
        except InputError as err:
            raise UsageError(f"--password-file {err}") from None
    return os.environ.get(PASSWORD_ENV)


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` as a new file of mode 0600 (an old file there is replaced).

    The file is created with its final mode, never widened or narrowed afterwards; the umask can
    only narrow it further.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def private_folder(path: Path) -> Path:
    """``path`` as a folder of mode 0700 (created so; an existing one is narrowed to 0700)."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path
