"""Virtual AGVs of the open-source ``vda-5050-lib`` (npm) as a real process, for interop tests.

Why a module: the interoperability tests and a person running the harness by hand start the same
Node script (``node/virtual_agvs.js``) the same way. The package is installed by ``npm ci`` in
``tests/interop/node`` (``.ci/run`` does it); without it the tests skip with the reason, except
under ``CI`` where a missing vehicle is a failure, like a missing broker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from robots.fleet import start_cells
from warehouse_maps.layout import Layout

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "virtual_agvs.js"
PACKAGE = NODE_DIR / "node_modules" / "vda-5050-lib" / "package.json"
INSTALL_HINT = "cd tests/interop/node && npm ci"


def require_virtual_agv() -> tuple[str, str]:
    """``(node binary, installed vda-5050-lib version)``; skips with the reason, fails under CI."""
    node = shutil.which("node")
    problem = None
    if node is None or shutil.which("npm") is None:
        problem = "node and npm are not installed (Node.js 18 or later)"
    elif not PACKAGE.is_file():
        problem = f"vda-5050-lib is not installed ({INSTALL_HINT})"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}: interoperability tests must not skip in CI")
        pytest.skip(problem)
    return str(node), json.loads(PACKAGE.read_text())["version"]


def vehicle_args(layout: Layout, serials: list[str]) -> list[str]:
    """``--vehicle SERIAL,X,Y,THETA,MAPID`` for each serial, on the cells ``bulletyard robots`` uses
    (parking first), at the cell centre in metres, facing east, on the map named after the layout."""
    out: list[str] = []
    for serial, cell in zip(serials, start_cells(layout, len(serials)), strict=True):
        x, y = layout.cell_centre_m(cell)
        out += ["--vehicle", f"{serial},{x},{y},0,{layout.name}"]
    return out


class VirtualAgvs:
    """The virtual AGVs, one Node process each (a crash of one vehicle does not take the others).

    Args:
        port: the broker's loopback port.
        manufacturer: VDA 5050 manufacturer of every vehicle.
        vehicles: ``--vehicle`` arguments (see :func:`vehicle_args`).
        log_dir: folder of one ``vehicle-SERIAL.log`` per vehicle: its JSON event lines (stdout)
            and the library's own messages (stderr).
        extra: more options for the script (``--speed``, ``--time-lapse``, ...).
    """

    def __init__(self, port: int, manufacturer: str, vehicles: list[str], log_dir: Path,
                 extra: tuple[str, ...] = ()) -> None:
        node, self.version = require_virtual_agv()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_paths: list[Path] = []
        self.procs: list[subprocess.Popen] = []
        for flag, spec in zip(vehicles[::2], vehicles[1::2], strict=True):
            log_path = log_dir / f"vehicle-{spec.split(',')[0]}.log"
            argv = [node, str(SCRIPT), "--host", "127.0.0.1", "--port", str(port),
                    "--manufacturer", manufacturer, "--vda-version", "2.0.0", flag, spec, *extra]
            with open(log_path, "ab") as out:
                self.procs.append(subprocess.Popen(argv, cwd=NODE_DIR, stdout=out, stderr=subprocess.STDOUT,
                                                   start_new_session=True))
            self.log_paths.append(log_path)

    def events(self) -> list[dict]:
        """Every event line written so far, vehicle by vehicle (other lines skipped)."""
        out = []
        for path in self.log_paths:
            for line in path.read_text().splitlines():
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        continue
        return out

    def crashed(self) -> list[str]:
        """Logs of vehicle processes that ended on their own with a non-zero status (last lines)."""
        return [" ".join(p.read_text().splitlines()[-3:])[-400:]
                for p, proc in zip(self.log_paths, self.procs, strict=True) if proc.poll() not in (None, 0)]

    def rejections(self) -> list[dict]:
        """Errors the vehicles raised about an order or instant action they refused (newest last)."""
        return [e for e in self.events() if e["event"] == "error"
                and e["error"]["errorType"] in ("validationError", "orderError", "orderUpdateError",
                                                "noRouteError", "instantActionError")]

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM every vehicle (they say OFFLINE); SIGKILL a group still there after ``timeout_s``."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=timeout_s)
