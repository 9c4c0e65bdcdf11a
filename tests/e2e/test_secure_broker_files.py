"""The generated broker files themselves: accounts, ACL text, reload, and refusals of bad input."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from bulletyard.secure_broker import SecureBrokerError, SecureBrokerSetup, acl_text, generate_secure_broker

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
