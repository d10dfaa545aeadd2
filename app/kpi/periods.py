"""Target periods: `2026-03` (month), `2026-Q1` (quarter), `2026` (year), as half-open date ranges."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True, order=True)
class Period:
    grain: str  # month | quarter | year
    start: dt.date

    @property
    def end(self) -> dt.date:
        return _add_months(self.start, _MONTHS[self.grain])

    @property
    def text(self) -> str:
        if self.grain == "year":
            return f"{self.start.year}"
        if self.grain == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    def months(self) -> list[Period]:
        return [Period("month", _add_months(self.start, i)) for i in range(_MONTHS[self.grain])]


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def parse(text: str) -> Period:
    """A period from its text; ValueError when it is not one, or does not end by 9999-12-31."""
    if not re.match(PERIOD_PATTERN, text):
        raise ValueError(f"'{text}' is not a period: use 2026-03, 2026-Q1 or 2026")
    year = int(text[:4])
    try:
        if len(text) == 4:
            period = Period("year", dt.date(year, 1, 1))
        elif text[5] == "Q":
            period = Period("quarter", dt.date(year, 3 * (int(text[6]) - 1) + 1, 1))
        else:
            period = Period("month", dt.date(year, int(text[5:7]), 1))
        period.end  # noqa: B018 - the day after it must exist too
    except ValueError:
        raise ValueError(f"'{text}' is outside the periods 0001-01 to 9999-11 (9999-Q3)") from None
    return period


def containing(day: dt.date, grain: str) -> Period:
    """The month, quarter or year that contains a day."""
    month = {"month": day.month, "quarter": 3 * ((day.month - 1) // 3) + 1, "year": 1}[grain]
    return Period(grain, dt.date(day.year, month, 1))


def exactly(start: dt.date | None, end: dt.date | None) -> Period | None:
    """The one period a [start, end) range spans exactly, if any (e.g. 2026-01-01..2026-04-01 is 2026-Q1)."""
    if start is None or end is None:
        return None
    for grain in ("month", "quarter", "year"):
        period = containing(start, grain)
        if period.start == start and period.end == end:
            return period
    return None
