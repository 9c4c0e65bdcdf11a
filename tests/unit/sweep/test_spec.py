"""The sweep spec: its grid, its cell ids, and one clear error line for each kind of bad spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletyard.sweep.spec import load_spec
from bulletyard.sweep.yamlfile import SpecError

GOOD = """\
name: fc-sizing
layouts: [small-fc]
robots: {from: 2, to: 6, step: 2}
seeds: [1, 2]
profiles:
  - steady
  - {name: peak, multiplier: 4, duration_s: 600}
rate_per_h: 360
until_s: 1800
faults: {delays: "0.01,1,5"}
target: {lines_per_hour: 500, profile: peak}
"""


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def test_grid_is_the_cross_product_in_a_stable_order(tmp_path: Path) -> None:
    spec, cells = load_spec(_spec(tmp_path, GOOD))
    assert len(cells) == 2 * 3 * 2
    assert [(c.profile_label, c.robots, c.seed) for c in cells[:3]] == [
        ("steady", 2, 1), ("steady", 2, 2), ("steady", 4, 1)
    ]
    peak = cells[-1]
    assert (peak.profile, peak.peak_factor, peak.peak_duration_s) == ("peak", 4.0, 600.0)
    assert peak.delays == "0.01,1,5"
    # enough orders to cover the run: 360/h x 4 for 1,800 s, plus a margin
    assert peak.orders == 360 * 4 // 2 + 20
    assert len({c.id for c in cells}) == len(cells)
    assert spec.target is not None


def test_cell_ids_depend_on_the_cell_not_on_the_rest_of_the_spec(tmp_path: Path) -> None:
    _, cells = load_spec(_spec(tmp_path, GOOD))
    _, more = load_spec(_spec(tmp_path, GOOD.replace("seeds: [1, 2]", "seeds: [1, 2, 3]")))
    assert {c.id for c in cells} < {c.id for c in more}
    _, other = load_spec(_spec(tmp_path, GOOD.replace("rate_per_h: 360", "rate_per_h: 400")))
    assert not {c.id for c in cells} & {c.id for c in other}


def test_a_layout_file_is_found_beside_the_spec(tmp_path: Path) -> None:
    from warehouse_maps.catalog import bundled_path

    (tmp_path / "site.yaml").write_text(bundled_path("small-fc").read_text())
    _, cells = load_spec(_spec(tmp_path, "layouts: site.yaml\nrobots: 2\norders: 3\n"))
    assert cells[0].layout == str(tmp_path / "site.yaml")
    assert cells[0].id.startswith("site-r2-steady-s1-")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("layouts: [small-fc]\nrobots: [2]\norders: 3\nrobot: 4\n", "spec.yaml:4: key robot: unknown key"),
        ("layouts: [small-fc]\nrobots: [2, x]\norders: 3\n",
         "spec.yaml:2: key robots.1: Input should be a valid integer"),
        ("layouts: [small-fc, nowhere]\nrobots: [2]\norders: 3\n",
         "spec.yaml:1: key layouts.1: unknown layout 'nowhere'"),
        ("layouts: small-fc\nrobots: 2\norders: 3\nfaults:\n  delays: '1,2'\n",
         "spec.yaml:4: key faults: --delays '1,2'"),
        ("layouts: small-fc\nrobots: 2\norders: 3\nprofiles:\n  - {name: peak, multiplier: 0.5}\n",
         "spec.yaml:5: key profiles.0.multiplier: Input should be greater than 1"),
        ("layouts: small-fc\nrobots: 2\n", "spec.yaml:1: give orders, or rate_per_h and until_s"),
        ("layouts: small-fc\nrobots: 2\norders: 3\ntarget: {lines_per_hour: 9, profile: rush}\n",
         "spec.yaml:4: key target.profile: 'rush' is not one of the spec's profiles"),
        ("layouts: [small-fc\n", "spec.yaml:2: not valid YAML"),
        ("- just\n- a list\n", "spec.yaml:1: a sweep spec is a mapping"),
    ],
)
def test_a_bad_spec_is_one_line_naming_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(_spec(tmp_path, text))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / expected.split(":")[0]))
    assert expected in message.replace(str(tmp_path) + "/", "")
