"""The controller's wire seam inbound: one envelope in, one typed value out.

Why: everything the controller does after this point works on typed values, so an exception
raised there is a bug of ours and surfaces, while every malformed, unexpected or unserved message
ends here as :class:`Unreadable` (counted and logged once per kind) or :class:`OrderUnreadable`
(answered with ``refused``). Payloads are decoded by the protocol modules' decoders:
:func:`controller.orders.wire.decode_order` (WMS), :func:`controller.fleet.registry.decode_vehicle_message`
(VDA 5050) and the sortation planner (sorter protocol).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bus.topics import TopicFormatError, VdaTopic, parse_vda_topic, wms_orders_topic
from bus.transport import Envelope
from controller.fleet.registry import ConnectionView, StateView, VehicleMessageError, decode_vehicle_message
from controller.orders.model import Order, Refused
from controller.orders.wire import decode_order
from controller.sortation.planner import SorterInbound

_VEHICLE_TOPICS = frozenset({VdaTopic.STATE, VdaTopic.CONNECTION, VdaTopic.FACTSHEET})


@dataclass(frozen=True, slots=True)
class OrderReceived:
    """A WMS order that decoded; ``payload`` is kept for the journal."""

    order: Order
    payload: bytes


@dataclass(frozen=True, slots=True)
class OrderUnreadable:
    """A payload on the orders topic that is not a valid order (``order_id`` when it names one)."""

    order_id: str | None
    reason: str
    kind: str = "malformed"  # the rule broken (docs/limits-bus.md), for the log


@dataclass(frozen=True, slots=True)
class VehicleState:
    """A vehicle's ``state``."""

    manufacturer: str
    serial: str
    state: StateView


@dataclass(frozen=True, slots=True)
class VehicleConnection:
    """A vehicle's ``connection``."""

    manufacturer: str
    serial: str
    connection: ConnectionView


@dataclass(frozen=True, slots=True)
class VehicleFactsheet:
    """A vehicle's ``factsheet`` (the JSON object, read leniently by the registry)."""

    manufacturer: str
    serial: str
    factsheet: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SorterMessage:
    """A decoded message from the site's sorter (its body is the sorter protocol's model)."""

    message: SorterInbound


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A message the controller cannot or will not read: ``where`` it came, why, and the rule
    broken (``kind``: a :class:`bus.limits.LimitKind` value, ``wrong_sender``, ``not_served``...)."""

    where: str
    reason: str
    kind: str = "invalid"


@dataclass(frozen=True, slots=True)
class Ignored:
    """Nothing to act on: an empty retained message that clears a vehicle's topic, a VDA 5050
    topic the controller does not read (its own orders and instant actions), or a sorter message
    the sortation planner refused (it counts those)."""

    topic: str


Inbound = (
    OrderReceived | OrderUnreadable | VehicleState | VehicleConnection | VehicleFactsheet
    | SorterMessage | Unreadable | Ignored
)


class SorterSeam(Protocol):
    """A part that owns some sorter topics and decodes them (the conveyor sorter's link, the
    robotic sortation's parcel flow)."""

    def owns(self, topic: str) -> bool:
        """True for a topic of this part."""

    def decode(self, msg: Envelope) -> SorterInbound | None:
        """The typed value (None: not read, or bad input the part counted)."""


class InboundDecoder:
    """Turns the controller's envelopes into :data:`Inbound` values.

    Args:
        site: the site's topic level (the WMS orders topic).
        sorters: the parts that own and decode sorter topics (the conveyor sorter's link, the
            robotic sortation); none at a site without sortation.
        refusal: why a vehicle is not served by this controller (None: it is).
    """

    def __init__(
        self,
        site: str,
        sorters: Sequence[SorterSeam],
        refusal: Callable[[str, str], str | None],
    ) -> None:
        self.orders_topic = wms_orders_topic(site)
        self.sorters = tuple(sorters)
        self.refusal = refusal

    def decode(self, msg: Envelope) -> Inbound:
        """The typed value of one inbound message; never raises for bad input."""
        if msg.topic == self.orders_topic:
            verdict = decode_order(msg.payload)
            if isinstance(verdict, Refused):
                return OrderUnreadable(verdict.order_id or None, verdict.reason, verdict.kind)
            return OrderReceived(verdict, msg.payload)
        for sorter in self.sorters:
            if sorter.owns(msg.topic):
                sorter_msg = sorter.decode(msg)  # bad input is counted by the part that owns it
                return Ignored(msg.topic) if sorter_msg is None else SorterMessage(sorter_msg)
        try:
            manufacturer, serial, kind = parse_vda_topic(msg.topic)
        except TopicFormatError as err:
            return Unreadable(msg.topic, f"unknown topic: {err}", "unknown_topic")
        if kind not in _VEHICLE_TOPICS or (not msg.payload and kind != VdaTopic.STATE):
            return Ignored(msg.topic)
        refusal = self.refusal(manufacturer, serial)
        if refusal is not None:
            return Unreadable(msg.topic, f"not served: {refusal}", "not_served")
        try:
            value = decode_vehicle_message(kind, msg.payload, (manufacturer, serial))
        except VehicleMessageError as err:  # includes a payload that names another vehicle
            return Unreadable(msg.topic, str(err), err.kind)
        if isinstance(value, StateView):
            return VehicleState(manufacturer, serial, value)
        if isinstance(value, ConnectionView):
            return VehicleConnection(manufacturer, serial, value)
        return VehicleFactsheet(manufacturer, serial, value)

