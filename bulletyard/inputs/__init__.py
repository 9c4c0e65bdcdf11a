"""Validation of everything a user hands the CLI: options, paths and files (issue 25).

The rules (``docs/limits.md``): a number that is a time, rate, size or count is finite and in
range; sizes have documented upper bounds checked before any allocation; files are regular files
read with a size cap and parsed with nesting, alias and duplicate-key limits
(:mod:`warehouse_maps.safe_load`); an output folder exists and is writable or can be created.
A violation is one :class:`~bulletyard.errors.UsageError` (an option) or
:class:`~warehouse_maps.errors.InputError` (a file), which the CLI prints as one line naming the
option or the file and line, with exit status 2.

- :mod:`bulletyard.inputs.options`: argparse ``type=`` functions and value checks.
- :mod:`bulletyard.inputs.paths`: input files and output folders.
- :mod:`bulletyard.inputs.sim_args`: the checks of ``sim`` options shared by the CLI and the API.
- :mod:`bulletyard.inputs.files`: whole YAML / JSON files read with every limit, for packages
  that may not import :mod:`warehouse_maps` themselves (the sorter's config).
"""
