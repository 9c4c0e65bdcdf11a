"""Action dependency graph (Hönig et al., RA-L 2019) over timed grid paths.

Why: a MAPF plan is collision-free only if every robot keeps to its timetable. Real robots run
late (a pick takes longer, a vehicle pauses for a person). The action dependency graph (ADG)
keeps the plan's *order of visits per cell* instead of its timing, so a late robot makes the
others wait but never lets two robots meet or lock each other out.

Model. Each robot has a sequence of steps ``0, 1, 2, ...`` (one cell each; equal consecutive
cells are waits). Two kinds of dependency:

* type 1: a robot executes its own steps in order (implicit in the step index);
* type 2: for every cell, the plan orders the *visits* (a robot entering, staying, leaving). The
  robot of a visit may enter the cell only after the robot of the previous visit has left it,
  i.e. has reached the step after its visit.

``released_prefix(robot)`` is the last step a robot may drive to now; the controller sends the
steps up to it as the VDA 5050 base. ``mark_reached(robot, step)`` records execution progress.

Replanning (:meth:`ActionDependencyGraph.append_window`): a new planning window whose first
configuration is every robot's last planned cell is appended *after* everything already in the
graph, so each cell's visit order stays a valid extension of the old one. Together with
:meth:`truncate_to_released` (drop what was planned but not yet released, e.g. after a robot
failed) this lets the controller replan at any moment without breaking the invariant.

Deadlock freedom holds when the appended plan has no rotation cycle (robots following each
other round a cycle in one step): every dependency then points to an equal or earlier planned
time, and equal-time dependencies form chains, not cycles. :meth:`append_window` checks the
window (start continuity, vertex, swap and rotation conflicts) before changing anything and
raises :class:`ScheduleConflict` naming the robots and the window step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

from warehouse_maps.grid import Cell

RobotId = str


class ScheduleConflict(ValueError):
    """A window that cannot join the graph safely.

    Attributes:
        kind: one of ``start``, ``vertex``, ``swap``, ``rotation``, ``length``, ``jump``, ``occupied``.
        robots: the robots involved, sorted.
        t: the step within the window (0 = its first configuration).
    """

    def __init__(self, kind: str, robots: Sequence[RobotId], t: int, detail: str = "") -> None:
        self.kind = kind
        self.robots = tuple(sorted(robots))
        self.t = t
        who = ", ".join(self.robots)
        super().__init__(f"{kind} conflict at window step {t} between {who} {detail}".strip())


@dataclass(eq=False, slots=True)
class Visit:
    """One robot's stay in one cell: from ``first_step`` to ``last_step`` (None while open)."""

    robot: RobotId
    cell: Cell
    first_step: int
    last_step: int | None = None


@dataclass(eq=False, slots=True)
class _Track:
    """Per-robot state: its planned cells, the visit of each step, progress and release."""

    cells: list[Cell]
    visits: list[Visit]
    deps: dict[int, Visit] = field(default_factory=dict)  # entry step -> visit that must be left
    reached: int = 0
    released: int = 0
    offset: int = 0  # the step of cells[0] and visits[0]: steps before it were forgotten

    @property
    def last(self) -> int:
        """The last planned step."""
        return self.offset + len(self.cells) - 1


class PlannedCells(Sequence[Cell]):
    """A robot's planned cells indexed by step (read-only, no copy); steps the graph has
    forgotten (see :meth:`ActionDependencyGraph.forget_before`) raise IndexError."""

    __slots__ = ("_cells", "_offset")

    def __init__(self, cells: list[Cell], offset: int) -> None:
        self._cells = cells
        self._offset = offset

    def __len__(self) -> int:
        return self._offset + len(self._cells)

    @property
    def first(self) -> int:
        """The first step still known."""
        return self._offset

    @overload
    def __getitem__(self, step: int) -> Cell: ...
    @overload
    def __getitem__(self, step: slice) -> list[Cell]: ...
    def __getitem__(self, step: int | slice) -> Cell | list[Cell]:
        if isinstance(step, slice):
            return [self[k] for k in range(*step.indices(len(self)))]
        if step < 0:
            step += len(self)
        if step < self._offset:
            raise IndexError(f"step {step} was forgotten (kept from {self._offset})")
        return self._cells[step - self._offset]


