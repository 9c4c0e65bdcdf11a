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
    """The Node process running the virtual AGVs; its JSON event lines go to ``log_path``.

    Args:
        port: the broker's loopback port.
        manufacturer: VDA 5050 manufacturer of every vehicle.
        vehicles: ``--vehicle`` arguments (see :func:`vehicle_args`).
        log_path: file of the event lines (stdout) and the library's own messages (stderr).
        extra: more options for the script (``--speed``, ``--time-lapse``, ...).
    """

    def __init__(self, port: int, manufacturer: str, vehicles: list[str], log_path: Path,
                 extra: tuple[str, ...] = ()) -> None:
        node, self.version = require_virtual_agv()
        self.log_path = log_path
        argv = [node, str(SCRIPT), "--host", "127.0.0.1", "--port", str(port),
                "--manufacturer", manufacturer, "--vda-version", "2.0.0", *vehicles, *extra]
        with open(log_path, "ab") as out:
            self.proc = subprocess.Popen(argv, cwd=NODE_DIR, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def events(self) -> list[dict]:
        """Every event line written so far (other lines skipped)."""
        out = []
        for line in self.log_path.read_text().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def rejections(self) -> list[dict]:
        """Errors the vehicles raised about an order or instant action they refused (newest last)."""
        return [e for e in self.events() if e["event"] == "error"
                and e["error"]["errorType"] in ("validationError", "orderError", "orderUpdateError",
                                                "noRouteError", "instantActionError")]

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM (vehicles say OFFLINE), then SIGKILL the group after ``timeout_s``; the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
        return self.proc.wait(timeout=timeout_s)
