"""Running cells: as Ray tasks (a local Ray on this machine's cores, or a cluster by address), or
one after another in this process (``bulletyard check`` without ``--ray``).

Ray is an optional extra and is imported only here. Each cell is one task of one CPU with no
retries (a run is deterministic: a failure would repeat). Results are handed to ``on_record`` as
they finish, so the caller journals them one by one; Ctrl-C cancels the tasks still queued or
running and keeps what finished. With an address, the project's packages travel with the job in
Ray's runtime environment (``py_modules``), so the cluster needs only Python and the dependencies.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulletyard.errors import UsageError
from bulletyard.sweep.cell import failed_record, run_cell

INSTALL_HINT = "Ray is not installed: pip install 'bulletyard[sweep]' (or pip install 'ray[client]')"
#: Packages shipped to a cluster with each job (the whole project, bundled layouts included).
PROJECT_PACKAGES = ("bulletyard", "sim", "controller", "bus", "robots", "sorter", "warehouse_maps")
#: Connections tried when the head answers but fails to start the client's own server process,
#: a failure seen on a busy head that the next connection does not repeat.
CONNECT_ATTEMPTS = 3
#: What Ray's client error says in that case (any other connection error is final at once).
SERVER_START_FAILURE = "Initialization failure from server"
#: Object store of a local Ray: results are small JSON, so keep it small (bytes).
LOCAL_OBJECT_STORE_BYTES = 80 * 2**20


#: ``simulate`` options that may name a file on the driver's disk (it travels with the job).
FILE_OPTIONS = ("layout", "order_file")


@dataclass(frozen=True, slots=True)
class Job:
    """One cell to run: its id, its ``simulate`` keyword arguments, and the text of the files
    they name (option -> text), for a worker that does not have them."""

    cell_id: str
    kwargs: dict[str, Any]
    files: dict[str, str]

    @classmethod
    def of(cls, cell_id: str, kwargs: dict[str, Any]) -> Job:
        """A job whose file options (absolute paths of existing files) carry their text."""
        files = {}
        for option in FILE_OPTIONS:
            value = kwargs.get(option)
            if isinstance(value, str) and Path(value).is_absolute() and Path(value).is_file():
                files[option] = Path(value).read_text(encoding="utf-8")
        return cls(cell_id, kwargs, files)


OnRecord = Callable[[dict[str, Any]], None]


def require_ray() -> Any:
    """The ``ray`` module, or a :class:`UsageError` saying how to install it (exit 2)."""
    try:
        import ray
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return ray


def ray_address(option: str | None) -> str | None:
    """``--address``, else ``RAY_ADDRESS``, else ``None`` (start Ray locally)."""
    return option or os.environ.get("RAY_ADDRESS") or None


def run_local(jobs: Sequence[Job], out_dir: Path, token: str, keep_traces: bool,
              on_record: OnRecord) -> None:
    """Run the jobs one after another in this process."""
    for job in jobs:
        on_record(run_cell(job.kwargs, job.cell_id, str(out_dir), token, job.files, keep_traces))


def run_on_ray(
    jobs: Sequence[Job],
    out_dir: Path,
    token: str,
    keep_traces: bool,
    on_record: OnRecord,
    *,
    address: str | None,
    workers: int | None,
    on_start: Callable[[str], None] | None = None,
) -> None:
    """Run the jobs as Ray tasks and hand each record to ``on_record`` as it finishes;
    ``on_start`` gets one line saying which Ray runs them."""
    ray = require_ray()
    where = _init(ray, address, workers)
    try:
        if on_start is not None:
            cpus = ray.cluster_resources().get("CPU", 0)
            on_start(f"{where}, {cpus:g} CPU{'s' if cpus != 1 else ''}")
        task = ray.remote(num_cpus=1, max_retries=0)(run_cell)
        pending = {
            task.remote(j.kwargs, j.cell_id, str(out_dir), token, j.files, keep_traces): j
            for j in jobs
        }
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        record = ray.get(ref)
                    except Exception as exc:  # the worker died: record it, carry on
                        record = failed_record(job.kwargs, job.cell_id, f"{type(exc).__name__}: {exc}")
                    on_record(record)
        except KeyboardInterrupt:
            for ref in pending:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - the cluster may already be going down with us
                    pass
            raise
    finally:
        ray.shutdown()


def _init(ray: Any, address: str | None, workers: int | None) -> str:
    """Connect (or start a local Ray); returns where the tasks run, for the user."""
    quiet = {"log_to_driver": False, "logging_level": "WARNING", "configure_logging": True}
    if address is None:
        ray.init(
            address="local",  # a new instance: never the latest cluster started on this machine
            num_cpus=workers or os.cpu_count() or 1,
            include_dashboard=False,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            **quiet,
        )
        return f"local Ray at {ray.get_runtime_context().gcs_address}"
    import importlib

    # Folders, not module objects: the Ray client (ray://) pickles the runtime environment.
    modules = [str(Path(importlib.import_module(name).__file__).parent) for name in PROJECT_PACKAGES]
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        try:
            with warnings.catch_warnings():  # Ray warns of a timeout too: the error below says it once
                warnings.simplefilter("ignore", UserWarning)
                ray.init(address=address, runtime_env={"py_modules": modules}, **quiet)
            return f"Ray cluster at {address}"
        except ConnectionError as exc:
            if attempt == CONNECT_ATTEMPTS or SERVER_START_FAILURE not in str(exc):
                raise UsageError(f"--address {address}: cannot reach the Ray cluster ({exc})") from None
            print(f"--address {address}: the head could not start this client's server "
                  f"(attempt {attempt} of {CONNECT_ATTEMPTS}); trying again", file=sys.stderr)
    raise AssertionError("unreachable")
