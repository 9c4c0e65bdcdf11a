"""A secure local Mosquitto setup in one folder: TLS with a generated CA, a password file, per-client ACLs.

``bulletyard up`` and the end-to-end tests use it so that a first run already looks like a real
deployment: the broker listens with TLS on loopback only, refuses anonymous clients, and every
account may touch only its own topics:

* each robot ``agv-NNNN`` may publish only ``uagv/v2/{manufacturer}/agv-NNNN/{state,connection,
  factsheet,visualization}`` and read only its own ``order`` and ``instantActions``;
* the ``controller`` account reads and writes all of ``uagv/#`` and ``bulletyard/v1/#``;
* each sorter account (named after its sorter id) publishes only its own outbound sorter topics
  and reads its own ``destination`` topic (a simulated sorting line, ``station_line=True``, also
  reads the WMS ``orders`` and ``orderStatus`` and its own ``divertConfirm``: it plays the pick
  stations' conveyor, which puts each picked unit on the sorter);
* the ``wms`` account may publish only ``bulletyard/v1/{site}/orders`` and read ``orderStatus``;
* the ``monitor`` account may only read (``uagv/#`` and ``bulletyard/v1/#``): ``bulletyard up``
  watches retained connection topics with it to know when every process is ready, and tests and
  dashboards count messages with it.

Certificates come from the ``openssl`` command line (the ``cryptography`` package is not a
dependency and OpenSSL is on every box that runs Mosquitto with TLS): an EC P-256 CA and a
server certificate for the loopback address and any extra host names. Passwords are random
(``secrets``) and written in Mosquitto's own ``$7$`` format (PBKDF2-HMAC-SHA512, the format
``mosquitto_passwd`` writes), computed here so 500 accounts cost milliseconds, not 500 processes.
The clear-text passwords go to ``credentials.json`` for the local processes that ``bulletyard
up`` starts (on a real site each vehicle is given only its own), and a process that logs in as one
account reads its password from ``secrets/<account>`` (:meth:`SecureBrokerSetup.password_file_for`),
never from its command line. Every secret (keys, password files, ACLs, credentials) is created
with mode 0600 from the start (:func:`bulletyard.broker_login.write_private`; ``openssl`` runs
under umask 077), never written first and narrowed afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import stat
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bulletyard.broker_login import private_folder, write_private
from bus.topics import (
    VDA_INTERFACE,
    VDA_MAJOR,
    check_level,
    sorter_filter,
    wms_order_status_topic,
    wms_orders_topic,
)

VDA_PREFIX = f"{VDA_INTERFACE}/{VDA_MAJOR}"
ROBOT_PUBLISHES = ("state", "connection", "factsheet", "visualization")
ROBOT_READS = ("order", "instantActions")
SORTER_PUBLISHES = ("inducted", "destinationRequest", "divertConfirm", "chuteState", "state", "connection")
SORTER_READS = ("destination",)
LINE_READS = ("divertConfirm",)
"""A simulated sorting line also reads its own confirmations (a rejected unit goes round again)."""
PBKDF2_ITERATIONS = 101
"""What ``mosquitto_passwd`` 2.0 uses; the passwords are 192-bit random tokens, not words."""


class SecureBrokerError(RuntimeError):
    """The setup could not be generated (no ``openssl``, a failing command) or read back."""


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    """One MQTT login: user name (also the client id we use), password and role."""

    username: str
    password: str
    role: str
    """``controller``, ``robot``, ``sorter``, ``wms`` or ``monitor``."""


@dataclass(frozen=True)
class SecureBrokerSetup:
    """Paths and accounts of a generated setup (``setup.json`` in ``folder`` reloads it).

    Attributes:
        folder: where every file lives.
        host: the loopback address the listeners bind to (and the certificate names).
        tls_port: port of the TLS listener.
        plain_port: port of the optional plaintext listener (None: there is none).
        site: site level of the bulletyard topics.
        manufacturer: VDA 5050 manufacturer of the robots.
        accounts: user name to account.
    """

    folder: Path
    host: str
    tls_port: int
    plain_port: int | None
    site: str
    manufacturer: str
    accounts: dict[str, BrokerAccount] = field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        """``mosquitto.conf``: start the broker with ``mosquitto -c`` on it."""
        return self.folder / "mosquitto.conf"

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients must trust (``--ca-file``)."""
        return self.folder / "ca.crt"

    @property
    def password_file(self) -> Path:
        """Mosquitto password file (``$7$`` hashes)."""
        return self.folder / "passwd"

    @property
    def acl_file(self) -> Path:
        """Mosquitto ACL file."""
        return self.folder / "acl"

    @property
    def credentials_file(self) -> Path:
        """Clear-text passwords for the local processes (mode 0600)."""
        return self.folder / "credentials.json"

    @property
    def tls_url(self) -> str:
        """``mqtts://host:port`` without credentials."""
        return f"mqtts://{self.host}:{self.tls_port}"

    @property
    def plain_url(self) -> str | None:
        """``mqtt://host:port`` of the plaintext listener, if asked for."""
        return None if self.plain_port is None else f"mqtt://{self.host}:{self.plain_port}"

    def url_for(self, username: str, *, tls: bool = True) -> str:
        """Broker URL carrying ``username``'s credentials (the passwords are URL-safe tokens)."""
        account = self.account(username)
        if tls:
            port, scheme = self.tls_port, "mqtts"
        elif self.plain_port is not None:
            port, scheme = self.plain_port, "mqtt"
        else:
            raise SecureBrokerError("this setup has no plaintext listener")
        return f"{scheme}://{account.username}:{account.password}@{self.host}:{port}"

    def password_file_for(self, username: str) -> Path:
        """``secrets/<username>`` holding that account's password (mode 0600 in a 0700 folder),
        written now: give it to the process with ``--username <username> --password-file``."""
        folder = private_folder(self.folder / "secrets")
        return write_private(folder / username, self.account(username).password)

    def account(self, username: str) -> BrokerAccount:
        """The account called ``username``; a clear error if there is none."""
        try:
            return self.accounts[username]
        except KeyError:
            raise SecureBrokerError(f"no broker account {username!r} in {self.folder}") from None

    def robots(self) -> list[str]:
        """Robot user names in order."""
        return [a.username for a in self.accounts.values() if a.role == "robot"]

    @staticmethod
    def load(folder: Path) -> SecureBrokerSetup:
        """Read a setup written by :func:`generate_secure_broker`."""
        folder = Path(folder)
        try:
            data = json.loads((folder / "setup.json").read_text())
            secrets_by_user = json.loads((folder / "credentials.json").read_text())
        except (OSError, ValueError) as err:
            raise SecureBrokerError(f"{folder}: not a generated broker setup ({err})") from None
        accounts = {name: BrokerAccount(name, secrets_by_user[name], role)
                    for name, role in data["roles"].items()}
        return SecureBrokerSetup(folder, data["host"], data["tls_port"], data["plain_port"], data["site"],
                                 data["manufacturer"], accounts)


