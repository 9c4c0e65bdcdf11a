"""ResendTracker: deadlines, doubling intervals, acknowledgement by state."""

from __future__ import annotations

from bus.clock import SIM_EPOCH, seconds
from controller.execution.resend import ResendTracker


def test_order_resent_until_state_echoes_it() -> None:
    tracker = ResendTracker(interval_s=1.0, max_interval_s=4.0)
    t0 = SIM_EPOCH
    tracker.sent_order(t0, "agv-0001", {"orderId": "agv-0001-1", "orderUpdateId": 3})
    assert tracker.due(t0 + seconds(0.5)) == []
    assert [p.key for p in tracker.due(t0 + seconds(1.0))] == ["agv-0001-1/3"]
    assert tracker.next_deadline() == t0 + seconds(3.0)
    tracker.on_state("agv-0001", "agv-0001-1", 2, [])  # older update: not an ack
    assert len(tracker) == 1
    tracker.on_state("agv-0001", "agv-0001-1", 3, [])
    assert len(tracker) == 0
    assert tracker.next_deadline() is None


def test_interval_is_capped() -> None:
    tracker = ResendTracker(interval_s=1.0, max_interval_s=2.0)
    tracker.sent_order(SIM_EPOCH, "a", {"orderId": "a-1", "orderUpdateId": 0})
    now = SIM_EPOCH
    for _ in range(5):
        now = tracker.next_deadline()
        assert len(tracker.due(now)) == 1
    assert tracker.next_deadline() - now == seconds(2.0)


def test_instant_action_acknowledged_by_action_states() -> None:
    tracker = ResendTracker()
    tracker.sent_instant_action(SIM_EPOCH, "a", "cancel-1", {"actions": []})
    tracker.on_state("a", "", 0, ["other"])
    assert len(tracker) == 1
    tracker.on_state("a", "", 0, ["cancel-1"])
    assert len(tracker) == 0
