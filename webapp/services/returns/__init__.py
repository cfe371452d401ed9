"""Returns: Walmart's returns imported by RMA and linked to their orders, their status, and
refunds with their amounts."""
