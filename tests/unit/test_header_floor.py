"""HeaderFloor and RejectionLog: a far headerId does not blind a receiver; bad input does not flood.

The floor keeps its place when one message jumps (2e9 after 41): the next real one (42) is new.
Only a second message that continues the jump moves it (the sender really restarted there).
"""

from __future__ import annotations

import logging

import pytest

from bus.clock import seconds
from bus.header import HeaderFloor, StaleFilter, Verdict
from bus.reject_log import MAX_TOPICS_PER_KIND, RejectionLog


def test_a_jump_is_dropped_and_the_floor_stays() -> None:
    floor = HeaderFloor(max_jump=10_000)
    assert [floor.judge(i) for i in (40, 41)] == [Verdict.NEW, Verdict.NEW]
    assert floor.judge(2_000_000_000) is Verdict.SUSPICIOUS
    assert floor.judge(42) is Verdict.NEW
    assert floor.judge(42) is Verdict.STALE
    assert floor.judge(30) is Verdict.STALE
    assert floor.last == 42


def test_a_jump_continued_by_the_next_message_is_a_restart() -> None:
    floor = HeaderFloor(max_jump=10_000)
    floor.judge(41)
    assert floor.judge(5_000_000) is Verdict.SUSPICIOUS
    assert floor.judge(5_000_001) is Verdict.RESTARTED
    assert floor.judge(5_000_002) is Verdict.NEW


def test_a_restart_from_zero_after_a_long_run_is_followed_too() -> None:
    floor = HeaderFloor(max_jump=100)
    floor.judge(1_000)
    assert floor.judge(0) is Verdict.SUSPICIOUS
    assert floor.judge(1) is Verdict.RESTARTED
    floor.reset()
    assert floor.judge(7) is Verdict.NEW


def test_stale_filter_counts_suspicious_messages_per_sender() -> None:
    f = StaleFilter(max_jump=10)
    assert f.accept("t", "a", 1)
    assert not f.accept("t", "a", 10_000)
    assert f.accept("t", "a", 2)
    assert f.accept("t", "b", 10_000)  # another sender has its own floor
    assert f.suspicious == 1


def test_rejections_are_logged_once_per_kind_and_topic_then_summed_up(caplog) -> None:
    log = logging.getLogger("test.rejections")
    rejected = RejectionLog(log)
    with caplog.at_level(logging.WARNING, logger="test.rejections"):
        for i in range(10_000):
            rejected.note(seconds(i * 0.001), ("not_json", "too_deep")[i % 2], "orders", f"#{i}")
        assert len(caplog.records) == 2  # 10 s of injected time: no summary yet
        rejected.flush(seconds(59))
        assert len(caplog.records) == 2
        rejected.flush(seconds(61))
        assert len(caplog.records) == 3
        assert "4999 not_json, 4999 too_deep (total 10000)" in caplog.records[-1].getMessage()
        rejected.flush(seconds(500))  # nothing new: no line
        assert len(caplog.records) == 3
    assert rejected.counts == {"not_json": 5000, "too_deep": 5000}


def test_many_topics_of_one_kind_are_named_up_to_a_cap(caplog: pytest.LogCaptureFixture) -> None:
    rejected = RejectionLog(logging.getLogger("test.topics"))
    with caplog.at_level(logging.WARNING, logger="test.topics"):
        for i in range(80):
            rejected.note(0, "not_served", f"uagv/v2/x/ghost-{i}/state", "not served")
        rejected.note(0, "not_json", "orders", "x")
    assert len(caplog.records) == MAX_TOPICS_PER_KIND + 1
    assert "only counted" in caplog.records[MAX_TOPICS_PER_KIND - 1].getMessage()
    assert rejected.total == 81


def test_stale_filter_logs_a_suspicious_sender_once(caplog: pytest.LogCaptureFixture) -> None:
    f = StaleFilter(max_jump=10)
    f.accept("t", "a", 1)
    with caplog.at_level(logging.WARNING, logger="bus.header"):
        for header_id in (5_000, 9_000, 20_000):
            assert not f.accept("t", "a", header_id)
    assert len(caplog.records) == 1
    assert "suspicious headerId 5000 on t from a" in caplog.records[0].getMessage()
