from datetime import UTC, datetime, timedelta, timezone

import pytest

from sandbox.core.clock import ClockState
from sandbox.core.timefmt import iso_millis, iso_seconds, parse_duration, parse_instant

REAL = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_real_time_by_default():
    assert ClockState().now(REAL) == REAL


def test_frozen_clock_stands_still_until_advanced():
    state = ClockState().freeze(REAL)
    assert state.now(REAL + timedelta(hours=5)) == REAL
    assert state.advance(timedelta(days=2)).now(REAL + timedelta(hours=5)) == REAL + timedelta(2)


def test_advancing_a_running_clock_shifts_it_forward():
    state = ClockState().advance(timedelta(minutes=10))
    assert state.now(REAL) == REAL + timedelta(minutes=10)


def test_unfreeze_runs_on_from_where_it_stood():
    state = ClockState().freeze(REAL).advance(timedelta(hours=1)).unfreeze(REAL)
    assert state.now(REAL + timedelta(seconds=30)) == REAL + timedelta(hours=1, seconds=30)


def test_set_moves_to_an_instant_frozen_or_not():
    target = datetime(2030, 5, 5, tzinfo=UTC)
    assert ClockState().set(target, REAL).now(REAL) == target
    assert ClockState().freeze(REAL).set(target).now() == target


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (90, 90),
        ("90s", 90),
        ("15m", 900),
        ("48h", 172800),
        ("2d", 172800),
        ("1w", 604800),
        ("1.5h", 5400),
        ("250ms", 0.25),
        ("0", 0),
    ],
)
def test_durations(raw, seconds):
    assert parse_duration(raw).total_seconds() == seconds


@pytest.mark.parametrize("raw", ["-5s", "5x", "", "soon", True, None, [1]])
def test_bad_durations_are_refused(raw):
    with pytest.raises(ValueError):
        parse_duration(raw)


def test_instants_need_an_offset():
    assert parse_instant("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="needs a UTC offset"):
        parse_instant("2026-01-01T00:00:00")


def test_wire_formats_of_seed_002_and_003():
    moment = datetime(2019, 6, 28, 17, 3, 50, 179000, tzinfo=UTC)
    assert iso_seconds(moment, timezone(timedelta(hours=1))) == "2019-06-28T18:03:50+01:00"
    assert iso_millis(moment, timezone(timedelta(hours=8))) == "2019-06-29T01:03:50.179+08:00"
