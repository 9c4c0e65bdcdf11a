"""What ``bulletyard serve`` decides about a site on top of ``controller.yaml``: sortation and history.

Sortation. A layout whose ``equipment.sorter`` describes a conveyor sorter is a site where the
controller answers the sorter's destination requests; leaving them unanswered sends every item to
the reject chute, which no engineer who brought a sorter wants. So ``--sortation auto`` (the
default) turns :class:`controller.config.SortationConfig` on for such a layout unless the config
file says ``sortation: {enabled: ...}`` itself; ``--sortation off`` (or ``enabled: false`` in the
file) keeps the controller away from the sorter, and ``--sortation on`` insists (an error on a
layout without a sorter). What enabling means for orders is in ``docs/deploy.md``: an order with
a ``destination`` is complete once every unit is in a chute of it; an order without one is not
sorted and completes when picked, as on a site without a sorter.

Robotic sortation. A layout with inducts and chutes (``sort-center``; with storage too, a mixed
site) is a site where robots sort: ``robotic_sortation`` is turned on for it unless the config file says
``robotic_sortation: {enabled: ...}`` itself (``docs/sortation.md``).

History. The journal's :class:`controller.journal.Retention` comes from ``--journal-keep-events``
and ``--journal-keep-days`` (0 for either: no limit of that kind).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bulletyard.errors import UsageError
from bulletyard.inputs.options import finite_number

if TYPE_CHECKING:
    from controller.config import ControllerConfig
    from controller.journal import Retention
    from warehouse_maps.layout import Layout

SORTATION_CHOICES = ("auto", "on", "off")


def add_site_options(p: argparse.ArgumentParser) -> None:
    """``--sortation`` and the journal's retention options."""
    p.add_argument(
        "--sortation",
        choices=SORTATION_CHOICES,
        default="auto",
        help="drive the layout's conveyor sorter: auto (default: when the layout has one and the "
        "config file does not say), on, or off",
    )
    p.add_argument(
        "--journal-keep-events",
        type=int,
        default=2_000_000,
        metavar="N",
        help="audit events kept in the journal, newest first (default 2000000; 0: no limit)",
    )
    p.add_argument(
        "--journal-keep-days",
        type=finite_number,
        default=30.0,
        metavar="D",
        help="days of audit events kept in the journal (default 30; 0: no limit)",
    )


def has_sorter(layout: Layout) -> bool:
    """True when the layout describes a conveyor sorter (``equipment.sorter``)."""
    return bool((layout.equipment or {}).get("sorter"))


def has_sortation_area(layout: Layout) -> bool:
    """True when robots can sort there: the layout has inducts and chutes (maybe storage too: a
    mixed site, whose picked orders become parcels at the inducts)."""
    from warehouse_maps.layout import PlaceKind

    kinds = {p.kind for p in layout.places}
    return PlaceKind.INDUCT in kinds and PlaceKind.CHUTE in kinds


def is_robotic_site(layout: Layout) -> bool:
    """True when robots are the sorter and nothing else: inducts and chutes, nothing to pick from."""
    from warehouse_maps.layout import PlaceKind

    return has_sortation_area(layout) and not any(p.kind is PlaceKind.STORAGE for p in layout.places)


def with_sortation(config: ControllerConfig, layout: Layout, choice: str) -> ControllerConfig:
    """``config`` with sortation on or off as ``choice`` and the layout say, and robotic sortation
    on for a robotic sortation site unless the file decided (module docstring).

    Raises:
        UsageError: ``on`` for a layout without a sorter.
    """
    robotic = config.robotic_sortation
    if "enabled" not in robotic.model_fields_set and robotic.enabled != has_sortation_area(layout):
        config = config.model_copy(update={
            "robotic_sortation": robotic.model_copy(update={"enabled": has_sortation_area(layout)})})
    if choice == "auto":
        if "enabled" in config.sortation.model_fields_set:
            return config  # the config file decided
        enabled = has_sorter(layout)
    else:
        enabled = choice == "on"
        if enabled and not has_sorter(layout):
            raise UsageError(f"--sortation on: layout {layout.name} has no sorter (equipment.sorter)")
    if enabled == config.sortation.enabled:
        return config
    sortation = config.sortation.model_copy(update={"enabled": enabled})
    return config.model_copy(update={"sortation": sortation})


def retention(args: argparse.Namespace) -> Retention:
    """The journal's retention from ``--journal-keep-events`` and ``--journal-keep-days``."""
    from controller.journal import Retention

    if args.journal_keep_events < 0 or args.journal_keep_days < 0:
        raise UsageError("--journal-keep-events and --journal-keep-days must be >= 0")
    return Retention(
        events_max_rows=args.journal_keep_events or None,
        events_max_age_s=args.journal_keep_days * 86400.0 or None,
    )
