"""Pick lists and packing slips, printed from the browser.

`selection` finds the orders a print covers (ticked, all matching the Orders page's filter,
one order, one package) within a cap; `documents` builds what goes on paper (a slip per order,
one pick list) from plain values; `records` records each print (who, when, which orders) and
marks the orders printed — the one write a viewer may make; `barcode` draws the customer order
number as an inline SVG Code 128.
"""
