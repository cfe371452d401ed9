"""Stores (Walmart seller accounts): adding and editing them, a Walmart client with a store's
credentials, read-only mode, refused credentials, Test connection, import health and alerts."""
