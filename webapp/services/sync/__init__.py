"""Sync: every update for Walmart goes through the outbox (a row written with the change it
carries), the engine that claims and sends it under Walmart's rate limits, the task kinds (what each
sends and how it settles), what people do with failed tasks, and the words that explain them."""
