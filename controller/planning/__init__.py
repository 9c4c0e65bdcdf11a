"""Multi-agent path planning: validator, one-shot LaCAM/PIBT, lifelong rolling horizon, exact CP-SAT.

Everything here is pure: budgets arrive as :class:`~controller.planning.options.PlanOptions`
(a node limit and a ``should_stop`` callback the caller builds from its own clock) and random
choices come from a seeded ``numpy.random.Generator``. See ``docs/planning.md``.
"""
