"""The `rq cron` schedule: `rq cron -u $REDIS_URL jobs.cron_schedule` (run exactly one)."""

from rq import cron

from config import import_interval, reconcile_cron, returns_interval
from jobs import imports, maintenance, reconcile
from jobs import sync as sync_jobs
from jobs.queue import QUEUE_NAME

cron.register(sync_jobs.sweep, QUEUE_NAME, interval=60, job_timeout=300)
cron.register(imports.import_all, QUEUE_NAME, interval=import_interval(), job_timeout=120)
cron.register(imports.import_all_returns, QUEUE_NAME, interval=returns_interval(),
              job_timeout=120)
cron.register(maintenance.refresh_planner_statistics, QUEUE_NAME, interval=3600, job_timeout=300)
cron.register(reconcile.reconcile_all, QUEUE_NAME, cron=reconcile_cron(), job_timeout=120)
