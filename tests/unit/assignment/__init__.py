"""Tests for assignment."""
