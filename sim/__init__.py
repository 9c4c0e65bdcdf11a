"""Simulation: PyBullet world and drive, lock-step runner, scenarios, faults, KPIs and reports."""
