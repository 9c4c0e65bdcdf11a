"""Tests for tasks."""