def robot_serials(count: int) -> list[str]:
    """``agv-0001`` ... ``agv-{count:04d}``: the serial numbers ``bulletyard robots`` uses."""
    return [f"agv-{i:04d}" for i in range(1, count + 1)]


def mosquitto_password_hash(password: str, *, salt: bytes | None = None,
                            iterations: int = PBKDF2_ITERATIONS) -> str:
    """Mosquitto's ``$7$`` hash: ``$7$iterations$base64(salt)$base64(PBKDF2-HMAC-SHA512)``."""
    salt = secrets.token_bytes(12) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def acl_text(accounts: Sequence[BrokerAccount], *, site: str, manufacturer: str,
             station_line: bool = False) -> str:
    """The Mosquitto ACL file: one ``user`` block per account, nothing for anyone else.

    ``station_line``: sorter accounts also read what a simulated sorting line needs (WMS orders
    and statuses, their own divert confirmations)."""
    lines = ["# generated by bulletyard.secure_broker: each account may touch only its own topics", ""]
    sorter_prefix = sorter_filter(site).rsplit("/", 2)[0]  # bulletyard/v1/{site}/sorter
    for account in accounts:
        name = account.username
        lines.append(f"user {name}")
        if account.role == "controller":
            lines += ["topic readwrite uagv/#", "topic readwrite bulletyard/v1/#"]
        elif account.role == "robot":
            base = f"{VDA_PREFIX}/{manufacturer}/{name}"
            lines += [f"topic write {base}/{kind}" for kind in ROBOT_PUBLISHES]
            lines += [f"topic read {base}/{kind}" for kind in ROBOT_READS]
        elif account.role == "sorter":
            lines += [f"topic write {sorter_prefix}/{name}/{kind}" for kind in SORTER_PUBLISHES]
            lines += [f"topic read {sorter_prefix}/{name}/{kind}" for kind in SORTER_READS]
            if station_line:
                lines += [f"topic read {sorter_prefix}/{name}/{kind}" for kind in LINE_READS]
                lines += [f"topic read {t}" for t in (wms_orders_topic(site), wms_order_status_topic(site))]
        elif account.role == "wms":
            lines += [f"topic write {wms_orders_topic(site)}", f"topic read {wms_order_status_topic(site)}"]
        elif account.role == "monitor":
            lines += ["topic read uagv/#", "topic read bulletyard/v1/#"]
        else:
            raise SecureBrokerError(f"unknown role {account.role!r} for {name!r}")
        lines.append("")
    return "\n".join(lines)


