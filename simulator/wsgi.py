"""`gunicorn --header-map dangerous simulator.wsgi:app` (the database from SIMULATOR_DB)."""

from simulator import create_app

app = create_app()
