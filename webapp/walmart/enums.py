"""Walmart's enumerations, kept as data (walmart-api.md §2-§4, Walmart's OpenAPI specs 2024-12)."""

from __future__ import annotations

from dataclasses import dataclass

# carrierName.carrier — exact spellings; anything else must go as otherCarrier + trackingURL.
# The last row: Walmart's developer update of October 30, 2026 ("Additional carrier support
# added to Ship order lines API").
CARRIERS: tuple[str, ...] = (
    "UPS", "USPS", "FedEx", "Airborne", "OnTrac", "DHL Ecommerce - US", "DHL", "LS", "UDS",
    "UPSMI", "FDX", "PILOT", "ESTES", "SAIA", "FDS Express", "Seko Worldwide", "HIT Delivery",
    "FEDEXSP", "RL Carriers", "Metropolitan Warehouse & Delivery", "China Post", "YunExpress",
    "Yellow Freight Sys", "AIT Worldwide Logistics", "Chukou1", "Sendle", "Landmark Global",
    "Sunyou", "Yanwen", "4PX", "GLS", "OSM Worldwide", "FIRST MILE", "AM Trucking", "CEVA",
    "India Post", "SF Express", "CNE", "TForce Freight", "AxleHire", "LSO", "Royal Mail",
    "ABF Freight System", "WanB", "Roadrunner Freight", "Meyer Distribution", "AAA Cooper",
    "Canada Post", "Southeastern Freight Lines", "Japan Post", "Correos de Mexico",
    "XPO Logistics", "JD Logistics", "YDH", "JCEX", "Flyt", "Deutsche Post", "Better Trucks",
    "Asendia", "SFC", "UBI", "ePost Global", "YF Logistics", "RXO", "Estes Express", "Shypmax",
    "WIN.IT America", "PITT OHIO", "PostNord Sweden", "Equick", "Whistl", "Tusou", "Shiprocket",
    "DTDC", "PTS",
    "Aramex", "Xindus", "Spreetail", "P2PG", "UniUni", "GOFO", "SwiftX", "Exelot", "DoorDash",
    "SpeedX",
)

# What a person reads for the cryptic codes: Walmart's own expansions (its carrier list in the
# Orders spec: "LS (LaserShip)", …). The code still goes to Walmart; the others are names already.
CARRIER_NAMES = {"LS": "LaserShip", "UDS": "United Delivery Service",
                 "UPSMI": "UPS Mail Innovations", "FEDEXSP": "FedEx SmartPost"}
_CARRIER_CODES = {**{c.casefold(): c for c in CARRIERS},
                  **{name.casefold(): code for code, name in CARRIER_NAMES.items()}}

# Tracking pages of the big carriers; {number} is replaced by the tracking number.
TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "DHL": "https://www.dhl.com/us-en/home/tracking.html?tracking-id={number}",
    "DHL Ecommerce - US": "https://webtrack.dhlecs.com/orders?trackingNumber={number}",
    "OnTrac": "https://www.ontrac.com/tracking/?number={number}",
}

METHOD_CODES: tuple[str, ...] = ("Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value")

LINE_STATUSES: tuple[str, ...] = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled",
                                  "Refund")


@dataclass(frozen=True)
class CancellationReason:
    code: str
    label: str
    guidance: str


CANCELLATION_REASONS: tuple[CancellationReason, ...] = (
    CancellationReason(
        "CUSTOMER_REQUESTED_SELLER_TO_CANCEL", "Customer asked to cancel",
        "Only when the buyer asked for the cancellation (Walmart flags it as a cancellation "
        "request). Never for an order the buyer did not ask to cancel."),
    CancellationReason(
        "SELLER_CANCEL_OUT_OF_STOCK", "Out of stock",
        "You cannot ship the item. Walmart then marks the SKU out of stock until you "
        "replenish its inventory."),
    CancellationReason(
        "SELLER_CANCEL_PRICING_ERROR", "Pricing error",
        "The item was listed at a wrong price."),
    CancellationReason(
        "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE", "Address not serviceable",
        "You cannot deliver to the shipping address."),
    CancellationReason(
        "SELLER_CANCEL_FRAUD_STOP_SHIPMENT", "Confirmed fraud",
        "Only for confirmed fraud. For suspected fraud, e-mail Walmart Risk Prevention "
        "(MPFraudReq@customercare.walmart.com) first; they answer within 2-4 hours."),
)
CANCELLATION_CODES = frozenset(r.code for r in CANCELLATION_REASONS)
_REASON_LABELS = {r.code: r.label for r in CANCELLATION_REASONS}

