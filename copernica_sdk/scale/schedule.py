"""A job's ``sync.schedule`` (cron syntax) for Celery beat, and the tick a run serves.

Celery's own ``crontab`` reads the expression, so beat and the de-duplication
below agree on what each field means (day-of-month and day-of-week both have to
match, as in Celery).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..sync.errors import ConfigError

if TYPE_CHECKING:
    from celery.schedules import crontab

__all__ = ["crontab_for", "last_tick"]

#: How far back :func:`last_tick` looks for the tick a message belongs to.
_LOOKBACK = timedelta(days=32)


def crontab_for(expression: str, *, job: str = "") -> crontab:
    """``"*/10 * * * *"`` (minute hour day-of-month month day-of-week) as a crontab."""
    from celery.schedules import crontab

    fields = expression.split()
    if len(fields) != 5:
        raise ConfigError([f"jobs.{job}.sync.schedule: {expression!r} is not a cron expression "
                           "(five fields: minute hour day-of-month month day-of-week)"])
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(minute=minute, hour=hour, day_of_month=day_of_month,
                       month_of_year=month_of_year, day_of_week=day_of_week)
    except ValueError as exc:
        raise ConfigError([f"jobs.{job}.sync.schedule: {expression!r}: {exc}"]) from exc


def last_tick(expression: str, now: datetime | None = None) -> datetime | None:
    """The latest minute at or before ``now`` (UTC) that ``expression`` fires at, or
    None if there is none within 32 days."""
    cron = crontab_for(expression)
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    oldest = moment - _LOOKBACK
    while moment >= oldest:
        if (moment.minute in cron.minute and moment.hour in cron.hour
                and moment.month in cron.month_of_year and moment.day in cron.day_of_month
                and (moment.isoweekday() % 7) in cron.day_of_week):
            return moment
        # Skip whole hours / days that cannot match instead of walking every minute.
        if moment.hour not in cron.hour or moment.day not in cron.day_of_month \
                or moment.month not in cron.month_of_year \
                or (moment.isoweekday() % 7) not in cron.day_of_week:
            moment = moment.replace(minute=0) - timedelta(minutes=1)
        else:
            moment -= timedelta(minutes=1)
    return None
