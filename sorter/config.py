"""Sorter configuration: frozen pydantic models loaded once from YAML by the composition root.

Positions are metres along the conveyor measured in the direction of travel from the loop's
origin (0 m). On a loop the order of stations is: inducts, scanner, chutes, reject chute, and
then back to the inducts; the model checks that order so an item always passes the scanner before
any chute. All times are seconds in config and become ``bus.clock.Duration`` inside the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sorter.errors import SorterConfigError

#: Most chutes one sorter may have (the largest real sorters have a few thousand; docs/limits.md).
MAX_CHUTES = 10_000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class InductConfig(_Frozen):
    """One induct station where parcels are placed on empty carriers."""

    induct_id: str = Field(description="name used on the wire, e.g. 'in-1'")
    position_m: float = Field(ge=0, description="metres from the loop origin")
    rate_cap_per_h: float = Field(3600.0, gt=0, description="most items per hour this induct places")
    burst_items: float = Field(
        2.0, ge=1, description="token-bucket depth: how far a delayed induct may catch up (items)"
    )
    automatic: bool = Field(False, description="an endless seeded parcel supply (saturated induct)")
    arrival_rate_per_h: float | None = Field(
        None, gt=0, description="seeded Poisson arrivals of feed parcels (items/h), not saturated"
    )

    @model_validator(mode="after")
    def _one_supply(self) -> InductConfig:
        if self.automatic and self.arrival_rate_per_h is not None:
            raise ValueError(f"induct {self.induct_id}: choose automatic or arrival_rate_per_h, not both")
        return self


class ChuteLayout(_Frozen):
    """Destination chutes placed at even spacing, ``sides`` chutes per position (left and right)."""

    count: int = Field(200, ge=1, le=MAX_CHUTES, description="number of destination chutes")
    first_m: float = Field(30.0, ge=0, description="position of the first chute pair")
    spacing_m: float = Field(1.6, gt=0, description="distance between chute positions")
    sides: Literal[1, 2] = Field(2, description="chutes sharing a position (1 or 2 sides)")
    capacity_items: int = Field(60, ge=1, description="items a chute holds before it is full")
    clear_time_s: float = Field(90.0, ge=0, description="seconds a packer needs to empty a full chute")

    def positions_m(self) -> list[float]:
        """Position of every chute, in chute-index order."""
        return [self.first_m + (k // self.sides) * self.spacing_m for k in range(self.count)]

    def chute_ids(self) -> list[str]:
        """Wire names of the destination chutes: ``c001`` ... (zero-padded to three digits)."""
        return [f"c{k + 1:03d}" for k in range(self.count)]


class ScannerConfig(_Frozen):
    """The barcode scanner every item passes once per lap."""

    position_m: float = Field(20.0, ge=0, description="metres from the loop origin")
    no_read_probability: float = Field(0.005, ge=0, le=1, description="chance a scan fails")


class FeedConfig(_Frozen):
    """The seeded parcel supply for automatic inducts (barcodes name a destination)."""

    destinations: int = Field(
        180, ge=1, le=1_000_000, description="distinct destinations in the parcel stream"
    )
    zipf_exponent: float = Field(0.6, ge=0, description="skew of destination volumes (0 = uniform)")
    oversized_fraction: float = Field(0.0, ge=0, le=1, description="share of items taking two carriers")


class LoopConfig(_Frozen):
    """A recirculating cross-belt or tilt-tray loop sorter (defaults are the issue's default line)."""

    kind: Literal["loop"] = "loop"
    sorter_id: str = Field("sorter-1", description="name on the wire (topic segment)")
    carrier: Literal["cross-belt", "tilt-tray"] = "cross-belt"
    loop_length_m: float = Field(200.0, gt=0)
    carrier_pitch_m: float = Field(0.6, gt=0, description="nominal carrier spacing")
    speed_mps: float = Field(2.5, gt=0)
    inducts: tuple[InductConfig, ...] = Field(
        default_factory=lambda: tuple(
            InductConfig(induct_id=f"in-{i + 1}", position_m=2.0 + 4.0 * i, automatic=True) for i in range(4)
        )
    )
    scanner: ScannerConfig = ScannerConfig()
    chutes: ChuteLayout = ChuteLayout()
    reject_position_m: float = Field(195.0, ge=0, description="position of the reject chute")
    max_recirculations: int = Field(3, ge=0, description="laps an item may go round before reject")
    reserve_carriers: bool = Field(
        True, description="an induct that must let a carrier go reserves the next free one (no starving)"
    )
    reply_timeout_s: float = Field(2.0, gt=0, description="deadline for a destination reply")
    feed: FeedConfig = FeedConfig()

    @model_validator(mode="after")
    def _stations_in_order(self) -> LoopConfig:
        length = self.loop_length_m
        last_induct = max((i.position_m for i in self.inducts), default=0.0)
        chute_pos = self.chutes.positions_m()
        if not self.inducts:
            raise ValueError("a loop sorter needs at least one induct")
        if len({i.induct_id for i in self.inducts}) != len(self.inducts):
            raise ValueError("induct ids must be unique")
        if not last_induct < self.scanner.position_m < chute_pos[0]:
            raise ValueError("the scanner must sit after every induct and before the first chute")
        if not chute_pos[-1] < self.reject_position_m < length:
            raise ValueError(
                f"chutes end at {chute_pos[-1]:.1f} m: the reject chute must follow them and lie "
                f"inside the loop (< {length} m)"
            )
        if round(length / self.carrier_pitch_m) < 2:
            raise ValueError("the loop needs at least two carriers")
        return self


class InlineConfig(_Frozen):
    """A straight conveyor that diverts items sideways; what misses its chute ends in reject."""

    kind: Literal["inline"] = "inline"
    sorter_id: str = Field("inline-1")
    length_m: float = Field(60.0, gt=0)
    speed_mps: float = Field(2.0, gt=0)
    min_gap_m: float = Field(0.8, gt=0, description="belt length an item occupies, gap included")
    induct: InductConfig = InductConfig(induct_id="in-1", position_m=0.0)
    scanner: ScannerConfig = ScannerConfig(position_m=5.0)
    chutes: ChuteLayout = ChuteLayout(count=20, first_m=10.0, spacing_m=2.0, capacity_items=40)
    reply_timeout_s: float = Field(1.5, gt=0)
    feed: FeedConfig = FeedConfig(destinations=16)

    @model_validator(mode="after")
    def _stations_in_order(self) -> InlineConfig:
        chute_pos = self.chutes.positions_m()
        if not self.induct.position_m < self.scanner.position_m < chute_pos[0]:
            raise ValueError("the scanner must sit between the induct and the first chute")
        if chute_pos[-1] >= self.length_m:
            raise ValueError(f"chutes end at {chute_pos[-1]:.1f} m, past the conveyor end {self.length_m} m")
        return self


SorterConfig = LoopConfig | InlineConfig


def config_from_mapping(data: object, source: str = "<dict>") -> SorterConfig:
    """Validate a parsed mapping; raises :class:`SorterConfigError` naming the first bad field."""
    if not isinstance(data, dict):
        raise SorterConfigError(source, "expected a mapping at the top level")
    kind = data.get("kind", "loop")
    model = {"loop": LoopConfig, "inline": InlineConfig}.get(kind)
    if model is None:
        raise SorterConfigError(source, f"kind: expected 'loop' or 'inline', got {kind!r}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise SorterConfigError(source, f"{where}: {first['msg']}") from None


def load_config(path: str | Path) -> SorterConfig:
    """Read a sorter YAML file (see ``docs/sorter.yaml``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SorterConfigError(path, f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SorterConfigError(path, f"not valid YAML: {exc}") from None
    return config_from_mapping(data if data is not None else {}, str(path))
