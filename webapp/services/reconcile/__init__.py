"""Reconciliation: Orderdeck's record compared with Walmart's, line by line and SKU by SKU.

compare: what differs between one order (or return, or SKU) and Walmart's view of it.
findings: the differences kept (walmart_differences, source "reconcile"), their words, and
          closing them when Orderdeck and Walmart agree again.
run: a pass over a store's open and recently changed orders, its returns and tracked SKUs,
     spread over time under its own rate-limit buckets (the job runs it in slices).
actions: what a person does with a difference (Adopt Walmart's state, Send ours again).
"""
