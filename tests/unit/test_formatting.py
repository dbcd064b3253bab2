"""gan_zoo.formatting: durations and sizes as people read them."""

from __future__ import annotations

import pytest

from gan_zoo.formatting import duration, human_bytes


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "0:00:00"),
        (59.4, "0:00:59"),
        (59.6, "0:01:00"),  # rounded to the second, carried into the minutes
        (3723, "1:02:03"),
        (3599.5, "1:00:00"),
        (100 * 3600 + 61, "100:01:01"),  # hours are not cut at 24
        (-5, "0:00:00"),  # a clock that went backwards is not a negative time
    ],
)
def test_duration(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(
    "size, text",
    [
        (0, "0 B"),
        (532, "532 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1234, "1.2 kB"),
        (3_400_000, "3.4 MB"),
        (5_600_000_000, "5.6 GB"),
        (7_000_000_000_000, "7000.0 GB"),  # GB is the largest unit
        # Sizes that round up to 1000 of a unit are shown in the next one.
        (999.6, "1.0 kB"),
        (999_960, "1.0 MB"),
        (999_949, "999.9 kB"),
        (999_960_000, "1.0 GB"),
    ],
)
def test_human_bytes(size, text):
    assert human_bytes(size) == text