def mosquitto_config(setup: SecureBrokerSetup, *, persistence: bool = False) -> str:
    """``mosquitto.conf`` for a setup: a TLS listener, an optional plaintext one, auth everywhere."""
    f = setup.folder
    lines = [
        "# generated by bulletyard.secure_broker",
        *_user_line(f),
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {setup.password_file}",
        f"acl_file {setup.acl_file}",
        "",
        f"listener {setup.tls_port} {setup.host}",
        f"cafile {setup.ca_file}",
        f"certfile {f / 'server.crt'}",
        f"keyfile {f / 'server.key'}",
        "tls_version tlsv1.2",
    ]
    if setup.plain_port is not None:
        lines += ["", "# plaintext, asked for explicitly (same accounts and ACLs)",
                  f"listener {setup.plain_port} {setup.host}"]
    lines += ["", f"persistence {'true' if persistence else 'false'}"]
    if persistence:
        lines.append(f"persistence_location {f / 'data'}/")
    lines += ["log_dest stderr",
              "log_type error", "log_type warning", "log_type notice", "connection_messages true",
              "max_queued_messages 100000", ""]
    return "\n".join(lines)


def _user_line(folder: Path) -> list[str]:
    """``user root`` when run as root on a folder the ``mosquitto`` user cannot reach.

    Mosquitto started as root drops to its ``mosquitto`` user before reading the password file;
    a folder under a private parent (pytest's temp folders, ``/root``) would then be unreadable.
    """
    if os.geteuid() != 0:
        return []
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.stat().st_mode & stat.S_IXOTH:
            return [f"# {parent} is private to root: do not drop privileges", "user root"]
    return []


def _openssl(args: list[str], folder: Path) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        raise SecureBrokerError("the openssl command is needed to make TLS certificates "
                                "(apt-get install openssl)")
    done = subprocess.run([exe, *args], cwd=folder, capture_output=True, text=True, timeout=60, check=False,
                          umask=0o077)  # keys are born private; certificates are widened below
    if done.returncode != 0:
        raise SecureBrokerError(f"openssl {args[0]} failed in {folder}: {done.stderr.strip()[-500:]}")


def make_certificates(folder: Path, *, hostnames: Sequence[str], days: int = 825) -> None:
    """An EC P-256 CA (``ca.crt``/``ca.key``) and a server certificate signed by it for ``hostnames``.

    Names that parse as IPv4/IPv6 addresses go in as ``IP:`` subject alternative names, the others as
    ``DNS:``; clients check the broker's name against them.
    """
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(["req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.crt", "-days", str(days),
              "-subj", "/CN=bulletyard local CA", "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], folder)
    alt = ",".join(f"IP:{h}" if _is_ip(h) else f"DNS:{h}" for h in hostnames)
    (folder / "server.ext").write_text(
        f"subjectAltName={alt}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    _openssl(["req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={hostnames[0]}"],
             folder)
    _openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
              "-out", "server.crt", "-days", str(days), "-extfile", "server.ext"], folder)
    for leftover in ("server.csr", "server.ext", "ca.srl"):
        (folder / leftover).unlink(missing_ok=True)


