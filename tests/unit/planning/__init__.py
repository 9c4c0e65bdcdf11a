"""Unit tests of the path planner (controller/planning)."""
