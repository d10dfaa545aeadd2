"""Periods, achievement, bands and roll-ups, checked against numbers worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from app.compiler.definitions import Band, Bands
from app.kpi import periods
from app.kpi.scoring import DEFAULT_THRESHOLDS, achievement, label, roll_up


def test_periods_parse_and_span():
    q1 = periods.parse("2026-Q1")
    assert (q1.grain, q1.start, q1.end) == ("quarter", dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    assert [m.text for m in q1.months()] == ["2026-01", "2026-02", "2026-03"]
    assert periods.parse("2026-12").end == dt.date(2027, 1, 1)
    assert periods.parse("2026").end == dt.date(2027, 1, 1) and len(periods.parse("2026").months()) == 12
    assert periods.containing(dt.date(2026, 8, 19), "quarter").text == "2026-Q3"
    assert periods.exactly(dt.date(2026, 4, 1), dt.date(2026, 7, 1)).text == "2026-Q2"
    assert periods.exactly(dt.date(2026, 4, 1), dt.date(2026, 6, 1)) is None
    for bad in ("2026-13", "2026-Q5", "26-01", "2026-1", "2026-q1"):
        with pytest.raises(ValueError):
            periods.parse(bad)


def test_achievement_is_direction_aware():
    assert achievement(90, 100, "higher_is_better") == pytest.approx(0.9)
    assert achievement(4, 5, "lower_is_better") == pytest.approx(1.25)  # 5 ÷ 4: beat a ceiling of 5 with 4
    assert achievement(None, 5, "higher_is_better") is None
    assert achievement(3, None, "lower_is_better") is None
    assert achievement(3, 0, "higher_is_better") is None and achievement(0, 3, "lower_is_better") is None


def test_default_and_custom_bands():
    assert [label(DEFAULT_THRESHOLDS, v) for v in (1.0, 0.9999, 0.9, 0.8999, 2.0)] == ["green", "amber", "amber", "red", "green"]
    tiers = Bands(bands=[Band(at_least=1.2, label="excellent"), Band(at_least=1.0, label="met")], otherwise="not_met")
    assert [label(tiers, v) for v in (1.25, 1.2, 1.1, 0.5)] == ["excellent", "excellent", "met", "not_met"]
    assert label(tiers, None) is None
    with pytest.raises(ValueError):
        Bands(bands=[Band(at_least=0.9, label="a"), Band(at_least=1.0, label="b")], otherwise="c")


def test_roll_up_caps_and_renormalises():
    score, shares = roll_up([(50, 1.5), (30, 0.8), (20, None)], cap=1.2)
    w1, w2 = 50 / 80 * 100, 30 / 80 * 100  # the missing child's 20 is shared out: 62.5 and 37.5
    assert [s.effective_weight for s in shares] == [pytest.approx(w1), pytest.approx(w2), None]
    assert shares[0].contribution == pytest.approx(0.625 * 1.2)  # 1.5 capped at 1.2
    assert shares[1].contribution == pytest.approx(0.375 * 0.8)
    assert score == pytest.approx(0.625 * 1.2 + 0.375 * 0.8)
    assert roll_up([(100, None)], cap=1.2)[0] is None
