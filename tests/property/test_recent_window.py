"""RecentWindow against a reference: the newest keys within the window, at most max_items."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bus.recent import RecentWindow

adds = st.lists(st.tuples(st.integers(0, 30), st.sampled_from("abcdefgh"), st.integers()), max_size=60)


@given(adds, st.integers(1, 40), st.none() | st.integers(1, 5))
def test_window_keeps_the_newest_keys_within_the_window(steps, window, cap) -> None:
    recent: RecentWindow[int] = RecentWindow(window, cap)
    now, last_seen = 0, {}  # key -> (time of its last add, value)
    for gap, key, value in steps:
        now += gap
        recent.add(now, key, value)
        last_seen.pop(key, None)
        last_seen[key] = (now, value)
    newest_last = [k for k, (t, _) in last_seen.items() if t >= now - window]
    expected = newest_last if cap is None else newest_last[-cap:]
    assert list(recent) == expected
    assert all(recent[k] == last_seen[k][1] and k in recent for k in expected)
    assert all(recent.get(k, -1) == -1 for k in "abcdefgh" if k not in expected)


def test_a_key_added_again_moves_to_the_newest_end() -> None:
    recent: RecentWindow[None] = RecentWindow(10)
    for t, key in [(0, "a"), (1, "b"), (8, "a"), (12, "c")]:
        recent.add(t, key, None)
    assert list(recent) == ["a", "c"]  # b (seen at 1) left at 12; a was seen again at 8
