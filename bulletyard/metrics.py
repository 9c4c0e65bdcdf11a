"""Prometheus-style metrics of the running controller over HTTP (text exposition format 0.0.4).

Why: an operator's Prometheus scrapes ``GET /metrics`` on the edge box; no client library is
needed for a handful of gauges, counters and summaries. The HTTP server runs in a daemon thread
and only reads a snapshot taken under the runner's lock, so it never races the controller.

Exposed: ``bulletyard_orders{state=...}``, ``bulletyard_robots{state=...}``, message counters
``bulletyard_messages_total{direction=in|out}``, ``bulletyard_plan_seconds`` and
``bulletyard_reaction_seconds`` summaries (quantiles 0.5/0.99 over recent samples, sum, count),
``bulletyard_resends_total``, ``bulletyard_rejected_messages_total``, plus the controller's
counters as ``bulletyard_events_total{event=...}``. The process itself, under the names every
Prometheus client library uses: ``process_resident_memory_bytes``, ``process_cpu_seconds_total``
and ``process_open_fds`` (from ``/proc``; left out where there is none), so a long run's memory
can be watched from the same scrape.
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from controller.stats import percentile


def _quantiles(samples) -> tuple[float, float, float, int]:
    data = np.fromiter(samples, dtype=np.float64)
    if data.size == 0:
        return 0.0, 0.0, 0.0, 0
    return percentile(data.tolist(), 50), percentile(data.tolist(), 99), float(data.sum()), int(data.size)


PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_lines() -> list[str]:
    """The standard ``process_*`` metrics of this process from ``/proc/self`` ([] without /proc)."""
    try:
        rss_pages = int(Path("/proc/self/statm").read_text().split()[1])
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        fds = len(os.listdir("/proc/self/fd"))
    except (OSError, IndexError, ValueError):
        return []
    return [
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        f"process_resident_memory_bytes {rss_pages * PAGE_BYTES}",
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
        "# TYPE process_cpu_seconds_total counter",
        f"process_cpu_seconds_total {(int(fields[11]) + int(fields[12])) / CLK_TCK:.2f}",
        "# HELP process_open_fds Number of open file descriptors.",
        "# TYPE process_open_fds gauge",
        f"process_open_fds {fds}",
    ]


def render(controller, stats) -> str:
    """The metrics text for one scrape."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    family("bulletyard_orders", "gauge", "Orders by life-cycle state.")
    for state, n in sorted(controller.order_counts().items()):
        lines.append(f'bulletyard_orders{{state="{state}"}} {n}')
    family("bulletyard_robots", "gauge", "Robots by state.")
    for state, n in sorted(controller.robot_counts().items()):
        lines.append(f'bulletyard_robots{{state="{state}"}} {n}')
    family("bulletyard_messages_total", "counter", "Bus messages handled (in) and published (out).")
    lines.append(f'bulletyard_messages_total{{direction="in"}} {stats.messages_in}')
    lines.append(f'bulletyard_messages_total{{direction="out"}} {stats.messages_out}')
    for name, samples, help_text in (
        (
            "bulletyard_plan_seconds",
            stats.tick_s,
            "Duration of controller ticks (planning, release, resends).",
        ),
        ("bulletyard_reaction_seconds", stats.reaction_s, "Vehicle state handled to orders published."),
    ):
        p50, p99, total, count = _quantiles(samples)
        family(name, "summary", help_text)
        lines.append(f'{name}{{quantile="0.5"}} {p50:.6f}')
        lines.append(f'{name}{{quantile="0.99"}} {p99:.6f}')
        lines.append(f"{name}_sum {total:.6f}")
        lines.append(f"{name}_count {count}")
    family(
        "bulletyard_resends_total",
        "counter",
        "Orders and instant actions resent for lack of acknowledgement.",
    )
    lines.append(f"bulletyard_resends_total {controller.executor.outbox.resend.resent}")
    family(
        "bulletyard_rejected_messages_total", "counter", "Inbound messages rejected as malformed or unknown."
    )
    lines.append(f"bulletyard_rejected_messages_total {controller.counters['rejected']}")
    family("bulletyard_events_total", "counter", "Controller events by kind.")
    for event, n in sorted(controller.counters.items()):
        lines.append(f'bulletyard_events_total{{event="{event}"}} {n}')
    lines += process_lines()
    return "\n".join(lines) + "\n"


class MetricsPortError(OSError):
    """The metrics address cannot be bound (port taken, address not local): a user setting."""


class MetricsServer:
    """``GET /metrics`` on ``host:port`` (port 0 picks a free one; see :attr:`port`)."""

    def __init__(self, snapshot, host: str = "127.0.0.1", port: int = 9108) -> None:
        self._snapshot = snapshot

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404, "only /metrics is served")
                    return
                body = snapshot().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                return

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as err:
            raise MetricsPortError(f"metrics: cannot listen on {host}:{port}: {err.strerror}") from None
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
