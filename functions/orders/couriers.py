"""The courier services and the courier statuses of docs/api.md §12, as data. Pure: no AWS, no I/O.

The one place both lists live: `GET /courier-services` and `GET /courier-statuses` serve them, an
order's `courier_service` must be one of `SERVICE_CODES` (create and edit), the OpenAPI document
enumerates both, and the portal fetches them from the API. The statuses' meanings are the help
centre's article "What do carrier statuses mean?" in plain words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

# Where a tracking URL template takes the parcel's tracking number.
TRACKING_NUMBER = "{tracking_number}"


@dataclass(frozen=True)
class CourierService:
    code: str
    name: str
    carrier: str
    tracking_url_template: str  # holds TRACKING_NUMBER once

    def tracking_url(self, tracking_number: str) -> str:
        """The carrier's page for this parcel: the number percent-encoded into the template."""
        return self.tracking_url_template.replace(TRACKING_NUMBER, quote(tracking_number, safe=""))


_ROYAL_MAIL = "https://www.royalmail.com/track-your-item#/tracking-results/{tracking_number}"

COURIER_SERVICES: tuple[CourierService, ...] = (
    CourierService("ROYAL_MAIL_24", "Royal Mail 24", "Royal Mail", _ROYAL_MAIL),
    CourierService("ROYAL_MAIL_48", "Royal Mail 48", "Royal Mail", _ROYAL_MAIL),
    CourierService("ROYAL_MAIL_TRACKED_24", "Royal Mail Tracked 24", "Royal Mail", _ROYAL_MAIL),
    CourierService("ROYAL_MAIL_TRACKED_48", "Royal Mail Tracked 48", "Royal Mail", _ROYAL_MAIL),
    CourierService("DPD_NEXT_DAY", "DPD Next Day", "DPD", "https://track.dpd.co.uk/parcels/{tracking_number}"),
    CourierService("EVRI_48", "Evri 48", "Evri", "https://www.evri.com/track/parcel/{tracking_number}/details"),
    CourierService(
        "DHL_EXPRESS",
        "DHL Express",
        "DHL",
        "https://www.dhl.com/gb-en/home/tracking/tracking-express.html?submit=1&tracking-id={tracking_number}",
    ),
    CourierService(
        "UPS_STANDARD", "UPS Standard", "UPS", "https://www.ups.com/track?loc=en_GB&tracknum={tracking_number}"
    ),
)
SERVICES_BY_CODE = {service.code: service for service in COURIER_SERVICES}
SERVICE_CODES: tuple[str, ...] = tuple(SERVICES_BY_CODE)


def tracking_url(courier_service: str | None, tracking_number: str | None) -> str | None:
    """The parcel's page at its carrier; None without a tracking number or for a service not listed (an
    order created before the catalogue existed)."""
    service = SERVICES_BY_CODE.get(courier_service or "")
    if service is None or not tracking_number:
        return None
    return service.tracking_url(tracking_number)


class CourierStatus(StrEnum):
    """Where the parcel is, normalised from whatever the carrier says (docs/api.md §12)."""

    INFO_RECEIVED = "INFO_RECEIVED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    ATTEMPTED_DELIVERY = "ATTEMPTED_DELIVERY"
    AVAILABLE_FOR_PICKUP = "AVAILABLE_FOR_PICKUP"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"
    RETURNING_TO_SENDER = "RETURNING_TO_SENDER"
    RETURNED_TO_SENDER = "RETURNED_TO_SENDER"


@dataclass(frozen=True)
class StatusMeaning:
    status: CourierStatus
    title: str
    meaning: str
    final: bool  # the parcel's journey has ended: nothing more is expected from the carrier


COURIER_STATUSES: tuple[StatusMeaning, ...] = (
    StatusMeaning(
        CourierStatus.INFO_RECEIVED,
        "Info received",
        "The courier has the parcel's details but has not scanned the parcel yet.",
        False,
    ),
    StatusMeaning(
        CourierStatus.IN_TRANSIT,
        "In transit",
        "The courier has the parcel and it is on its way through their network.",
        False,
    ),
    StatusMeaning(
        CourierStatus.OUT_FOR_DELIVERY,
        "Out for delivery",
        "The parcel is on the vehicle that will deliver it, usually today.",
        False,
    ),
    StatusMeaning(
        CourierStatus.ATTEMPTED_DELIVERY,
        "Delivery attempted",
        "The courier tried to deliver but could not; they will try again or leave a card saying what to do.",
        False,
    ),
    StatusMeaning(
        CourierStatus.AVAILABLE_FOR_PICKUP,
        "Ready to collect",
        "The parcel waits at a depot, post office or locker for the recipient to collect it.",
        False,
    ),
    StatusMeaning(
        CourierStatus.DELIVERED,
        "Delivered",
        "The parcel was handed over or left as the recipient asked.",
        True,
    ),
    StatusMeaning(
        CourierStatus.EXCEPTION,
        "Problem in delivery",
        "Something held the parcel up (a damaged label, a wrong address, customs); the courier is dealing with it.",
        False,
    ),
    StatusMeaning(
        CourierStatus.RETURNING_TO_SENDER,
        "Returning to us",
        "The courier could not deliver the parcel and is bringing it back to the warehouse.",
        False,
    ),
    StatusMeaning(
        CourierStatus.RETURNED_TO_SENDER,
        "Returned to us",
        "The parcel is back at the warehouse; it will not be delivered.",
        True,
    ),
)
FINAL_STATUSES = frozenset(meaning.status for meaning in COURIER_STATUSES if meaning.final)

# Words carriers and tracking aggregators use for the same statuses (AfterShip's tags among them), each
# compared without case, spaces, hyphens or underscores.
_ALIASES: dict[str, CourierStatus] = {
    "pending": CourierStatus.INFO_RECEIVED,
    "inforeceived": CourierStatus.INFO_RECEIVED,
    "labelcreated": CourierStatus.INFO_RECEIVED,
    "intransit": CourierStatus.IN_TRANSIT,
    "outfordelivery": CourierStatus.OUT_FOR_DELIVERY,
    "attemptfail": CourierStatus.ATTEMPTED_DELIVERY,
    "attemptfailed": CourierStatus.ATTEMPTED_DELIVERY,
    "attempteddelivery": CourierStatus.ATTEMPTED_DELIVERY,
    "availableforpickup": CourierStatus.AVAILABLE_FOR_PICKUP,
    "readyforpickup": CourierStatus.AVAILABLE_FOR_PICKUP,
    "delivered": CourierStatus.DELIVERED,
    "exception": CourierStatus.EXCEPTION,
    "failure": CourierStatus.EXCEPTION,
    "returningtosender": CourierStatus.RETURNING_TO_SENDER,
    "returntosender": CourierStatus.RETURNING_TO_SENDER,
    "returnedtosender": CourierStatus.RETURNED_TO_SENDER,
    "returned": CourierStatus.RETURNED_TO_SENDER,
}
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise_status(said: str) -> CourierStatus | None:
    """The status a carrier's word stands for ("InTransit", "in transit", "AttemptFail"); None if unknown."""
    return _ALIASES.get(_SEPARATORS.sub("", said).lower())


def precedence(status: CourierStatus) -> int:
    """How far along the journey a status is, to order two events of the same instant: a final status
    after any other, so that a DELIVERED is not undone by an IN_TRANSIT stamped the same second."""
    return (100 if status in FINAL_STATUSES else 0) + _ORDINAL[status]


_ORDINAL = {status: index for index, status in enumerate(CourierStatus)}
