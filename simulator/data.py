"""What Walmart accepts, transcribed separately from the client's copy on purpose: if one of
them is wrong, the contract tests notice instead of both being wrong the same way."""

CARRIERS = frozenset("""UPS|USPS|FedEx|Airborne|OnTrac|DHL Ecommerce - US|DHL|LS|UDS|UPSMI|FDX|
PILOT|ESTES|SAIA|FDS Express|Seko Worldwide|HIT Delivery|FEDEXSP|RL Carriers|
Metropolitan Warehouse & Delivery|China Post|YunExpress|Yellow Freight Sys|
AIT Worldwide Logistics|Chukou1|Sendle|Landmark Global|Sunyou|Yanwen|4PX|GLS|OSM Worldwide|
FIRST MILE|AM Trucking|CEVA|India Post|SF Express|CNE|TForce Freight|AxleHire|LSO|Royal Mail|
ABF Freight System|WanB|Roadrunner Freight|Meyer Distribution|AAA Cooper|Canada Post|
Southeastern Freight Lines|Japan Post|Correos de Mexico|XPO Logistics|JD Logistics|YDH|JCEX|
Flyt|Deutsche Post|Better Trucks|Asendia|SFC|UBI|ePost Global|YF Logistics|RXO|Estes Express|
Shypmax|WIN.IT America|PITT OHIO|PostNord Sweden|Equick|Whistl|Tusou|Shiprocket|DTDC|PTS|
Aramex|Xindus|Spreetail|P2PG|UniUni|GOFO|SwiftX|Exelot|DoorDash|SpeedX"""
                     .replace("\n", "").split("|"))
# The last line: added by Walmart's developer update "Additional carrier support added to Ship
# order lines API" (October 30, 2026), spelled as that update names them.
METHOD_CODES = frozenset({"Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value"})
CANCEL_REASONS = frozenset({
    "CUSTOMER_REQUESTED_SELLER_TO_CANCEL", "SELLER_CANCEL_PRICING_ERROR",
    "SELLER_CANCEL_OUT_OF_STOCK", "SELLER_CANCEL_FRAUD_STOP_SHIPMENT",
    "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE"})
REFUND_REASONS = frozenset("""BillingError|TaxExemptCustomer|ItemNotAsAdvertised|
IncorrectItemReceived|CancelledYetShipped|ItemNotReceivedByCustomer|IncorrectShippingPrice|
DamagedItem|DefectiveItem|CustomerChangedMind|CustomerReceivedItemLate|
Missing Parts / Instructions|Finance -> Goodwill|Finance -> Rollback|Buyer canceled|
Customer returned item|General adjustment|Merchandise not received|
Quality -> Missing Parts / Instructions|Shipping & Delivery -> Damaged|
Shipping & Delivery -> Shipping Price Discrepancy|Others""".replace("\n", "").split("|"))
RETURN_REASONS = ("DAMAGED", "DEFECTIVE", "NO_LONGER_WANTED", "WRONG_SIZE/POOR_FIT",
                  "NOT_AS_DESCRIBED", "INCORRECT_ITEM", "ARRIVED_LATE", "MISSING_PARTS")
UNITS = frozenset({"EACH", "EA"})

# Calls per minute per seller (Walmart's defaults); the rate scale multiplies them.
RATE_LIMITS = {"token": 1000, "released": 60, "orders": 5000, "order": 5000, "acknowledge": 60,
               "shipping": 60, "cancel": 60, "refund": 60, "returns": 50,
               "return_refund": 60, "inventory": 200, "inventory_get": 200,
               # The Notifications API's limit is not published (walmart-api.md §12).
               "webhooks": 60}

AUTO_CANCEL_AFTER_MS = 4 * 24 * 3600 * 1000  # unshipped lines cancel at ship-by + 4 days
MAX_WINDOW_MS = 180 * 24 * 3600 * 1000
# Orders one search may deliver: 10,000 on the US Marketplace (developer.walmart.com
# us-marketplace getallorders / get-all-released-orders; 20,000 for drop-ship suppliers).
MAX_PER_QUERY = 10000
