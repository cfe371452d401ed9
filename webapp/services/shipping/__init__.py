"""Shipping: one shipment from the Ship form, many from a tracking upload, the plausibility of
tracking numbers, a tracking number corrected within Walmart's window, and a refused shipment or
cancellation corrected and sent again."""
