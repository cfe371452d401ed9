"""Plausibility of tracking numbers: warnings for the big carriers' formats and for Walmart's
letters-and-digits policy; the one hard block is a number that is the order's own number."""

from __future__ import annotations

import re

FORMATS: dict[str, tuple[str, list[re.Pattern]]] = {
    "UPS": ("1Z followed by 16 letters or digits", [re.compile(r"^1Z[0-9A-Z]{16}$"),
                                                    re.compile(r"^(T\d{10}|\d{9}|\d{26})$")]),
    "USPS": ("20 to 22 digits, or 2 letters, 9 digits and US", [
        re.compile(r"^(94|93|92|95|82|70|23|03)\d{18,20}$"), re.compile(r"^\d{20,22}$"),
        re.compile(r"^[A-Z]{2}\d{9}US$")]),
    "FedEx": ("12, 15, 20 or 22 digits", [re.compile(r"^(\d{12}|\d{15}|\d{20}|\d{22})$")]),
    "DHL": ("10 or 11 digits, or JD and 18 digits", [
        re.compile(r"^\d{10,11}$"), re.compile(r"^JJD\d{18}$|^JD\d{18}$"),
        re.compile(r"^[A-Z]{3}\d{7}$")]),
}


def normalise(number: str) -> str:
    """Trimmed, inner spaces removed, upper case (as carriers print them)."""
    return re.sub(r"\s+", "", number or "").upper()


# Walmart's valid-tracking policy: letters and digits only. A warning, not a block: whether the
# shipping call itself refuses such a number is inferred (docs/walmart.md).
LETTERS_AND_DIGITS = re.compile(r"[0-9A-Z]+")


def warning(carrier: str | None, number: str) -> str | None:
    """A plain-words warning when `number` breaks Walmart's policy or does not look like
    `carrier`'s numbers."""
    if not LETTERS_AND_DIGITS.fullmatch(number):
        return (f"{number} has characters other than letters and digits; Walmart's tracking "
                "policy allows only letters and digits, so it will likely refuse it. Check it, "
                "or confirm to ship anyway.")
    if carrier not in FORMATS:
        return None
    description, patterns = FORMATS[carrier]
    if any(p.match(number) for p in patterns):
        return None
    return (f"{number} does not look like a {carrier} tracking number ({description}). "
            "Check it, or confirm to ship anyway.")


def own_number_refusal(number: str, *order_numbers: str | None) -> str | None:
    """Walmart refuses a tracking number that is the order's purchase order or customer order
    number (a number typed into the wrong field): say so before anything is sent."""
    if number and number in {normalise(n) for n in order_numbers if n}:
        return (f"{number} is this order's own number, not a tracking number: Walmart refuses "
                "it. Enter the carrier's tracking number.")
    return None
