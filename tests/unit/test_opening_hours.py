"""`alarms.openingHoursUtc`: parsed from a contact centre's own words, turned into a metric math condition."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from stacks.config import ConfigError, load_config
from stacks.opening_hours import OpeningWindow, is_open, parse_opening_hours
from tests.metric_math import evaluate

INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"
# 2026-11-16 is a Monday.
MONDAY = datetime(2026, 11, 16, tzinfo=UTC)


def at(day: int, hour: int, minute: int) -> datetime:
    return MONDAY.replace(day=16 + day - 1, hour=hour, minute=minute)


def open_at(hours: str, when: datetime) -> bool:
    windows = parse_opening_hours(hours)
    assert isinstance(windows, tuple)
    queries: list[dict[str, Any]] = [
        {"Id": "agents", "MetricStat": {"Metric": {"MetricName": "AgentEvents"}}, "ReturnData": False},
        {"Id": "open", "Expression": f"IF({is_open(windows, 'agents')}, 1, 0)", "ReturnData": True},
    ]
    return evaluate(queries, when, {"AgentEvents": 3}) == 1


def test_a_window_is_its_iso_weekdays_and_minutes_of_the_day() -> None:
    assert parse_opening_hours("MON-FRI 09:00-17:00") == (OpeningWindow((1, 2, 3, 4, 5), 540, 1020),)
    assert parse_opening_hours("sat 10:30-14:00, SUN 00:00-24:00") == (
        OpeningWindow((6,), 630, 840),
        OpeningWindow((7,), 0, 1440),
    )
    # A range of days may run through the weekend
    assert parse_opening_hours("FRI-MON 18:00-22:00") == (OpeningWindow((1, 5, 6, 7), 1080, 1320),)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(1, 8, 29), False),
        (at(1, 8, 30), True),
        (at(3, 12, 0), True),
        (at(5, 17, 59), True),
        (at(5, 18, 0), False),
        (at(6, 8, 59), False),
        (at(6, 9, 0), True),
        (at(6, 12, 55), True),
        (at(6, 13, 0), False),
        (at(7, 10, 0), False),
    ],
)
def test_the_condition_is_true_exactly_inside_the_windows(when: datetime, expected: bool) -> None:
    assert open_at("MON-FRI 08:30-18:00, SAT 09:00-13:00", when) is expected


def test_a_week_round_the_clock_is_always_open_and_a_weekend_run_wraps() -> None:
    assert all(open_at("MON-SUN 00:00-24:00", at(day, hour, 0)) for day in range(1, 8) for hour in (0, 12, 23))
    assert [open_at("FRI-MON 18:00-22:00", at(day, 19, 0)) for day in range(1, 8)] == [
        True,
        False,
        False,
        False,
        True,
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9-5", "expected opening hours in UTC such as 'MON-FRI 09:00-17:00'"),
        ("MON-FRY 09:00-17:00", "expected opening hours in UTC"),
        ("MON-FRI 17:00-09:00", "expected each window to start before it ends"),
        ("MON 09:00-25:00", "expected each window to start before it ends"),
        ("MON 09:60-10:00", "expected each window to start before it ends"),
        (", ".join(["MON 09:00-10:00"] * 8), "expected at most 7 opening windows, got 8"),
    ],
)
def test_a_malformed_value_fails_synth_naming_the_key(value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({"connectInstanceArn": INSTANCE, "alarms": {"openingHoursUtc": value}})
    assert str(raised.value).startswith(f'cdk.json context "alarms.openingHoursUtc": {expected}')


def test_the_default_is_weekdays_nine_to_five_and_none_means_no_window() -> None:
    assert load_config({"connectInstanceArn": INSTANCE}).alarms.opening_hours_utc == (
        OpeningWindow((1, 2, 3, 4, 5), 540, 1020),
    )
    # null keeps the default, as for every key
    assert load_config({"connectInstanceArn": INSTANCE, "alarms": {"openingHoursUtc": None}}).alarms.opening_hours_utc
    for none in ("none", "None"):
        config = load_config({"connectInstanceArn": INSTANCE, "alarms.openingHoursUtc": none})
        assert config.alarms.opening_hours_utc == ()


def test_the_longest_allowed_hours_fit_in_a_cloudwatch_expression() -> None:
    # Given 7 windows whose days each wrap through the weekend (two day ranges each)
    windows = parse_opening_hours(", ".join(["SAT-TUE 09:30-17:45"] * 7))
    assert isinstance(windows, tuple)
    # Then the contact silence alarm's expression stays within MetricDataQuery.Expression's 2,048 characters
    expression = f"IF({is_open(windows, 'agents')} AND (agents > 0), contacts, 1)"
    assert len(expression) <= 2048
