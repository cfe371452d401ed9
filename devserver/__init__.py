"""`make run` and the tools around it: one command that starts Orderdeck and everything it
needs for a demo or a dev (embedded Redis, the Walmart simulator with a demo seller, logs).
Not part of the product: webapp/ and jobs/ never import it; it, the tests and the benchmarks
import them."""
