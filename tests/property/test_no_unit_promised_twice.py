"""No unit is promised twice: random orders and pods through the operations' whole life cycle.

Hypothesis draws a stock (pods holding a few SKUs, few units, so stock runs short), a stream of
orders and a random interleaving of assignment cycles, lifts, picks, set-downs and lost robots.
After every step: reserved units never exceed what a pod holds, every reserved unit belongs to
exactly one line on exactly one visit, each line is in exactly one place (open at a station or
in the backlog, on a visit, or picked), and a storage place holds at most one pod.

Floor (S pick station, P storage)::

    S.........
    ..PP..PP..
    ..PP..PP..
    S.........
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.orders.inventory import Inventory, Pod
from controller.orders.model import Order, OrderLine
from controller.tasks.operations import Operations, OpsConfig
from tests.unit.orders.helpers import small_layout

LAYOUT = small_layout(["S.........", "..PP..PP..", "..PP..PP..", "S........."])
CELLS = sorted(p.cell for p in LAYOUT.of_kind("storage"))
SKUS = ["A", "B", "C", "D", "E"]

stock_st = st.lists(
    st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1, max_size=3),
    min_size=len(CELLS), max_size=len(CELLS),
)
orders_st = st.lists(
    st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=3),
    min_size=1, max_size=12,
)
steps_st = st.lists(st.sampled_from(["plan", "lift", "pick", "down", "lose"]), min_size=5, max_size=60)


def _check(ops: Operations, inv: Inventory, picked: Counter) -> None:
    reserved: Counter = Counter()
    lines_on_visits: Counter = Counter()
    for v in ops.visits.values():
        if v.picked:
            continue
        for ln in v.lines:
            reserved[(v.pod, ln.sku)] += ln.quantity
            lines_on_visits[(ln.order_id, ln.index)] += 1
    for pod in inv.pods:
        for sku in SKUS:
            held = inv.on_hand(pod.id, sku)
            assert held >= 0
            assert inv.free(pod.id, sku) >= 0, (pod.id, sku)  # never more promised than held
            assert held - inv.free(pod.id, sku) == reserved[(pod.id, sku)]  # each promise is a line's
    for key, n in lines_on_visits.items():
        assert n == 1, key  # a line rides on one visit only
    for oid, state in ops.orders.items():
        for ln in state.open_lines:
            assert (oid, ln.index) not in lines_on_visits  # open and on a pod at once: never
        assert state.lines_left >= 0
    assert len(set(ops.places.holder)) == len(ops.places.holder)
    assert all(ops.places.holder[p] == pod for pod, p in ops.places.place_of.items())
    for key, n in picked.items():
        assert n == 1, key  # picked once


@settings(max_examples=60, deadline=None)
@given(stock=stock_st, orders=orders_st, steps=steps_st, rule=st.sampled_from(["pileon", "greedy"]))
def test_no_unit_is_promised_twice(stock, orders, steps, rule) -> None:
    pods = [Pod(f"POD{i}", c) for i, c in enumerate(CELLS)]
    inv = Inventory(pods, {p.id: s for p, s in zip(pods, stock, strict=True)})
    ops = Operations(LAYOUT, inv, OpsConfig(rule=rule, station_open_orders=2, robots_per_station=2))
    for k, lines in enumerate(orders):
        order = Order(f"o{k}", tuple(OrderLine(s, q) for s, q in lines))
        try:
            ops.check(order)
        except ValueError:
            continue
        ops.accept(order, 0)
    picked: Counter = Counter()
    robots = [("r1", (1, 0)), ("r2", (9, 3)), ("r3", (5, 0))]
    now = 0
    for step in steps:
        now += 1_000_000_000
        live = sorted(ops.visits)
        if step == "plan":
            ops.plan(now, robots, frozenset(), lambda tid: True)
        elif live:
            tid = live[len(live) // 2]
            v = ops.visits[tid]
            if step == "lift":
                ops.lifted(tid)
            elif step == "pick" and v.lifted and not v.picked:
                before = {(ln.order_id, ln.index) for ln in v.lines}
                ops.picked(tid)
                picked.update(before)
            elif step == "down" and v.picked:
                ops.set_down(tid)
            elif step == "lose" and not v.lifted:
                ops.lost(tid)
        _check(ops, inv, picked)
