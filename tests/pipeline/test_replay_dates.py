"""The demo's crawl dates: spread over the mirror's history, always ending on its last commit date."""

from __future__ import annotations

import pytest

from assets.demo import replay_dates
from tests.small_mirror import SMALL_REPOS, make_small_mirror


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    return make_small_mirror(tmp_path_factory.mktemp("dates") / "mirror")


def test_every_commit_day_when_there_are_few(mirror):
    days = sorted({d[:10] for history in SMALL_REPOS.values() for d, _, _, _ in history})
    assert replay_dates(mirror, max_dates=len(days)) == days
    assert replay_dates(mirror, max_dates=100) == days


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_few_dates_spread_and_ending_on_the_last_day(mirror, n):
    days = sorted({d[:10] for history in SMALL_REPOS.values() for d, _, _, _ in history})
    picked = replay_dates(mirror, max_dates=n)
    assert len(picked) == n and picked == sorted(picked) and picked[-1] == days[-1]
    assert set(picked) <= set(days)


def test_zero_dates_is_a_clear_error(mirror):
    with pytest.raises(SystemExit, match="--max-dates must be at least 1"):
        replay_dates(mirror, max_dates=0)