# returnOrderLines[].returnReason
RETURN_REASONS: dict[str, str] = {
    "ARRIVED_LATE": "Arrived late", "AUTO_RETURN": "Automatic return",
    "BOUGHT_ANOTHER_SIZE_OR_COLOR": "Bought another size or color",
    "BOUGHT_SOMEWHERE_ELSE": "Bought somewhere else", "DAMAGED": "Damaged",
    "DEFECTIVE": "Defective", "DUPLICATE_ITEM": "Duplicate item",
    "INADEQUATE_QUALITY": "Inadequate quality", "INCORRECT_ITEM": "Incorrect item",
    "LOST_AFTER_DELIVERY": "Lost after delivery", "LOST_IN_TRANSIT": "Lost in transit",
    "LOWER_PRICE": "Found a lower price", "MISSING_PARTS": "Missing parts",
    "NOT_AS_DESCRIBED": "Not as described", "NO_LONGER_WANTED": "No longer wanted",
    "RETURN_TO_SENDER": "Returned to sender", "SHIPPING_BOX_DAMAGED": "Shipping box damaged",
    "TRIED_TO_CANCEL": "Tried to cancel", "WRONG_SIZE/POOR_FIT": "Wrong size or poor fit",
}

RETURN_STATUSES: tuple[str, ...] = ("INITIATED", "DELIVERED", "COMPLETED", "CANCELLED")
REFUND_CHANNELS: tuple[str, ...] = ("WALMART_SETTLED_REFUND", "SELLER_AUTO_REFUND",
                                    "SELLER_MANUAL_REFUND", "SELLER_SYSTEM_REFUND",
                                    "WALMART_TRIGGERED_REFUND")

# Default per-seller limits, calls per minute (walmart-api.md §6.3).
RATE_LIMITS: dict[str, int] = {
    "released": 60, "orders": 5000, "order": 5000, "acknowledge": 60, "shipping": 60,
    "cancel": 60, "refund": 60, "returns": 50, "return_refund": 60, "inventory": 200,
    # Our own buckets for the reconciliation's reads (services/reconcile), apart from the
    # ones above so that it never takes a call from a shipment, a stock push or an import,
    # and well under Walmart's limits of those reads (GET an order 5000/min, GET /v3/returns
    # 50/min, which the returns import shares, GET /v3/inventory 200/min, apart from PUT's):
    # a nightly pass of 10,000 orders takes about 17 minutes.
    "reconcile_order": 600, "reconcile_returns": 10, "reconcile_inventory": 100,
}


def carrier_label(code: str | None) -> str:
    """The carrier as a person reads it ("LaserShip" for LS); any other name as it is."""
    return CARRIER_NAMES.get(code or "", code or "")


def carrier_code(text: str | None) -> str | None:
    """Walmart's code for a carrier a person named by code or in words ("lasership" → LS);
    None when Walmart lists no such carrier."""
    wanted = (text or "").strip().casefold()
    return _CARRIER_CODES.get(wanted) if wanted else None


def cancellation_label(code: str | None) -> str:
    """A cancellation reason in words ("Out of stock"); a code we do not know as it is."""
    return _REASON_LABELS.get(code or "", code or "")


def tracking_url(carrier: str, number: str) -> str | None:
    """The carrier's public tracking page for `number`, when we know it."""
    template = TRACKING_URLS.get(carrier)
    return template.format(number=number) if template else None
