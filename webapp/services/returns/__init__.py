"""Returns: Walmart's returns imported by RMA, their status, and refunds with their amounts."""
