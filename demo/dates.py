"""The demo's calendar: every date it writes counts back from the day it is loaded.

A demo dated to a fixed year goes stale (a year later every household shows as not visited), so
pairings, links, handovers, visits and their entry times are placed relative to `today`, the day
load_demo runs. People's birth dates stay on build.REFERENCE, so that the households and their ID
numbers are the same whatever the day (load_demo recognises a loaded demo by them).

Deterministic for a given day: nothing here reads the clock; callers pass `timezone.localdate()`.
"""

import datetime
import random
from dataclasses import dataclass

from django.utils import timezone

DAY = datetime.timedelta(days=1)
SLOTS = 12  # visits are planned in twelve 30-day slots counted back from yesterday
SLOT_DAYS = 30


def months_back(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Calendar:
    today: datetime.date

    @property
    def yesterday(self) -> datetime.date:
        """The last day the demo has visits on: today is still to be worked."""
        return self.today - DAY

    @property
    def linked_since(self) -> datetime.date:
        """Units linked their villages and cadres their households 15 months ago."""
        return months_back(self.today, 15)

    @property
    def adjusted_on(self) -> datetime.date:
        """Responsible cadres changed within their unit at the end of the month 13 months ago."""
        return months_back(self.today, 12) - DAY

    def handover_days(self) -> tuple[datetime.date, ...]:
        """Days cadres who left handed their households on: ends of months 3, 6 and 9 months ago."""
        return tuple(months_back(self.today, months - 1) - DAY for months in (3, 6, 9))

    @property
    def first_visit_day(self) -> datetime.date:
        return self.yesterday - datetime.timedelta(days=SLOTS * SLOT_DAYS - 1)

    def slot_day(self, rng: random.Random, slot: int) -> datetime.date:
        """A day in slot `slot` (0 = the last 30 days up to yesterday, 11 = about a year ago)."""
        return self.yesterday - datetime.timedelta(days=slot * SLOT_DAYS + rng.randrange(SLOT_DAYS))

    def entered_at(self, rng: random.Random, day: datetime.date) -> datetime.datetime:
        """When a clerk typed in a record of `day`: that evening, or one to four days later in
        office hours; never on or after today, so never in the future whatever the hour of loading."""
        delay = rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4))
        if delay and day + datetime.timedelta(days=delay) < self.today:
            hour = rng.choice((8, 9, 10, 11, 14, 15, 16, 17))
            moment = datetime.time(hour, rng.randrange(60), rng.randrange(60))
        else:
            delay, moment = 0, datetime.time(rng.randrange(18, 22), rng.randrange(60), rng.randrange(60))
        return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=delay), moment))