def _is_ip(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def generate_secure_broker(
    folder: Path,
    *,
    robots: int | Sequence[str],
    tls_port: int,
    sorters: Sequence[str] = ("sorter-1",),
    site: str = "site1",
    manufacturer: str = "bulletyard",
    host: str = "127.0.0.1",
    hostnames: Sequence[str] = (),
    plain_port: int | None = None,
    persistence: bool = False,
    station_line: bool = False,
) -> SecureBrokerSetup:
    """Write CA, server certificate, password file, ACLs and ``mosquitto.conf`` into ``folder``.

    Args:
        folder: created if missing; existing files of a previous setup are replaced.
        robots: a count (serials ``agv-0001``...) or the serial numbers themselves.
        tls_port: port of the TLS listener on ``host``.
        sorters: sorter ids; each gets an account of the same name.
        site: site level of the bulletyard topics (``bulletyard/v1/{site}/...``).
        manufacturer: VDA 5050 manufacturer level of the robot topics.
        host: address both listeners bind to (loopback by default).
        hostnames: extra names for the server certificate (``localhost`` and ``host`` are always in).
        plain_port: also listen in plaintext on this port (same accounts and ACLs); None for none.
        persistence: keep retained messages and sessions across broker restarts (in ``folder/data``).
        station_line: the sorter accounts may read what a simulated sorting line needs
            (see :func:`acl_text`).
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    serials = robot_serials(robots) if isinstance(robots, int) else list(robots)
    check_level(site, "site")
    check_level(manufacturer, "manufacturer")
    roles = {"controller": "controller", "wms": "wms", "monitor": "monitor"}
    for name in [*serials, *sorters]:
        check_level(name, "account name")
        if name in roles:
            raise SecureBrokerError(f"account name {name!r} is used twice")
        roles[name] = "robot" if name in serials else "sorter"
    accounts = {name: BrokerAccount(name, secrets.token_urlsafe(24), role) for name, role in roles.items()}
    setup = SecureBrokerSetup(folder, host, tls_port, plain_port, site, manufacturer, accounts)

    names = list(dict.fromkeys([host, "localhost", *hostnames]))
    make_certificates(folder, hostnames=names)
    write_private(setup.password_file, "".join(f"{a.username}:{mosquitto_password_hash(a.password)}\n"
                                               for a in accounts.values()))
    write_private(setup.acl_file, acl_text(list(accounts.values()), site=site, manufacturer=manufacturer,
                                           station_line=station_line))
    setup.config_file.write_text(mosquitto_config(setup, persistence=persistence))
    (folder / "data").mkdir(exist_ok=True)
    (folder / "setup.json").write_text(json.dumps(
        {"host": host, "tls_port": tls_port, "plain_port": plain_port, "site": site,
         "manufacturer": manufacturer, "roles": roles}, indent=1) + "\n")
    passwords = {a.username: a.password for a in accounts.values()}
    write_private(setup.credentials_file, json.dumps(passwords, indent=1))
    _restrict(setup)
    return setup


def _restrict(setup: SecureBrokerSetup) -> None:
    """Let everyone read the certificates; when run as root, hand the broker's files to ``mosquitto``.

    The secrets are 0600 from birth. Mosquitto started as root drops to its ``mosquitto`` user
    before it reads certificates and the password file, so those must be readable by that user
    but not by everyone.
    """
    folder = setup.folder
    for public in (setup.ca_file, folder / "server.crt"):
        public.chmod(0o644)  # openssl wrote them under umask 077: widen the public ones only
    if os.geteuid() != 0:
        return
    try:
        import pwd

        broker_user = pwd.getpwnam("mosquitto")
    except (KeyError, ImportError):
        return
    for path in [folder / "server.key", setup.password_file, setup.acl_file, folder / "data"]:
        os.chown(path, broker_user.pw_uid, broker_user.pw_gid)
    folder.chmod(0o755)
