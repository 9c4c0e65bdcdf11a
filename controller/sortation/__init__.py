"""Sortation decisions: destination -> chute plans, reassignment, and replies to the sorter."""
