"""A battery model: drains by distance driven and by time, charges at a fixed rate.

Pure and incremental: :meth:`Battery.update` is given the instant and the odometer and
integrates from the previous call. The charge is in percent (0-100) as VDA 5050's
``batteryCharge`` is.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bus.clock import NS_PER_S, Instant
from robots.drive import BatteryReading


class BatteryConfig(BaseModel):
    """Battery parameters."""

    model_config = ConfigDict(frozen=True)

    initial_percent: float = Field(100.0, ge=0, le=100, description="charge at start")
    drain_percent_per_m: float = Field(0.02, ge=0, description="consumption by distance driven")
    drain_percent_per_s: float = Field(0.001, ge=0, description="consumption by time (electronics)")
    charge_percent_per_s: float = Field(0.5, gt=0, description="charging rate at a charger")
    low_percent: float = Field(20.0, ge=0, le=100, description="below this: batteryLow warning")
    nominal_voltage_v: float = Field(48.0, gt=0, description="reported voltage at full charge")


class Battery:
    """State of charge over time; owned by a drive (the body holds the battery)."""

    def __init__(self, config: BatteryConfig, start: Instant) -> None:
        self.config = config
        self._percent = config.initial_percent
        self._at = start
        self._odometer_m = 0.0
        self.charging = False
        self._read_key: tuple[float, bool] | None = None  # what the last reading was made of
        self._reading = BatteryReading(0.0, False)

    def update(self, now: Instant, odometer_m: float) -> None:
        """Integrate consumption and charging from the last update to ``now``."""
        if now == self._at and odometer_m == self._odometer_m:
            return  # asked again at the same instant: nothing to add (the common case)
        dt_s = max(0, now - self._at) / NS_PER_S
        driven_m = max(0.0, odometer_m - self._odometer_m)
        c = self.config
        if self.charging:
            delta = c.charge_percent_per_s * dt_s
        else:
            delta = -(c.drain_percent_per_s * dt_s + c.drain_percent_per_m * driven_m)
        self._percent = min(100.0, max(0.0, self._percent + delta))
        self._at = Instant(max(self._at, now))
        self._odometer_m = max(self._odometer_m, odometer_m)

    @property
    def percent(self) -> float:
        """Charge at the last update, percent."""
        return self._percent

    def reading(self) -> BatteryReading:
        """What the body reports (the same object while charge and charging are unchanged: a
        vehicle reads it several times per control cycle)."""
        key = (self._percent, self.charging)
        if key != self._read_key:
            volts = self.config.nominal_voltage_v * (0.8 + 0.2 * self._percent / 100.0)
            self._read_key = key
            self._reading = BatteryReading(round(self._percent, 3), self.charging, round(volts, 2))
        return self._reading

    def eta(self, target_percent: float) -> Instant | None:
        """When charging reaches ``target_percent`` (None unless charging)."""
        if not self.charging:
            return None
        missing = max(0.0, min(100.0, target_percent) - self._percent)
        return Instant(self._at + int(missing / self.config.charge_percent_per_s * NS_PER_S) + 1)
