"""Run the CLI in-process on hostile input and classify the outcome (issue 25).

Used by the bad-input regression tests and the fuzz suite. The only outcomes a user may see for
any input are success and one error line with exit status 2; everything else (an exception
escaping :func:`bulletyard.cli.main`, a run past the time limit, a memory peak past the bound)
is a bug. Three stand-ins keep a case fast without hiding any input check:

- the PyBullet world of ``sim`` (:class:`bulletyard.runtime.sim_setup.World`): the layout and
  order file are loaded before it, so reaching it means the inputs were accepted;
- the local runner of ``check`` and Ray of ``sweep``: reached only after the whole file is
  checked;
- a dead broker URL for the network commands: they must refuse bad files and options before
  they connect.

Reaching a stand-in counts as ``reached`` (accepted); the caller decides whether that was right.
"""

from __future__ import annotations

import contextlib
import io
import signal
import tracemalloc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from unittest import mock

from bulletyard.cli import main

DEAD_BROKER = "mqtt://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused
MEMORY_BOUND_B = 256 * 1024 * 1024  # Python and numpy allocations of one case


class Reached(Exception):  # noqa: N818 - a signal, not an error
    """A stand-in was called: the CLI accepted its input and started the real work."""


class TimedOut(Exception):  # noqa: N818
    """The case ran past its time limit."""


@dataclass(frozen=True)
class Outcome:
    """What one CLI call did."""

    status: int | None  # exit status; None when an exception escaped
    stderr: str
    error: BaseException | None = None
    reached: bool = False
    peak_b: int = 0

    @property
    def clean_refusal(self) -> bool:
        """Exit status 2 with exactly one error line, the last (log lines of a service may precede it)."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        errors = [ln for ln in lines if ": error: " in ln]
        return (self.status == 2 and len(errors) == 1 and lines[-1] == errors[0]
                and "Traceback" not in self.stderr)

    def describe(self) -> str:
        """A short account for assertion messages."""
        what = f"status {self.status}" if self.error is None else f"{type(self.error).__name__}: {self.error}"
        return f"{what}; reached={self.reached}; stderr={self.stderr.strip()[:300]!r}"


def _reach(*_args: object, **_kwargs: object) -> None:
    raise Reached


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def ring(_signum: int, _frame: object) -> None:
        raise TimedOut(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_cli(argv: Sequence[str], timeout_s: float = 20.0, measure_memory: bool = False) -> Outcome:
    """Call ``bulletyard ARGV`` in this process with the stand-ins, a time limit and (optionally)
    a memory measurement; never raises for what the CLI does."""
    err = io.StringIO()
    status: int | None = None
    error: BaseException | None = None
    reached = False
    if measure_memory:
        tracemalloc.start()
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(mock.patch("bulletyard.runtime.sim_setup.World", _reach))
            stack.enter_context(mock.patch("bulletyard.sweep.executor.run_local", _reach))
            stack.enter_context(mock.patch("bulletyard.sweep.executor.require_ray", _reach))
            stack.enter_context(contextlib.redirect_stderr(err))
            stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
            stack.enter_context(_deadline(timeout_s))
            status = main(list(argv))
    except Reached:
        reached = True
    except SystemExit as exc:  # argparse's --help; anything else exiting is a finding
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - every escape is the finding
        error = exc
    peak = 0
    if measure_memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Outcome(status, err.getvalue(), error, reached, peak)


def assert_acceptable(outcome: Outcome) -> None:
    """Success, reaching the work, or one clean error line with exit status 2; within the bounds."""
    assert outcome.error is None, outcome.describe()
    assert outcome.reached or outcome.status == 0 or outcome.clean_refusal, outcome.describe()
    peak_mib = outcome.peak_b / 2**20
    assert outcome.peak_b <= MEMORY_BOUND_B, f"memory peak {peak_mib:.0f} MiB: {outcome.describe()}"


def assert_refused(outcome: Outcome, *needles: str) -> str:
    """One clean error line containing every needle; returns the line."""
    assert outcome.error is None, outcome.describe()
    assert not outcome.reached, f"accepted: {outcome.describe()}"
    assert outcome.clean_refusal, outcome.describe()
    line = outcome.stderr.strip()
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line
