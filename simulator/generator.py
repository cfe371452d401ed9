"""Deterministic, realistic orders: the same seed gives the same orders."""

from __future__ import annotations

import random
from collections.abc import Sequence

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS

CATALOGUE = [
    ("MUG-CER-12", "Ceramic Coffee Mug, 12 oz, Stoneware White", 12.99),
    ("TWL-BTH-2PK", "Cotton Bath Towel Set, 2 Pack, Navy", 24.50),
    ("LMP-DSK-LED", "LED Desk Lamp with USB Charging Port", 34.99),
    ("BTL-STL-750", "Insulated Steel Water Bottle 750 ml", 19.95),
    ("PIL-MEM-STD", "Memory Foam Pillow, Standard Size", 29.00),
    ("CHG-USBC-30W", "30W USB-C Wall Charger", 15.99),
    ("CAB-HDMI-6FT", "HDMI 2.1 Cable, 6 ft", 9.49),
    ("KNF-CHF-8IN", "Chef's Knife 8 inch, Stainless", 39.95),
    ("PAN-NS-10", "Non-Stick Frying Pan, 10 inch", 27.99),
    ("SHO-RUN-M10", "Men's Running Shoes, Size 10, Black", 54.99),
    ("TSH-ORG-L", "Organic Cotton T-Shirt, Large, Heather Grey", 14.00),
    ("BAG-BPK-25L", "Everyday Backpack 25 L, Charcoal", 44.50),
    ("TOY-BLK-500", "Building Blocks Set, 500 Pieces", 32.00),
    ("BOK-CKB-001", "Weeknight Dinners Cookbook (Hardcover)", 21.99),
    ("CND-SOY-LAV", "Soy Candle, Lavender, 8 oz", 11.50),
    ("HDP-BT-NC", "Bluetooth Noise-Cancelling Headphones", 89.99),
    ("SPK-MINI-BT", "Mini Bluetooth Speaker, Waterproof", 25.99),
    ("FLT-H2O-3PK", "Water Filter Cartridges, 3 Pack", 18.75),
    ("VAC-HND-CL", "Cordless Handheld Vacuum", 59.00),
    ("MAT-YOG-6MM", "Yoga Mat 6 mm, Teal", 22.95),
    ("GLV-GRD-M", "Garden Gloves, Medium, 3 Pairs", 12.25),
    ("SCR-SET-12", "Precision Screwdriver Set, 12 Pieces", 16.49),
    ("PLT-DIN-4PK", "Dinner Plates, Set of 4, Matte Blue", 36.00),
    ("SOC-ATH-6PK", "Athletic Socks, 6 Pack, White", 13.99),
]
FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella",
         "Lucas", "Mia", "Mason", "Amelia", "Ethan", "Harper", "Logan", "Evelyn", "Aiden",
         "Maria", "José", "Chloé", "Zoë", "Nguyễn", "Priya"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
        "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
        "O'Connor", "Nguyen", "Patel", "Kim", "Schmidt"]
STREETS = ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Ave",
           "Lakeview Rd", "Hillcrest Dr", "Sunset Blvd"]
CITIES = [("Bentonville", "AR", "72712"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"),
          ("Columbus", "OH", "43215"), ("Portland", "OR", "97205"), ("Atlanta", "GA", "30303"),
          ("Phoenix", "AZ", "85004"), ("Raleigh", "NC", "27601"), ("Madison", "WI", "53703"),
          ("Boise", "ID", "83702"), ("Tampa", "FL", "33602"), ("Albany", "NY", "12207")]
METHODS = [("Standard", 70), ("Value", 10), ("Express", 15), ("OneDay", 5)]
SHIP_METHOD = {"Standard": "STANDARD", "Value": "VALUE", "Express": "EXPEDITED",
               "OneDay": "RUSH"}


def _weighted(rng: random.Random, choices):
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


def make_order(rng: random.Random, order_ms: int, intent_rate: float = 0.03) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, state, postal = rng.choice(CITIES)
    method = _weighted(rng, METHODS)
    esd = order_ms + (DAY_MS if method in ("Express", "OneDay") else 2 * DAY_MS)
    edd = esd + {"OneDay": 1, "Express": 2, "Standard": 4, "Value": 6}[method] * DAY_MS
    line_count = _weighted(rng, [(1, 60), (2, 25), (3, 10), (4, 5)])
    products = rng.sample(CATALOGUE, line_count)
    shipping_fee = 0.0 if rng.random() < 0.7 else 5.99
    lines = []
    for number, (sku, name, price) in enumerate(products, start=1):
        qty = _weighted(rng, [(1, 70), (2, 20), (3, 8), (5, 2)])
        lines.append({
            "lineNumber": str(number), "sku": sku, "productName": name, "qty": qty,
            "unitPrice": price, "tax": round(price * 0.08, 2),
            "shipping": shipping_fee if number == 1 else 0.0,
            "created": qty, "acknowledged": 0, "shipments": [], "cancellations": [],
            "refunds": [], "statusDate": order_ms,
            "intentToCancel": rng.random() < intent_rate, "sellerOrderId": None,
            "originalCarrierMethod": str(rng.choice([22, 24, 25])),
            "fulfillment": {"fulfillmentOption": "S2H", "shipMethod": SHIP_METHOD[method],
                            "storeId": None, "pickUpDateTime": edd, "pickUpBy": None,
                            "shippingProgramType": None},
        })
    return {
        "purchaseOrderId": str(rng.randrange(10**14, 10**15)),
        "customerOrderId": str(rng.randrange(10**12, 10**13)),
        "customerEmailId": f"{rng.getrandbits(128):032X}@relay.walmart.com",
        "customerName": {"firstName": first, "lastName": last},
        "buyerId": f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}"
                   f"-a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}",
        "orderDate": order_ms,
        "shippingInfo": {
            "phone": f"{rng.randrange(200, 999)}{rng.randrange(200, 999)}"
                     f"{rng.randrange(1000, 9999)}",
            "estimatedDeliveryDate": edd, "estimatedShipDate": esd, "methodCode": method,
            "postalAddress": {
                "name": f"{first} {last}",
                "address1": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
                "address2": f"Apt {rng.randrange(1, 400)}" if rng.random() < 0.3 else None,
                "city": city, "state": state, "postalCode": postal, "country": "USA",
                "addressType": "RESIDENTIAL" if rng.random() < 0.85 else "OFFICE"}},
        "lines": lines,
    }


def ship_node(node_id: str) -> dict:
    """Walmart's `shipNode` of an order fulfilled by the seller from the node `node_id`."""
    return {"type": "SellerFulfilled", "name": f"Warehouse {node_id}", "id": node_id}


def make_orders(seed: int, count: int, now_ms: int, days: float = 3.0,
                intent_rate: float = 0.03, ship_nodes: Sequence[str] = ()) -> list[dict]:
    """`count` orders placed over the last `days`, oldest first. With `ship_nodes`, the orders
    name those nodes in turn ("" = an order whose shipNode carries no id); the nodes take no
    draw from the seed's sequence, so the orders are otherwise the same as without them."""
    rng = random.Random(seed)
    span = int(days * DAY_MS)
    stamps = sorted(now_ms - rng.randrange(0, max(span, 1)) for _ in range(count))
    made = [make_order(rng, stamp, intent_rate) for stamp in stamps]
    for number, order in enumerate(made):
        if ship_nodes and ship_nodes[number % len(ship_nodes)]:
            order["shipNode"] = ship_node(ship_nodes[number % len(ship_nodes)])
    return made
