"""Cancelling and stock: a cancellation releases the units it reserved, stock levels per store,
SKU and ship node, and the available quantity pushed to Walmart."""
