"""Orders: importing them from Walmart (the run, its page walk and passes, storing each order),
finding them (filters, search, counts, CSV export), one order as a whole (status, detail,
money), the Home page's figures, and what Walmart shows that we did not send."""
