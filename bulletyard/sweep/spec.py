"""The sweep spec (``bulletyard sweep SPEC.yaml``) and its grid of cells.

A spec names the axes of a sizing study (layouts, fleet sizes, seeds, arrival profiles) and what
every run shares (orders or arrival rate, simulated time, faults, controller options). Its grid is
the cross product of the axes; each cell is one ``bulletyard sim`` run. The whole file is checked
before anything runs: an unknown key, a wrong type or an unknown layout is one line naming the file,
the line and the key (``docs/sizing.md`` documents every key).

A cell's id is a hash of everything that decides its result, so a resumed sweep recognises the
cells it already ran even when the spec grew new axes values.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bulletyard.sweep.yamlfile import SpecError, read_yaml, validate, where
from warehouse_maps.limits import MIN_TRACE_DT_S, env_name, limit

STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RangeSpec(BaseModel):
    """``{from: 25, to: 300, step: 25}``: both ends included."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)
    start: int = Field(alias="from", ge=1)
    to: int = Field(ge=1)
    step: int = Field(1, ge=1)

    def __len__(self) -> int:
        """How many values, without listing them (a range to 10^9 must be refused, not built)."""
        return len(range(self.start, self.to + 1, self.step))

    def values(self) -> list[int]:
        """The values of the range, ascending."""
        return list(range(self.start, self.to + 1, self.step))


class ProfileSpec(BaseModel):
    """An arrival profile: ``steady``, or ``peak`` with its surge multiplier and duration."""

    model_config = STRICT
    name: Literal["steady", "peak"]
    multiplier: float | None = Field(None, gt=1, description="peak: times the base rate")
    duration_s: float | None = Field(None, gt=0, description="peak: length of the surge in seconds")

    @model_validator(mode="after")
    def _peak_only(self) -> ProfileSpec:
        if self.name == "steady" and (self.multiplier or self.duration_s):
            raise ValueError("multiplier and duration_s belong to the peak profile")
        return self

    @property
    def label(self) -> str:
        """Short name used in tables and plots (``peak``, ``peak x4 600s``)."""
        parts = [self.name]
        if self.multiplier is not None:
            parts.append(f"x{self.multiplier:g}")
        if self.duration_s is not None:
            parts.append(f"{self.duration_s:g}s")
        return " ".join(parts)


class FaultsSpec(BaseModel):
    """The ``bulletyard sim`` fault options, the same strings as on the command line."""

    model_config = STRICT
    delays: str | None = Field(None, description="P,MIN_S,MAX_S")
    kill_robot: tuple[str, ...] = Field((), description="ID@T")
    drop_rate: float | None = None
    chute_close: tuple[str, ...] = Field((), description="ID@T")


class ControllerSpec(BaseModel):
    """Controller options of ``bulletyard sim``."""

    model_config = STRICT
    assigner: Literal["pileon", "greedy"] = "pileon"  # operations rule (docs/operations.md)
    sorter: bool = True


class TargetSpec(BaseModel):
    """The sizing question: the smallest fleet holding this throughput in every seed."""

    model_config = STRICT
    lines_per_hour: float | None = Field(None, gt=0)
    parcels_per_hour: float | None = Field(None, gt=0)
    profile: str | None = None
    layout: str | None = None

    @model_validator(mode="after")
    def _one_metric(self) -> TargetSpec:
        if (self.lines_per_hour is None) == (self.parcels_per_hour is None):
            raise ValueError("give exactly one of lines_per_hour and parcels_per_hour")
        return self


class Cell(BaseModel):
    """One run of the grid: the ``bulletyard.simulate`` options that decide its result."""

    model_config = STRICT
    layout: str
    robots: int
    seed: int
    profile: str
    peak_factor: float | None = None
    peak_duration_s: float | None = None
    profile_label: str
    orders: int
    rate_per_h: float | None
    until_s: float | None
    delays: str | None = None
    kill_robot: tuple[str, ...] = ()
    drop_rate: float | None = None
    chute_close: tuple[str, ...] = ()
    assigner: str = "pileon"
    sorter: bool = True
    trace_dt_s: float = 0.25

    @property
    def id(self) -> str:
        """Readable and unique: ``fc-r100-peak-s3-1a2b3c4d``."""
        digest = hashlib.sha256(json.dumps(self.model_dump(), sort_keys=True).encode()).hexdigest()[:8]
        stem = Path(self.layout).stem
        return f"{stem}-r{self.robots}-{self.profile_label.replace(' ', '')}-s{self.seed}-{digest}"

    def simulate_kwargs(self) -> dict[str, object]:
        """Keyword arguments of :func:`bulletyard.simulate` (without ``out``)."""
        return self.model_dump(exclude={"profile_label"})


