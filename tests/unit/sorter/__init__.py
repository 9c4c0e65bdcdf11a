"""Unit tests for the sorter model, agent, protocol and controller sortation."""
