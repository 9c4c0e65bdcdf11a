"""Controller unit tests."""
