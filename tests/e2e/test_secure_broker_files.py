"""The generated broker files themselves: accounts, ACL text, reload, and refusals of bad input."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from bulletyard.secure_broker import SecureBrokerError, SecureBrokerSetup, acl_text, generate_secure_broker
from bulletyard.system import System

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def test_setup_reloads_with_the_same_accounts_and_keeps_secrets_private(tmp_path: Path) -> None:
    setup = generate_secure_broker(
        tmp_path / "b", robots=["agv-0007", "agv-0009"], tls_port=18883, sorters=["sorter-a"], site="hub2"
    )
    again = SecureBrokerSetup.load(tmp_path / "b")
    assert again == setup
    assert again.robots() == ["agv-0007", "agv-0009"]
    assert setup.url_for("wms").startswith("mqtts://wms:")
    with pytest.raises(SecureBrokerError, match="no plaintext listener"):
        setup.url_for("wms", tls=False)
    for name in ("ca.key", "server.key", "passwd", "acl", "credentials.json"):
        assert not (tmp_path / "b" / name).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO), name
    config = setup.config_file.read_text()
    assert "allow_anonymous false" in config
    assert config.count("listener ") == 1
    acl = setup.acl_file.read_text()
    assert "topic write bulletyard/v1/hub2/orders" in acl
    assert "topic read bulletyard/v1/hub2/sorter/sorter-a/destination" in acl
    assert "user agv-0008" not in acl


def test_plain_listener_only_when_asked(tmp_path: Path) -> None:
    setup = generate_secure_broker(tmp_path / "b", robots=1, tls_port=18883, plain_port=18884)
    assert setup.config_file.read_text().count("listener ") == 2
    assert setup.plain_url == "mqtt://127.0.0.1:18884"


def test_bad_names_and_duplicates_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SecureBrokerError, match="used twice"):
        generate_secure_broker(tmp_path / "a", robots=["agv-0001"], sorters=["agv-0001"], tls_port=1)
    with pytest.raises(ValueError, match="site"):
        generate_secure_broker(tmp_path / "b", robots=1, site="a/b", tls_port=1)
    with pytest.raises(SecureBrokerError, match="not a generated broker setup"):
        SecureBrokerSetup.load(tmp_path / "nothing")


def test_acl_has_one_block_per_account_and_nothing_else() -> None:
    from bulletyard.secure_broker import BrokerAccount

    text = acl_text([BrokerAccount("agv-0001", "x", "robot")], site="site1", manufacturer="bulletyard")
    rules = [line for line in text.splitlines() if line.startswith("topic")]
    assert rules == [
        "topic write uagv/v2/bulletyard/agv-0001/state",
        "topic write uagv/v2/bulletyard/agv-0001/connection",
        "topic write uagv/v2/bulletyard/agv-0001/factsheet",
        "topic write uagv/v2/bulletyard/agv-0001/visualization",
        "topic read uagv/v2/bulletyard/agv-0001/order",
        "topic read uagv/v2/bulletyard/agv-0001/instantActions",
    ]
    assert "pattern" not in text


SECRETS = ("ca.key", "server.key", "passwd", "acl", "credentials.json")


def test_secrets_are_born_private_never_narrowed_afterwards(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Even under umask 000 every secret is 0600 from its creation: nothing is written with a
    wider mode and chmod'ed later (a reader could open it in between)."""
    changed: list[str] = []
    real_chmod = os.chmod

    def recording_chmod(path: object, mode: int, **kwargs: object) -> None:
        changed.append(Path(str(path)).name)  # Path.chmod comes here too
        real_chmod(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "chmod", recording_chmod)
    old_umask = os.umask(0)
    try:
        setup = generate_secure_broker(tmp_path / "b", robots=2, tls_port=18883)
        password_file = setup.password_file_for("controller")
    finally:
        os.umask(old_umask)
    for name in SECRETS:
        assert stat.S_IMODE((tmp_path / "b" / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(password_file.parent.stat().st_mode) == 0o700
    assert password_file.read_text() == setup.account("controller").password
    assert not set(changed) & {*SECRETS, "controller"}, changed
    assert stat.S_IMODE(setup.ca_file.stat().st_mode) == 0o644  # the public certificate stays readable


def test_no_password_on_any_command_line_of_up(tmp_path: Path) -> None:
    """``bulletyard up`` points each child at its password file; no password is in an argv."""
    setup = generate_secure_broker(tmp_path / "b", robots=3, tls_port=18883, station_line=True)
    system = System(setup, tmp_path, layout="fc", robots=3, sorting_line=True)
    commands = system.commands()
    passwords = [a.password for a in setup.accounts.values()]
    for name, argv in commands.items():
        assert not [p for p in passwords if any(p in arg for arg in argv)], name
    for name, user in (("controller", "controller"), ("sorter", "sorter-1"), ("feeder", "wms")):
        argv = commands[name]
        assert argv[argv.index("--username") + 1] == user
        assert Path(argv[argv.index("--password-file") + 1]).read_text() == setup.account(user).password
    assert "--layout" in commands["sorter"]  # fc has a conveyor sorter: its sorting line runs
    assert "--sortation" not in commands["controller"]  # the controller drives it (serve's default)
    without = System(setup, tmp_path, layout="fc", robots=3, parts=("broker", "controller", "fleet"))
    assert without.commands()["controller"][-2:] == ["--sortation", "off"]  # nobody would sort
    acl = setup.acl_file.read_text()
    assert "topic read bulletyard/v1/site1/orderStatus" in acl.split("user sorter-1")[1]
