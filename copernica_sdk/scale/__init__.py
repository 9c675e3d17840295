"""Scale-out: Celery workers with a Redis broker, the jobs' state in PostgreSQL.

Needs the ``scale`` extra (``pip install 'copernica-sdk[scale]'``).  The one-shop
set-up (cron + SQLite + flock) imports none of this.

- :mod:`.app` — the Celery app for a config file: the task that runs one job
  (late acknowledgement, redelivered when a worker dies) and the beat schedule
  from each job's ``sync.schedule``;
- :mod:`.tasks` — what the task does: load the config, run the job under its
  lock, return its exit code;
- :mod:`.schedule` — cron expressions → Celery ``crontab``, and the tick a
  scheduled message belongs to (two schedulers by mistake → one run per tick);
- :mod:`.fairness` — the per-Copernica-account cap on SOAP calls in flight.

See docs/scale-out.md.
"""