class ActionDependencyGraph:
    """Visit-ordered execution of timed paths; see the module docstring.

    All methods are pure bookkeeping (no time, no I/O). Robot ids are any strings; iteration is in
    sorted id order so that outputs are deterministic.
    """

    def __init__(self, starts: Mapping[RobotId, Cell] | None = None) -> None:
        self._tracks: dict[RobotId, _Track] = {}
        self._queues: dict[Cell, list[Visit]] = {}
        # robot -> {waiting robot -> its unreleased entry steps that wait for a visit of robot}:
        # the reverse of ``_Track.deps`` beyond the released step, so :meth:`waiting_on` need not
        # scan the fleet (at 500 robots that scan was the controller's largest cost per state)
        self._dependents: dict[RobotId, dict[RobotId, set[int]]] = {}
        for robot in sorted(starts or {}):
            self.add_robot(robot, (starts or {})[robot])

    # -- robots -------------------------------------------------------------------------------
    def add_robot(self, robot: RobotId, cell: Cell) -> None:
        """Put ``robot`` in the graph standing on ``cell`` (its step 0 there, reached)."""
        if robot in self._tracks:
            raise ValueError(f"robot {robot} is already in the execution graph")
        queue = self._queues.setdefault(cell, [])
        if queue and queue[-1].last_step is None:
            raise ScheduleConflict("occupied", [robot, queue[-1].robot], 0, f"at {cell}")
        visit = Visit(robot, cell, 0)
        queue.append(visit)
        self._tracks[robot] = _Track(cells=[cell], visits=[visit])

    def remove_robot(self, robot: RobotId) -> None:
        """Forget ``robot`` and all its visits (only once it is really gone from the floor)."""
        track = self._tracks.pop(robot)
        for visit in set(track.visits):
            queue = self._queues.get(visit.cell, [])
            if visit in queue:
                queue.remove(visit)
                self._drop_if_empty(visit.cell)
        for other in self._tracks.values():
            for step, dep in list(other.deps.items()):
                if dep.robot == robot:
                    del other.deps[step]
        self._dependents.pop(robot, None)
        for step, dep in track.deps.items():
            self._forget_dependent(dep.robot, robot, step)

    @property
    def robots(self) -> list[RobotId]:
        """Robot ids in sorted order."""
        return sorted(self._tracks)

    def __contains__(self, robot: object) -> bool:
        return robot in self._tracks

    # -- queries ------------------------------------------------------------------------------
    def cells(self, robot: RobotId) -> PlannedCells:
        """The robot's planned cells indexed by step (a view; forgotten steps raise IndexError)."""
        track = self._tracks[robot]
        return PlannedCells(track.cells, track.offset)

    def cell_at(self, robot: RobotId, step: int) -> Cell:
        """The cell planned for ``robot`` at ``step``."""
        track = self._tracks[robot]
        return track.cells[step - track.offset]

    def last_step(self, robot: RobotId) -> int:
        """Index of the robot's last planned step."""
        return self._tracks[robot].last

    def last_cell(self, robot: RobotId) -> Cell:
        """The cell the robot's plan ends on (where the next window must start)."""
        return self._tracks[robot].cells[-1]

    def reached(self, robot: RobotId) -> int:
        """The last step the robot is known to have reached."""
        return self._tracks[robot].reached

    def released_prefix(self, robot: RobotId) -> int:
        """The last step released to the robot (it may drive up to that step's cell)."""
        return self._tracks[robot].released

    def remaining(self, robot: RobotId) -> int:
        """Planned steps not yet reached."""
        track = self._tracks[robot]
        return track.last - track.reached

    def occupied_cells(self, robot: RobotId) -> list[Cell]:
        """Cells the robot may be on or moving to: from its reached step to its released step."""
        track = self._tracks[robot]
        out: list[Cell] = []
        for cell in track.cells[track.reached - track.offset : track.released + 1 - track.offset]:
            if not out or out[-1] != cell:
                out.append(cell)
        return out

    def visit_at(self, robot: RobotId, step: int) -> Visit:
        """The robot's visit that holds ``step`` (the graph's own record: read it, do not change it)."""
        track = self._tracks[robot]
        return track.visits[step - track.offset]

    def blocker(self, robot: RobotId) -> Visit | None:
        """The visit the robot's next unreleased step waits for while its robot has not left it
        (None: the next step is free, or the plan ends at the released step)."""
        track = self._tracks[robot]
        if track.released >= track.last or self._may_enter(track, track.released + 1):
            return None
        return track.deps[track.released + 1]

    def is_done(self) -> bool:
        """True when every robot has reached its last planned step."""
        return all(t.reached == t.last for t in self._tracks.values())

    # -- progress -----------------------------------------------------------------------------
    def _may_enter(self, track: _Track, step: int) -> bool:
        dep = track.deps.get(step)
        if dep is None:
            return True
        if dep.last_step is None:
            return False
        return self._tracks[dep.robot].reached > dep.last_step

    def release(self, robot: RobotId, max_ahead: int | None = None, refill_at: int | None = None) -> int:
        """Extend the robot's released prefix as far as its dependencies allow now.

        Args:
            robot: the robot.
            max_ahead: release at most this many steps beyond the reached step (None: no limit);
                a short release keeps more of the plan open to replanning.
            refill_at: release only once the robot has this few released steps left beyond its
                reached step (None: whenever the graph allows). Releasing in chunks sends one order
                update per chunk instead of one per step.

        Returns:
            The new released step (never smaller than before: a release is a promise).
        """
        track = self._tracks[robot]
        if refill_at is not None and track.released - track.reached > refill_at:
            return track.released
        limit = track.last
        if max_ahead is not None:
            limit = min(limit, track.reached + max_ahead)
        step = track.released
        while step < limit and self._may_enter(track, step + 1):
            step += 1
            dep = track.deps.get(step)
            if dep is not None:
                self._forget_dependent(dep.robot, robot, step)
        track.released = step
        return step

    def _forget_dependent(self, robot: RobotId, waiter: RobotId, step: int) -> None:
        """Drop ``waiter``'s entry ``step`` from the robots waiting on ``robot``."""
        waiters = self._dependents.get(robot)
        if waiters is None:
            return
        steps = waiters.get(waiter)
        if steps is not None:
            steps.discard(step)
            if not steps:
                del waiters[waiter]

    def waiting_on(self, robot: RobotId) -> list[RobotId]:
        """Robots whose next unreleased step waits for ``robot`` to leave a cell (sorted).

        Why: when ``robot`` reports progress only these (and ``robot`` itself) can be released
        further, so a vehicle state need not re-check the whole fleet.
        """
        out = []
        for other, steps in self._dependents.get(robot, {}).items():
            if other != robot and self._tracks[other].released + 1 in steps:
                out.append(other)
        return sorted(out)

    def release_some(self, robots: Iterable[RobotId], max_ahead: int | None = None,
                     refill_at: int | None = None) -> dict[RobotId, int]:
        """:meth:`release` for ``robots`` only; the ones whose released step grew, with the new step."""
        grown: dict[RobotId, int] = {}
        for robot in sorted(robots):
            before = self._tracks[robot].released
            after = self.release(robot, max_ahead, refill_at)
            if after != before:
                grown[robot] = after
        return grown

    def release_all(self, max_ahead: int | None = None, refill_at: int | None = None) -> dict[RobotId, int]:
        """Release every robot; returns the robots whose released step grew, with the new step."""
        grown: dict[RobotId, int] = {}
        for robot in sorted(self._tracks):
            before = self._tracks[robot].released
            after = self.release(robot, max_ahead, refill_at)
            if after != before:
                grown[robot] = after
        return grown

    def mark_reached(self, robot: RobotId, step: int) -> None:
        """Record that ``robot`` stands at (or has passed) ``step``; never beyond its release."""
        track = self._tracks[robot]
        if step > track.released:
            raise ValueError(f"{robot} reported step {step} beyond its released step {track.released}")
        visits, offset = track.visits, track.offset
        for s in range(track.reached + 1, step + 1):
            if visits[s - offset] is not visits[s - 1 - offset]:
                track.reached = s
                self._prune(visits[s - 1 - offset].cell)
        track.reached = max(track.reached, step)

    def forget_before(self, robot: RobotId, step: int, min_batch: int = 64) -> None:
        """Drop the robot's planned steps before ``step`` (never beyond its reached step).

        Why: a robot's track grew by a cell and a visit per planned step for as long as the
        controller ran (about 0.5 MB per robot per hour). Steps before the reached one are never
        read by the graph; the caller keeps what it still reads (the order stream's last sent
        step). Amortised: the lists are cut only once ``min_batch`` steps have piled up. The batch
        is small because what piles up is live memory whose peaks the process keeps: with 256, the
        tracks of 100 robots swung between 1.2 and 1.6 MB.
        """
        track = self._tracks[robot]
        step = min(step, track.reached)
        if step - track.offset < min_batch:
            return
        cut = step - track.offset
        del track.cells[:cut]
        del track.visits[:cut]
        track.offset = step
        for k in [k for k in track.deps if k < step]:
            del track.deps[k]

    def _prune(self, cell: Cell) -> None:
        """Drop visits at the front of a cell's queue whose robot has left (keeps queues short)."""
        queue = self._queues.get(cell)
        while (
            queue
            and queue[0].last_step is not None
            and (
                queue[0].robot not in self._tracks
                or self._tracks[queue[0].robot].reached > queue[0].last_step
            )
        ):
            queue.pop(0)
        self._drop_if_empty(cell)

    def _drop_if_empty(self, cell: Cell) -> None:
        """Forget a cell's queue once no visit is left in it: over a shift every cell of the floor
        would otherwise keep an empty list (about 1 MB at 100 robots on ``fc``, growing for hours)."""
        if not self._queues.get(cell, True):
            del self._queues[cell]

    # -- replanning ---------------------------------------------------------------------------
    def truncate_to_released(self, robots: Sequence[RobotId] | None = None) -> None:
        """Drop planned steps beyond the released prefix (of ``robots``, default all).

        Unreleased visits always sit at the back of their cells' queues (a released visit cannot
        follow an unreleased one), so removing them keeps every remaining order intact.
        """
        for robot in sorted(robots if robots is not None else self._tracks):
            track = self._tracks[robot]
            keep = track.released + 1
            for visit in set(track.visits[keep - track.offset :]):
                if visit.first_step >= keep:
                    self._queues[visit.cell].remove(visit)
                    self._drop_if_empty(visit.cell)
            del track.cells[keep - track.offset :]
            del track.visits[keep - track.offset :]
            track.visits[-1].last_step = None
            for step in [s for s in track.deps if s >= keep]:
                self._forget_dependent(track.deps.pop(step).robot, robot, step)

    def append_window(self, paths: Mapping[RobotId, Sequence[Cell]]) -> None:
        """Append one planning window: ``paths[r][0]`` must be ``last_cell(r)``; equal lengths.

        Robots of the graph missing from ``paths`` stay where their plan ends; no path may enter
        their cells. The window is checked first and nothing changes if it is rejected.

        Raises:
            ScheduleConflict: start mismatch, unequal lengths, a jump, vertex, swap or rotation.
        """
        self._check_window(paths)
        if not paths:
            return
        length = len(next(iter(paths.values())))
        order = sorted(paths)
        base = {r: self._tracks[r].last for r in order}
        for t in range(1, length):
            movers = [r for r in order if paths[r][t] != paths[r][t - 1]]
            # leaves first, so that a robot following another sees the closed visit
            for r in movers:
                self._tracks[r].visits[-1].last_step = base[r] + t - 1
            for r in order:
                track = self._tracks[r]
                cell = paths[r][t]
                track.cells.append(cell)
                if r in movers:
                    queue = self._queues.setdefault(cell, [])
                    visit = Visit(r, cell, base[r] + t)
                    if queue:
                        track.deps[base[r] + t] = queue[-1]
                        waiters = self._dependents.setdefault(queue[-1].robot, {})
                        waiters.setdefault(r, set()).add(base[r] + t)
                    queue.append(visit)
                    track.visits.append(visit)
                else:
                    track.visits.append(track.visits[-1])

    def _check_window(self, paths: Mapping[RobotId, Sequence[Cell]]) -> None:
        order = sorted(paths)
        lengths = {len(paths[r]) for r in order}
        if len(lengths) > 1:
            raise ScheduleConflict("length", order, 0, f"lengths {sorted(lengths)}")
        for r in order:
            if r not in self._tracks:
                raise ValueError(f"robot {r} is not in the execution graph")
            if paths[r][0] != self.last_cell(r):
                detail = f"path starts at {paths[r][0]}, plan ends at {self.last_cell(r)}"
                raise ScheduleConflict("start", [r], 0, detail)
        fixed = {self.last_cell(r): r for r in self._tracks if r not in paths}
        length = lengths.pop() if lengths else 0
        for t in range(length):
            seen: dict[Cell, RobotId] = dict(fixed)
            for r in order:
                cell = paths[r][t]
                if cell in seen:
                    raise ScheduleConflict("vertex", [r, seen[cell]], t, f"at {cell}")
                seen[cell] = r
                if t and abs(cell[0] - paths[r][t - 1][0]) + abs(cell[1] - paths[r][t - 1][1]) > 1:
                    raise ScheduleConflict("jump", [r], t, f"{paths[r][t - 1]} -> {cell}")
            if t:
                self._check_following(paths, order, t)

    @staticmethod
    def _check_following(paths: Mapping[RobotId, Sequence[Cell]], order: list[RobotId], t: int) -> None:
        """Reject swaps and rotation cycles among the moves from step t-1 to t."""
        source_of = {paths[r][t - 1]: r for r in order if paths[r][t] != paths[r][t - 1]}
        for start in sorted(source_of.values()):
            chain = [start]
            r = start
            while True:
                nxt = source_of.get(paths[r][t])  # the mover that vacates the cell r enters
                if nxt is None:
                    break
                if nxt == start:
                    kind = "swap" if len(chain) == 2 else "rotation"
                    raise ScheduleConflict(kind, chain, t)
                if nxt in chain:
                    break
                chain.append(nxt)
                r = nxt
