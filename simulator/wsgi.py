"""`gunicorn --header-map dangerous simulator.wsgi:app` (the database from SIMULATOR_DB).

Each server process also sends the order notifications that are due (simulator.events)."""

from simulator import create_app, events

app = create_app()
events.start_dispatcher(app.config["SIM_DB"])
