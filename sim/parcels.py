"""Parcel streams for robotic sortation: a seeded arrival process per induct, or a parcel file.

The inducts of a simulation are the :class:`InductFeeder` participant: at each parcel's arrival
time it announces the parcel on the robotic sorter's ``inducted`` topic (``barcode``
``{destination}:{parcelId}``), exactly as an induct station's scanner would, and tells the KPI
collector that it arrived (a parcel is one "order" of one line there).

Generator: each induct has its own Poisson stream (its own child of the seed) at an equal share
of ``rate_per_h``; ``peak`` multiplies the rate by ``peak_factor`` for the first
``peak_duration_s`` seconds (default: the first tenth of the parcels), as the order feed's
Singles-Day profile does. Destinations are drawn uniformly from ``D001``...

Parcel files: CSV (``t_s,parcel_id,destination[,induct]``, a header row optional) or JSON Lines
(``{"t_s": 1.5, "parcelId": "p-1", "destination": "D003", "induct": "I2"}``); without an induct,
parcels go to the inducts in turn. Errors name the file and the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bus.clock import Instant, iso_timestamp
from bus.sorter_protocol import Inducted, encode, sorter_topic
from bus.transport import Envelope
from sim.kpi import KpiCollector
from sim.scenario import PEAK_FACTOR, PEAK_SHARE, OrderFeeder, ScenarioError
from warehouse_maps.errors import InputError
from warehouse_maps.limits import env_name, limit
from warehouse_maps.safe_load import read_text_capped, safe_json_loads


@dataclass(frozen=True, slots=True)
class ScheduledParcel:
    """A parcel and its arrival at an induct, in seconds since the start of the run."""

    t_s: float
    parcel_id: str
    destination: str
    induct: str

    @property
    def order_id(self) -> str:
        """The parcel id (a parcel counts as a one-line order in the run's KPIs)."""
        return self.parcel_id

    @property
    def lines(self) -> tuple[str]:
        """One line: the parcel."""
        return (self.parcel_id,)


def generate_parcels(inducts: Sequence[str], destinations: Sequence[str], count: int,
                     seq: np.random.SeedSequence, *, profile: str = "steady", rate_per_h: float,
                     peak_factor: float = PEAK_FACTOR, peak_duration_s: float | None = None
                     ) -> list[ScheduledParcel]:
    """``count`` parcels over the inducts (one seeded Poisson stream each), sorted by arrival."""
    if profile not in ("steady", "peak"):
        raise ScenarioError(f"--profile {profile!r}: choose steady or peak")
    if count < 0 or rate_per_h <= 0:
        raise ScenarioError("parcel count must be >= 0 and the arrival rate positive")
    if not inducts or not destinations:
        raise ScenarioError("robotic sortation needs inducts and destinations")
    per = [count // len(inducts) + (1 if k < count % len(inducts) else 0) for k in range(len(inducts))]
    out: list[tuple[float, int, str, str]] = []
    for k, (induct, child) in enumerate(zip(inducts, seq.spawn(len(inducts)), strict=True)):
        rng = np.random.default_rng(child)
        rate = rate_per_h / len(inducts)
        peak_n = int(round(per[k] * PEAK_SHARE)) if profile == "peak" and peak_duration_s is None else 0
        surge_s = peak_duration_s if profile == "peak" and peak_duration_s is not None else 0.0
        t_s = 0.0
        for n in range(per[k]):
            factor = peak_factor if n < peak_n or t_s < surge_s else 1.0
            t_s += float(rng.exponential(3600.0 / (rate * factor)))
            dest = destinations[int(rng.integers(len(destinations)))]
            out.append((round(t_s, 3), k, induct, dest))
    out.sort(key=lambda p: (p[0], p[1]))
    return [ScheduledParcel(t, f"p-{n + 1:07d}", dest, induct) for n, (t, _, induct, dest) in enumerate(out)]


def load_parcel_file(path: Path | str, inducts: Sequence[str]) -> list[ScheduledParcel]:
    """Parcels from a CSV or JSON Lines file, sorted by arrival (stable); raises
    :class:`ScenarioError` naming the file and line of the first bad entry."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such parcel file")
    try:  # a regular file within the size limit (docs/limits.md)
        text = read_text_capped(path)
    except InputError as exc:
        raise ScenarioError(f"{path}: cannot read parcel file ({exc.message})") from None
    rows = _json_rows(path, text) if text.lstrip().startswith("{") else _csv_rows(text)
    if len(rows) > limit("parcels"):
        raise ScenarioError(f"{path}: {len(rows):,} parcels exceed the limit {limit('parcels'):,} "
                            f"(raise it with {env_name('parcels')})")
    out: list[ScheduledParcel] = []
    seen: set[str] = set()
    for line, row in rows:
        parcel = _parcel(path, line, row, inducts, len(out))
        if parcel.parcel_id in seen:
            raise ScenarioError(f"{path}:{line}: duplicate parcel id {parcel.parcel_id!r}")
        seen.add(parcel.parcel_id)
        out.append(parcel)
    if not out:
        raise ScenarioError(f"{path}: no parcels")
    return sorted(out, key=lambda p: p.t_s)


def _json_rows(path: Path, text: str) -> list[tuple[int, object]]:
    rows = []
    for n, ln in enumerate(text.splitlines(), start=1):
        if ln.strip():
            try:  # nesting, duplicate keys and non-finite numbers refused
                data = safe_json_loads(ln, path)
            except InputError as exc:
                raise ScenarioError(f"{path}:{n}: not JSON ({exc.message})") from None
            if isinstance(data, dict):
                data = [data.get("t_s"), data.get("parcelId"), data.get("destination"), data.get("induct")]
            rows.append((n, data))
    return rows


def _csv_rows(text: str) -> list[tuple[int, object]]:
    rows = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or (n == 1 and row[0].strip().lower() in ("t_s", "time", "t")):
            continue
        rows.append((n, [c.strip() for c in row]))
    return rows


def _parcel(path: Path, line: int, row: object, inducts: Sequence[str], k: int) -> ScheduledParcel:
    where = f"{path}:{line}"
    if not isinstance(row, list) or len(row) < 3:
        raise ScenarioError(f"{where}: expected t_s, parcel id, destination[, induct]")
    t_raw, pid, dest = row[0], row[1], row[2]
    induct = row[3] if len(row) > 3 and row[3] not in (None, "") else inducts[k % len(inducts)]
    try:
        t_s = float(t_raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ScenarioError(f"{where}: time {t_raw!r} is not a number of seconds") from None
    if not 0 <= t_s <= limit("seconds"):  # False for NaN and infinity too
        raise ScenarioError(f"{where}: time {t_raw!r} must be a number of seconds "
                            f"in [0, {limit('seconds'):g}]")
    for name, value in (("parcel id", pid), ("destination", dest)):
        if not isinstance(value, str) or not value or ":" in value or "/" in value:
            raise ScenarioError(f"{where}: {name} {value!r} must be a non-empty string without ':' or '/'")
    if induct not in inducts:
        raise ScenarioError(f"{where}: induct {induct!r} is not one of {', '.join(inducts)}")
    return ScheduledParcel(t_s, str(pid), str(dest), str(induct))


class InductFeeder(OrderFeeder):
    """The simulated inducts: announce each parcel at its arrival time (a pure participant)."""

    def __init__(self, parcels: Sequence[ScheduledParcel], site: str, sorter_id: str, start: Instant,
                 kpi: KpiCollector) -> None:
        super().__init__(parcels, site, start, kpi)  # type: ignore[arg-type]
        self.topic = sorter_topic(site, sorter_id, "inducted")
        self.sorter_id = sorter_id

    def _message(self, parcel: ScheduledParcel, now: Instant) -> Envelope:  # type: ignore[override]
        """The induct scanner's ``inducted`` message."""
        msg = Inducted(header_id=self._headers.next(self.topic), timestamp=iso_timestamp(now),
                       sorter_id=self.sorter_id, item_id=parcel.parcel_id,
                       barcode=f"{parcel.destination}:{parcel.parcel_id}", induct_id=parcel.induct,
                       carriers=[])
        return Envelope(self.topic, encode(msg), qos=1)
