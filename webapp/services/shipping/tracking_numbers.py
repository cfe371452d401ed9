"""Plausibility of tracking numbers for the big carriers: warnings, never a hard block."""

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


def warning(carrier: str | None, number: str) -> str | None:
    """A plain-words warning when `number` does not look like `carrier`'s numbers."""
    if carrier not in FORMATS:
        return None
    description, patterns = FORMATS[carrier]
    if any(p.match(number) for p in patterns):
        return None
    return (f"{number} does not look like a {carrier} tracking number ({description}). "
            "Check it, or confirm to ship anyway.")
