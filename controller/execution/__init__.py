"""Execution: action dependency graph, VDA 5050 order mapping, resending until acknowledged."""
