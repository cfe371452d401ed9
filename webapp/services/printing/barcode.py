"""The customer order number as a Code 128 barcode, drawn as inline SVG (HTML needs no
namespace for it, so the slip carries no address of a website).

python-barcode encodes (start code, code sets, check digit, stop); we draw its modules
ourselves: one path with presentation attributes only — its own SVG writer sets `style`
attributes, which the Content-Security-Policy (no inline styles) would drop, painting the
background black.
"""

from __future__ import annotations

from itertools import groupby

from barcode import Code128
from barcode.errors import BarcodeError
from markupsafe import Markup, escape

QUIET_MODULES = 10  # white on each side, as scanners need
MODULE_MM = 0.33    # a narrow bar: scanners read 0.25 mm and wider
HEIGHT_MM = 12
MAX_LENGTH = 40     # a customer order number is 15 digits; longer is not one


def code128_svg(text: str | None) -> Markup | None:
    """The barcode of `text`, or None when it cannot be one (empty, too long, not ASCII)."""
    if not text or len(text) > MAX_LENGTH or not (text.isascii() and text.isprintable()):
        return None
    try:
        modules = Code128(text).build()[0]
    except (BarcodeError, KeyError, ValueError):
        return None
    width = len(modules) + 2 * QUIET_MODULES
    bars, x = [], QUIET_MODULES
    for bit, run in groupby(modules):
        count = len(list(run))
        if bit == "1":
            bars.append(f"M{x} 0h{count}v1h-{count}z")
        x += count
    return Markup(
        f'<svg class="barcode" viewBox="0 0 {width} 1" '
        f'width="{width * MODULE_MM:.1f}mm" height="{HEIGHT_MM}mm" preserveAspectRatio="none" '
        f'shape-rendering="crispEdges" role="img" aria-label="Barcode {escape(text)}">'
        f'<rect width="{width}" height="1" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(bars)}"/></svg>')
