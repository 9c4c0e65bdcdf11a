"""warehouse_maps.safe_load and .limits: one negative case per rule, and the valid cases still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warehouse_maps.errors import InputError
from warehouse_maps.limits import LimitSettingError, limit
from warehouse_maps.safe_load import read_text_capped, safe_json_loads, safe_yaml_load

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('{"a": 1,\n "a": 2}', 2, 'duplicate key "a"'),
        ("[1,\n NaN]", 2, "NaN"),
        ("[-Infinity]", 1, "Infinity"),
        ("[1e400]", 1, "too large"),
        ("[\n\n100000000000000000000000]", 3, "too large"),
        ("[" + "1" * 5000 + "]", 1, "too large"),
        ("[" * 100_000 + "]" * 100_000, 1, "nested deeper than 64"),
        ("[1, 2", 1, "not valid JSON"),
    ],
)
def test_json_refusals_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InputError) as err:
        safe_json_loads(text, "f.json")
    assert err.value.line == line
    assert words in err.value.message
    assert str(err.value).startswith(f"f.json:{line}: ")


def test_json_valid_documents_load_unchanged() -> None:
    doc = {"a": [1, 2.5, -3, True, None, "x[{"], "b": {"a": 1e300, "c": '"quoted ] }'}, "n": 2**63 - 1}
    assert safe_json_loads(json.dumps(doc)) == doc
    nested = "[" * 64 + "]" * 64
    assert safe_json_loads(nested) == json.loads(nested)


def test_json_unterminated_strings_are_answered_in_linear_time() -> None:
    """The line scan stops at the first unterminated string (a quadratic scan would take minutes)."""
    with pytest.raises(InputError, match="not valid JSON"):
        safe_json_loads('["' + '\\"' * 200_000)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first on line 1)"),
        ("x:\n  t: .nan\n", 2, "not a finite number"),
        ("x: -.inf\n", 1, "not a finite number"),
        ("x: 1.0e+400\n", 1, "not a finite number"),
        ("x: 10000000000\n", 1, "larger than"),
        (BOMB, 7, "alias bomb"),
        ("a: &r [1, *r]\n", 1, "recursive alias"),
        ("x: " + "[" * 70 + "]" * 70 + "\n", 1, "nested deeper than 64"),
        ("x: [1, 2\n", None, "not valid YAML"),
    ],
)
def test_yaml_refusals_name_the_line(text: str, line: int | None, words: str) -> None:
    with pytest.raises(InputError) as err:
        safe_yaml_load(text, "f.yaml")
    if line is not None:
        assert err.value.line == line
    assert words in err.value.message


def test_yaml_anchors_merge_keys_and_few_aliases_still_work() -> None:
    data, root = safe_yaml_load("base: &b {p: 1}\nd:\n  <<: *b\n  q: 2\ne: *b\n")
    assert data == {"base": {"p": 1}, "d": {"p": 1, "q": 2}, "e": {"p": 1}}
    assert root is not None
    assert root.start_mark.line == 0


def test_yaml_alias_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BULLETYARD_MAX_YAML_ALIASES", "3")
    text = "a: &a 1\nb: [*a, *a, *a, *a]\n"
    with pytest.raises(InputError, match="more than 3 YAML aliases"):
        safe_yaml_load(text)
    monkeypatch.setenv("BULLETYARD_MAX_YAML_ALIASES", "4")
    assert safe_yaml_load(text)[0] == {"a": 1, "b": [1, 1, 1, 1]}


def test_read_refuses_devices_folders_and_large_files(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        read_text_capped("/dev/zero")
    with pytest.raises(InputError, match="is a directory"):
        read_text_capped(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        read_text_capped(tmp_path / "missing")
    with pytest.raises(InputError, match="not a valid file name"):
        read_text_capped(tmp_path / "a\x00b")
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000 + "\r\n")
    assert read_text_capped(big) == "x" * 2000 + "\n"
    monkeypatch.setenv("BULLETYARD_MAX_FILE_BYTES", "1000")
    with pytest.raises(InputError, match="larger than the limit of 1,000 bytes"):
        read_text_capped(big)
    (tmp_path / "latin.txt").write_bytes(b"ok\n\xff\n")
    with pytest.raises(InputError) as err:
        read_text_capped(tmp_path / "latin.txt")
    assert err.value.line == 2


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert limit("robots") == 5_000
    monkeypatch.setenv("BULLETYARD_MAX_ROBOTS", "20_000")
    assert limit("robots") == 20_000
    for bad in ("0", "-1", "lots", "1.5"):
        monkeypatch.setenv("BULLETYARD_MAX_ROBOTS", bad)
        with pytest.raises(LimitSettingError, match="BULLETYARD_MAX_ROBOTS"):
            limit("robots")
