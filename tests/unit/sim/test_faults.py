"""Fault option parsing and the seeded delay injector."""

from __future__ import annotations

import numpy as np
import pytest

from bulletyard.cli import main
from bus.clock import SIM_EPOCH, Instant, seconds
from sim.faults import DelayInjector, DelaySpec, FaultSpecError, QuietSpan, fault_plan


def test_fault_plan_parses_every_option() -> None:
    plan = fault_plan("0.01,1,20", ["agv-0003@120"], 0.1, ["CH7@30.5"])
    assert plan.delays == DelaySpec(0.01, 1.0, 20.0)
    assert plan.kills[0].target == "agv-0003"
    assert plan.kills[0].t_s == 120.0
    assert plan.chute_closes[0].t_s == 30.5
    assert plan.bus_rules()[0].loss_p == 0.1
    assert plan.as_dict()["kill_robot"] == ["agv-0003@120"]
    assert not fault_plan().any


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delays": "0.5,3"}, "--delays"),
        ({"delays": "2,1,3"}, "P <= 1"),
        ({"kills": ["agv-1"]}, "--kill-robot"),
        ({"kills": ["@5"]}, "ID@SECONDS"),
        ({"chute_closes": ["CH1@soon"]}, "--chute-close"),
        ({"drop_rate": 1.5}, "--drop-rate"),
        ({"silences": ["agv-0001@30"]}, "--silence-robot 'agv-0001@30': expected ID@T1-T2"),
        ({"silences": ["agv-0001@30-20"]}, "T1 < T2"),
        ({"silences": ["agv-0001@30-nan"]}, "--silence-robot"),
        ({"silences": ["@1-2"]}, "--silence-robot"),
        ({"silences": ["agv-0001@-5-20"]}, "--silence-robot"),
    ],
)
def test_bad_fault_options_name_the_option(kwargs: dict, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        fault_plan(**kwargs)


def test_silence_robot_parses_a_span_and_goes_in_the_manifest_only_when_given() -> None:
    plan = fault_plan(silences=["agv-0002@24-120.5"])
    assert plan.silences == (QuietSpan("agv-0002", 24.0, 120.5),)
    assert plan.any
    assert plan.as_dict()["silence_robot"] == ["agv-0002@24-120.5"]
    assert "silence_robot" not in fault_plan().as_dict()  # older runs' manifests unchanged


@pytest.mark.parametrize(("value", "words"), [
    ("agv-0001@5", "expected ID@T1-T2"),
    ("agv-0099@5-9", "agv-0099: no such robot"),
])
def test_bad_silence_robot_is_one_clear_error_exit_2(tmp_path, capsys, value: str, words: str) -> None:
    argv = ["sim", "--robots", "2", "--orders", "1", "--silence-robot", value, "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--silence-robot" in err
    assert words in err
    assert "Traceback" not in err


def test_delay_injector_is_seeded_and_never_stacks_delays() -> None:
    def run() -> list[tuple[str, int, int]]:
        held: list[tuple[str, int, int]] = []
        inj = DelayInjector(DelaySpec(0.3, 1.0, 5.0), ["a", "b", "c"], np.random.default_rng(4),
                            lambda rid, now, span: held.append((rid, now - SIM_EPOCH, span)))
        for k in range(20):
            inj.draw(Instant(SIM_EPOCH + seconds(k)))
        return held

    first = run()
    assert first == run()
    assert first
    for rid in "abc":
        spans = [(t, t + s) for r, t, s in first if r == rid]
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end
