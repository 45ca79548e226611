import pytest

from handlers.units import human_duration, human_size


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "About an hour"),
        (5400, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (15 * 86400, "2 weeks"),
        (61 * 86400, "2 months"),
        (800 * 86400, "2 years"),
    ],
)
def test_human_duration_matches_go_units(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "precision", "text"),
    [
        (0, 3, "0B"),
        (999, 3, "999B"),
        (1982000, 3, "1.98MB"),
        (1982000, 4, "1.982MB"),
        (5_000_000_000, 3, "5GB"),
        (1234, 4, "1.234kB"),
    ],
)
def test_human_size_decimal(size: int, precision: int, text: str) -> None:
    assert human_size(size, precision) == text


def test_point_in_time_reads_the_clis_forms() -> None:
    import time

    from handlers.units import point_in_time

    assert abs(time.time() - 600 - point_in_time("10m")) < 2
    assert point_in_time("1700000000.5") == 1700000000.5
    # the engine's own timestamps: nanoseconds and a Z
    assert point_in_time("2023-11-14T22:13:20.123456789Z") == 1700000000.123456
    assert point_in_time("2023-11-14T23:13:20+01:00") == 1700000000.0
    with pytest.raises(ValueError, match="not a duration"):
        point_in_time("yesterday")