class SweepSpec(BaseModel):
    """A sweep spec file (see ``docs/sizing.md``)."""

    model_config = STRICT
    name: str = "sweep"
    layouts: tuple[str, ...] = Field(min_length=1)
    robots: tuple[int, ...] | RangeSpec = Field(description="fleet sizes")
    seeds: tuple[int, ...] | RangeSpec = (1,)
    profiles: tuple[ProfileSpec, ...] = (ProfileSpec(name="steady"),)
    orders: int | None = Field(None, ge=0)
    rate_per_h: float | None = Field(None, gt=0, description="base arrival rate, orders per hour")
    until_s: float | None = Field(None, gt=0, description="simulated seconds per run")
    faults: FaultsSpec = FaultsSpec()
    controller: ControllerSpec = ControllerSpec()
    trace_dt_s: float = Field(0.25, gt=0)
    keep_traces: bool = True
    metric: Literal["lines_per_hour", "parcels_per_hour"] = "lines_per_hour"
    target: TargetSpec | None = None

    @field_validator("layouts", mode="before")
    @classmethod
    def _one_layout(cls, v: object) -> object:
        return (v,) if isinstance(v, str) else v

    @field_validator("robots", "seeds", mode="before")
    @classmethod
    def _one_value(cls, v: object) -> object:
        return (v,) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("profiles", mode="before")
    @classmethod
    def _profile_names(cls, v: object) -> object:
        items = [v] if isinstance(v, str | dict) else v
        if not isinstance(items, list | tuple):
            return v
        return tuple({"name": p} if isinstance(p, str) else p for p in items)

    @model_validator(mode="after")
    def _orders_or_rate(self) -> SweepSpec:
        if self.orders is None and (self.rate_per_h is None or self.until_s is None):
            raise ValueError("give orders, or rate_per_h and until_s (orders then cover until_s)")
        n_cells = len(self.layouts) * len(self.profiles) * len(self.robots) * len(self.seeds)
        if n_cells > limit("sweep_cells"):
            raise ValueError(f"{n_cells:,} cells exceed the limit {limit('sweep_cells'):,} "
                             f"(raise it with {env_name('sweep_cells')})")
        if min(_values(self.robots)) < 1:
            raise ValueError("robots: every fleet size must be at least 1")
        if not all(0 <= s < 2**64 for s in _values(self.seeds)):
            raise ValueError("seeds: every seed must be a whole number from 0 to 2^64 - 1")
        if max(_values(self.robots)) > limit("robots"):
            raise ValueError(f"robots: {max(_values(self.robots))} exceeds the limit {limit('robots'):,} "
                             f"(raise it with {env_name('robots')})")
        if self.trace_dt_s < MIN_TRACE_DT_S:
            raise ValueError(f"trace_dt_s must be at least {MIN_TRACE_DT_S:g} s")
        return self

    def cells(self, base_dir: Path) -> list[Cell]:
        """The grid in a stable order: layout, profile, fleet size, seed."""
        out = []
        for layout in self.layouts:
            for prof in self.profiles:
                for robots in _values(self.robots):
                    for seed in _values(self.seeds):
                        out.append(self._cell(_layout_ref(layout, base_dir), prof, robots, seed))
        return out

    def _cell(self, layout: str, prof: ProfileSpec, robots: int, seed: int) -> Cell:
        orders = self.orders
        if orders is None:  # enough arrivals to cover until_s, the surge included
            assert self.rate_per_h is not None
            assert self.until_s is not None
            surge = (prof.multiplier or 10.0) if prof.name == "peak" else 1.0
            orders = math.ceil(self.rate_per_h * surge * self.until_s / 3600.0) + 20
        if orders > limit("orders"):
            raise SpecError(f"a cell of {orders:,} orders exceeds the limit {limit('orders'):,} "
                            f"(lower rate_per_h or until_s, or raise {env_name('orders')})")
        f = self.faults
        return Cell(
            layout=layout, robots=robots, seed=seed, profile=prof.name, profile_label=prof.label,
            peak_factor=prof.multiplier, peak_duration_s=prof.duration_s, orders=orders,
            rate_per_h=self.rate_per_h, until_s=self.until_s, delays=f.delays,
            kill_robot=f.kill_robot, drop_rate=f.drop_rate, chute_close=f.chute_close,
            assigner=self.controller.assigner, sorter=self.controller.sorter,
            trace_dt_s=self.trace_dt_s,
        )


def _values(axis: tuple[int, ...] | RangeSpec) -> list[int]:
    return axis.values() if isinstance(axis, RangeSpec) else list(axis)


def _layout_ref(layout: str, base_dir: Path) -> str:
    """A bundled name as is; a file relative to the spec's folder, made absolute."""
    from warehouse_maps.catalog import bundled_names

    if layout in bundled_names():
        return layout
    return str((base_dir / layout).resolve())


def load_spec(path: Path) -> tuple[SweepSpec, list[Cell]]:
    """Parse and check a spec file completely, and expand its grid (no run starts before this)."""
    from sim.faults import FaultSpecError, fault_plan
    from warehouse_maps.catalog import bundled_names

    data, node = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: a sweep spec is a mapping of keys (layouts, robots, seeds...)")
    spec: SweepSpec = validate(SweepSpec, data, path, node)
    for k, layout in enumerate(spec.layouts):
        if layout not in bundled_names() and not (path.parent / layout).is_file():
            names = ", ".join(bundled_names())
            raise SpecError(where(path, node, ["layouts", k],
                                  f"unknown layout {layout!r} (bundled: {names}; or a layout file)"))
    try:
        f = spec.faults
        fault_plan(f.delays, f.kill_robot, f.drop_rate, f.chute_close)
    except FaultSpecError as exc:
        raise SpecError(where(path, node, ["faults"], str(exc))) from None
    if spec.target is not None and spec.target.profile is not None:
        labels = [p.label for p in spec.profiles] + [p.name for p in spec.profiles]
        if spec.target.profile not in labels:
            raise SpecError(where(path, node, ["target", "profile"],
                                  f"{spec.target.profile!r} is not one of the spec's profiles"))
    try:
        return spec, spec.cells(path.parent)
    except SpecError as exc:  # a cell too large to run: name the file
        raise SpecError(f"{path}: {exc}") from None
