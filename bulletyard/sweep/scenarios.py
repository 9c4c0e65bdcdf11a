"""A scenarios file for ``bulletyard check``: site simulations with KPI thresholds.

Each scenario is one :func:`bulletyard.simulate` call (layout, fleet, orders, profile, faults,
controller options) and a list of thresholds such as ``lines_per_hour >= 900``,
``collisions == 0`` or ``cycle_time_p95_s <= 600``; a threshold names a :class:`bulletyard.api.Kpis`
field. The file is checked completely before anything runs (``docs/testing-your-site.md``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bulletyard.api import Kpis
from bulletyard.sweep.spec import ControllerSpec, FaultsSpec, ProfileSpec, _layout_ref
from bulletyard.sweep.yamlfile import SpecError, read_yaml, validate, where
from warehouse_maps.limits import env_name, limit

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, "<": operator.lt,
}
METRICS = tuple(f.name for f in fields(Kpis))
_THRESHOLD = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|==|!=|>|<)\s*(-?[0-9][0-9_]*(?:\.[0-9]+)?)\s*$")


@dataclass(frozen=True, slots=True)
class Threshold:
    """``metric op value``; a metric the run could not measure (``None``) fails it."""

    metric: str
    op: str
    value: float

    def holds(self, kpis: Kpis) -> bool:
        """True when the run's KPI meets the threshold."""
        actual = getattr(kpis, self.metric)
        return actual is not None and OPS[self.op](float(actual), self.value)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


class ScenarioSpec(BaseModel):
    """One scenario of the file."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="letters, digits, - _ . (a folder name)")
    layout: str = "small-fc"
    robots: int = Field(10, ge=1)
    orders: int = Field(50, ge=0)
    order_file: str | None = None
    profile: ProfileSpec = ProfileSpec(name="steady")
    rate_per_h: float | None = Field(None, gt=0)
    seed: int = Field(1, ge=0, lt=2**64)
    until_s: float | None = Field(None, gt=0)
    faults: FaultsSpec = FaultsSpec()
    controller: ControllerSpec = ControllerSpec()
    expect: tuple[str, ...] = Field(min_length=1, description="thresholds, e.g. lines_per_hour >= 900")

    @field_validator("profile", mode="before")
    @classmethod
    def _profile_name(cls, v: object) -> object:
        return {"name": v} if isinstance(v, str) else v

    def simulate_kwargs(self, base_dir: Path) -> dict[str, Any]:
        """Keyword arguments of :func:`bulletyard.simulate` (without ``out``)."""
        f, c, p = self.faults, self.controller, self.profile
        order_file = None if self.order_file is None else str((base_dir / self.order_file).resolve())
        return {
            "layout": _layout_ref(self.layout, base_dir), "robots": self.robots, "orders": self.orders,
            "order_file": order_file, "profile": p.name, "peak_factor": p.multiplier,
            "peak_duration_s": p.duration_s, "rate_per_h": self.rate_per_h, "seed": self.seed,
            "until_s": self.until_s, "delays": f.delays, "kill_robot": f.kill_robot,
            "drop_rate": f.drop_rate, "chute_close": f.chute_close, "assigner": c.assigner,
            "sorter": c.sorter,
        }


class ScenariosFile(BaseModel):
    """The whole file: ``scenarios:`` (a list), optionally ``defaults:`` merged into each."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    defaults: dict[str, Any] = {}
    scenarios: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A checked scenario: its spec and its parsed thresholds."""

    spec: ScenarioSpec
    thresholds: tuple[Threshold, ...]


def load_scenarios(path: Path) -> list[Scenario]:
    """Parse and check the file completely (exit 2 naming file, line and key on any problem)."""
    from warehouse_maps.catalog import bundled_names

    data, node = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: a scenarios file is a mapping with a 'scenarios' list")
    top: ScenariosFile = validate(ScenariosFile, data, path, node)
    out, names = [], set()
    for k, raw in enumerate(top.scenarios):
        loc: list[str | int] = ["scenarios", k]
        merged = {**top.defaults, **raw} if isinstance(raw, dict) else raw
        spec: ScenarioSpec = validate(ScenarioSpec, merged, path, node, loc)
        if spec.name in names:
            raise SpecError(where(path, node, [*loc, "name"], f"duplicate scenario name {spec.name!r}"))
        names.add(spec.name)
        for key in ("robots", "orders"):
            if getattr(spec, key) > limit(key):
                raise SpecError(where(path, node, [*loc, key], f"{getattr(spec, key)} exceeds the limit "
                                      f"{limit(key):,} (raise it with {env_name(key)})"))
        if spec.layout not in bundled_names() and not (path.parent / spec.layout).is_file():
            raise SpecError(where(path, node, [*loc, "layout"], f"unknown layout {spec.layout!r}"))
        thresholds = []
        for j, text in enumerate(spec.expect):
            m = _THRESHOLD.match(text)
            if m is None or m.group(1) not in METRICS:
                why = "expected METRIC OP NUMBER (e.g. lines_per_hour >= 900)" if m is None else \
                    f"unknown metric {m.group(1)!r} (one of: {', '.join(METRICS)})"
                raise SpecError(where(path, node, [*loc, "expect", j], f"{text!r}: {why}"))
            thresholds.append(Threshold(m.group(1), m.group(2), float(m.group(3).replace("_", ""))))
        out.append(Scenario(spec, tuple(thresholds)))
    return out
