"""Slotting: forecast SKU demand, classify movers, place fast movers' pods nearest the stations."""

from controller.slotting.forecast import ForecastConfig, MoverClass, classify, forecast_demand
from controller.slotting.placement import SlottingPlan, plan_slotting, random_slotting

__all__ = ["ForecastConfig", "MoverClass", "SlottingPlan", "classify", "forecast_demand", "plan_slotting",
           "random_slotting"]
