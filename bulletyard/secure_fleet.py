"""``python -m bulletyard.secure_fleet SETUP_DIR ROBOTS-ARGS...``: the fleet with per-robot logins.

On a secured broker every vehicle logs in as itself (user name = serial number, its own password)
over TLS with the site's CA, as real vehicles would. ``bulletyard robots`` takes one broker URL
for the whole fleet, so this wrapper runs it with a transport class that fills in each client's
own credentials and the CA from a setup written by :mod:`bulletyard.secure_broker`.

Stopgap (TODO(e2e)): once ``bulletyard robots`` accepts ``--ca-file`` and a credentials file,
``bulletyard up`` should call it directly and this module can go.
"""

from __future__ import annotations

import sys
from pathlib import Path

import bus.mqtt
from bulletyard.secure_broker import SecureBrokerSetup


def secure_transport_class(setup: SecureBrokerSetup) -> type[bus.mqtt.MqttTransport]:
    """An ``MqttTransport`` whose client id picks the login: TLS URL, CA, that account's password."""
    base = bus.mqtt.MqttTransport

    class SecureMqttTransport(base):  # type: ignore[misc, valid-type]
        def __init__(self, url: str, client_id: str, **kwargs: object) -> None:
            prefix = f"{setup.manufacturer}-"  # the fleet names clients manufacturer-serial
            name = client_id[len(prefix):] if client_id.startswith(prefix) else client_id
            account = setup.account(name)
            kwargs.setdefault("ca_file", str(setup.ca_file))
            super().__init__(
                setup.tls_url, client_id, username=account.username, password=account.password, **kwargs
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
