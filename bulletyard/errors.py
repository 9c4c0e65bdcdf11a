"""User-input errors the CLI turns into one line on stderr and exit status 2.

Each package keeps its own error type (packages must not import each other against the
dependency rules); this module is the one place that lists them all.
"""

from __future__ import annotations

from warehouse_maps.errors import InputError, MapFormatError


class UsageError(ValueError):
    """A command-line argument that cannot be used (names the option)."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exception types that mean "the user gave bad input", not "bulletyard has a bug"."""
    types: list[type[BaseException]] = [InputError, MapFormatError, UsageError]
    for module, name in _OPTIONAL_ERRORS:
        try:
            mod = __import__(module, fromlist=[name])
        except ImportError:  # a package that does not define errors yet
            continue
        types.append(getattr(mod, name))
    return tuple(types)


# (module, class) pairs of each package's user-input error; extended as packages grow.
_OPTIONAL_ERRORS: list[tuple[str, str]] = [
    ("sorter.errors", "SorterConfigError"),
    ("controller.sortation.mapping", "PlanError"),
    ("bus.mqtt_url", "BusConfigError"),
    ("bus.mqtt", "BusConnectionError"),
    ("controller.orders.files", "OrderFileError"),
    ("robots.fleet", "FleetError"),
    ("controller.planning.errors", "PlanningInputError"),
    ("controller.config", "ControllerConfigError"),
    ("sim.faults", "FaultSpecError"),
    ("sim.scenario", "ScenarioError"),
    ("sim.trace", "TraceFormatError"),
    ("sim.report_data", "NotARunError"),
    ("bulletyard.secure_broker", "SecureBrokerError"),
    ("bulletyard.supervisor", "SupervisorError"),
    ("bulletyard.metrics", "MetricsPortError"),
    ("bulletyard.sweep.yamlfile", "SpecError"),
    ("warehouse_maps.limits", "LimitSettingError"),
]
