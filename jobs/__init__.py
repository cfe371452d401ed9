"""Background jobs run by RQ workers; `queue.py` is the only place that enqueues."""
