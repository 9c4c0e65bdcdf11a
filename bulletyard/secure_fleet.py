"""``python -m bulletyard.secure_fleet SETUP_DIR ROBOTS-ARGS...``: the fleet with per-robot logins.

On a secured broker every vehicle logs in as itself (user name = serial number, its own password)
over TLS with the site's CA, as real vehicles would. ``bulletyard robots`` takes one broker URL
for the whole fleet, so this wrapper runs it with a transport class that fills in each client's
own credentials and the CA from a setup written by :mod:`bulletyard.secure_broker`.

Fault injection for the end-to-end tests: ``BULLETYARD_FLEET_ROUTE="agv-0002=127.0.0.1:PORT"``
connects that vehicle through another address (a proxy that can cut it off) and
``BULLETYARD_FLEET_KEEPALIVE_S`` sets every vehicle's MQTT keepalive.

Stopgap (TODO(e2e)): once ``bulletyard robots`` accepts ``--ca-file`` and a credentials file,
``bulletyard up`` should call it directly and this module can go.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import bus.mqtt
from bulletyard.secure_broker import SecureBrokerSetup


def secure_transport_class(setup: SecureBrokerSetup) -> type[bus.mqtt.MqttTransport]:
    """An ``MqttTransport`` whose client id picks the login: TLS URL, CA, that account's password."""
    base = bus.mqtt.MqttTransport
    routes = dict(
        item.split("=", 1) for item in os.environ.get("BULLETYARD_FLEET_ROUTE", "").split(",") if item
    )
    keepalive_s = os.environ.get("BULLETYARD_FLEET_KEEPALIVE_S")

    class SecureMqttTransport(base):  # type: ignore[misc, valid-type]
        def __init__(self, url: str, client_id: str, **kwargs: object) -> None:
            prefix = f"{setup.manufacturer}-"  # the fleet names clients manufacturer-serial
            name = client_id[len(prefix) :] if client_id.startswith(prefix) else client_id
            account = setup.account(name)
            kwargs.setdefault("ca_file", str(setup.ca_file))
            if keepalive_s:
                kwargs.setdefault("keepalive_s", int(keepalive_s))
            url = f"mqtts://{routes[name]}" if name in routes else setup.tls_url
            super().__init__(
                url, client_id, username=account.username, password=account.password, **kwargs
            )  # type: ignore[arg-type]

    return SecureMqttTransport


def main(argv: list[str]) -> int:
    """Run ``bulletyard robots`` (``argv[1:]``) against the setup in ``argv[0]``."""
    if not argv:
        print("usage: python -m bulletyard.secure_fleet SETUP_DIR --layout L --count N ...", file=sys.stderr)
        return 2
    setup = SecureBrokerSetup.load(Path(argv[0]))
    bus.mqtt.MqttTransport = secure_transport_class(setup)  # read by robots_cmd when it builds transports
    from bulletyard.cli import main as cli_main

    return cli_main(["robots", "--broker", setup.tls_url, *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
