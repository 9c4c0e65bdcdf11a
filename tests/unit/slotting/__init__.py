"""Tests for slotting."""
