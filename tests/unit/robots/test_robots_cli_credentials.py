"""``bulletyard robots`` login options: bad credentials files and routes are one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulletyard.cli import main

BASE = ["robots", "--broker", "mqtts://127.0.0.1:1", "--layout", "small-fc", "--count", "2"]


@pytest.mark.parametrize(
    ("content", "extra", "needle"),
    [
        (None, [], "No such file"),
        ("{not json", [], "not JSON"),
        ('["agv-0001"]', [], "expected a JSON object"),
        ('{"agv-0001": "pw-one"}', [], "no password for agv-0002"),
        ('{"agv-0001": "pw-one", "agv-0002": "pw-two"}', ["--route", "agv-0002"], "SERIAL=HOST:PORT"),
        ('{"agv-0001": "pw-one", "agv-0002": "pw-two"}', ["--keepalive", "0"], "--keepalive"),
    ],
)
def test_bad_logins_are_one_clear_error(tmp_path: Path, capsys, content, extra, needle) -> None:  # noqa: ANN001
    creds = tmp_path / "credentials.json"
    if content is not None:
        creds.write_text(content)
    code = main([*BASE, "--credentials", str(creds), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1
    assert "pw-one" not in err
    assert "pw-two" not in err


def test_credentials_file_as_broker_setup_writes_it_is_accepted(tmp_path: Path) -> None:
    from bulletyard.commands.robots_cmd import load_credentials

    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"controller": "c", "agv-0001": "a", "agv-0002": "b", "wms": "w"}))
    assert load_credentials(creds, ["agv-0001", "agv-0002"]) == {"agv-0001": "a", "agv-0002": "b"}
