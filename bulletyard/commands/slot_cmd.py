"""``bulletyard slot``: plan pod slotting from an order history (forecast, ABC classes, placement).

Example::

    bulletyard slot --layout fc --history orders.csv --out slotting.yaml

The inventory (which pod holds which SKU) is the seeded one the simulator uses for the layout
(``--skus``, ``--seed``). Records of the history that cannot be read are reported on stderr with
their file and line and skipped; a file that cannot be read at all is an error (exit 2).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import yaml

from bulletyard.errors import UsageError
from bulletyard.inputs.options import count_option, finite_number, seconds_option, seed_option
from bulletyard.inputs.paths import input_file_arg, output_file_arg
from bus.clock import SIM_EPOCH
from controller.assignment.travel import TravelTimes
from controller.orders.files import load_orders
from controller.orders.inventory import Inventory
from controller.slotting.forecast import ForecastConfig, MoverClass, classify, forecast_demand
from controller.slotting.placement import plan_slotting
from warehouse_maps.catalog import load_layout
from warehouse_maps.layout import PlaceKind


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``slot``."""
    p = sub.add_parser("slot", help="plan pod slotting from an order history")
    p.add_argument("--layout", required=True, help="bundled layout name or layout file")
    p.add_argument("--history", required=True, type=input_file_arg,
                   help="order history (.csv, .json, .jsonl)")
    p.add_argument("--out", required=True, type=output_file_arg, help="slotting plan to write (.yaml)")
    p.add_argument("--skus", type=count_option(bound="skus"), default=5000,
                   help="SKUs in the seeded inventory (default 5000)")
    p.add_argument("--seed", type=seed_option, default=3, help="seed of the inventory (default 3)")
    p.add_argument("--bucket-s", type=seconds_option(1.0), default=3600.0,
                   help="history bucket in seconds (default 3600)")
    p.add_argument("--alpha", type=finite_number, default=0.3,
                   help="smoothing factor in (0, 1] (default 0.3)")
    p.set_defaults(func=_slot)


def _slot(args: argparse.Namespace) -> int:
    try:
        cfg = ForecastConfig(bucket_s=args.bucket_s, alpha=args.alpha)
    except ValueError as exc:
        raise UsageError(f"--bucket-s/--alpha: {exc}") from None
    layout = load_layout(args.layout)
    storage = layout.cells_of(PlaceKind.STORAGE)
    if not storage or not layout.of_kind(PlaceKind.PICK_STATION):
        raise UsageError(f"--layout {args.layout}: needs storage cells and pick stations to slot")
    if not 1 <= args.skus <= 6 * len(storage):
        raise UsageError(f"--skus must be in 1..{6 * len(storage)} for this layout")
    history = load_orders(args.history, SIM_EPOCH)
    for issue in history.issues:
        print(f"warning: {issue} (skipped)", file=sys.stderr)
    inventory = Inventory.generate(storage, args.skus, np.random.default_rng(args.seed))
    demand = forecast_demand(history.orders, SIM_EPOCH, cfg)
    classes = classify(demand, inventory.skus(), cfg)
    plan = plan_slotting(layout, inventory, demand, TravelTimes(layout.grid))
    counts = {c.value: sum(1 for v in plan.classes.values() if v is c) for c in MoverClass}
    doc = {
        "format": "bulletyard-slotting/1",
        "layout": layout.name,
        "history": {"orders": len(history.orders), "skipped_records": len(history.issues)},
        "forecast": {"method": "simple exponential smoothing of order lines per bucket",
                     "bucket_s": cfg.bucket_s, "alpha": cfg.alpha, "warmup_buckets": cfg.warmup},
        "inventory": {"skus": args.skus, "seed": args.seed},
        "sku_classes": {c.value: sum(1 for v in classes.values() if v is c) for c in MoverClass},
        "pod_classes": counts,
        **plan.as_dict(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    print(f"slotting for {layout.name}: {len(plan.cells)} pods "
          f"(fast {counts['fast']}, medium {counts['medium']}, slow {counts['slow']}) -> {args.out}")
    return 0
