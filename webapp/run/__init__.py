"""`make run`: one command that starts Orderdeck and everything it needs, for a demo or a dev."""
