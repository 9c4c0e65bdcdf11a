"""Tests for orders."""
