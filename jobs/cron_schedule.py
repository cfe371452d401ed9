"""The `rq cron` schedule: `rq cron -u $REDIS_URL jobs.cron_schedule` (run exactly one)."""

from rq import cron

from jobs import maintenance
from jobs.queue import QUEUE_NAME

cron.register(maintenance.clean_registries, QUEUE_NAME, interval=60, job_timeout=120)
