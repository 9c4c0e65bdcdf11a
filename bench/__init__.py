"""Benchmarks (never timed tests)."""
