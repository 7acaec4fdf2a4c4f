"""The batch search's decisions (bench/core/batch_search.py): sizes tried given fit/no-fit answers, when
it ends and why, the record facts. Pure: no processes, no TensorFlow."""

import json

import pytest

from bench.core import batch_search
from bench.core.batch_search import (
    ENDED_BOUNDARY,
    ENDED_CAP,
    ENDED_FAILED,
    ENDED_NONE_FITS,
    FAILED,
    FIT,
    NO_FIT,
    ROLE_LARGEST,
    ROLE_TRY,
    SearchFacts,
    SearchSettings,
    Try,
)


def fits_up_to(largest, fail_at=None):
    """An outcome_of: sizes up to `largest` fit, larger ones run out of memory; `fail_at` fails."""

    def outcome_of(size):
        if size == fail_at:
            return Try(size, FAILED, "killed by signal 9 (SIGKILL)")
        return Try(size, FIT if size <= largest else NO_FIT)

    return outcome_of


def sizes(tries):
    return [t.batch_size for t in tries]


def test_fits_up_to_37_doubles_to_64_then_bisects_to_37():
    tries = batch_search.run_search(fits_up_to(37))
    assert sizes(tries) == [1, 2, 4, 8, 16, 32, 64, 48, 40, 36, 38, 37]
    assert batch_search.largest_fit(tries) == 37
    assert batch_search.ending(tries) == ENDED_BOUNDARY
    assert batch_search.tries_text(tries) == (
        "1, 2, 4, 8, 16, 32 fit; 64, 48, 40 OOM; 36 fit; 38 OOM; 37 fit"
    )


@pytest.mark.parametrize("largest", [1, 2, 3, 5, 6, 7, 8, 9, 31, 32, 33, 63, 100, 1000, 4095])
def test_the_search_finds_the_exact_boundary_in_few_tries(largest):
    tries = batch_search.run_search(fits_up_to(largest))
    assert batch_search.largest_fit(tries) == largest
    assert batch_search.ending(tries) == ENDED_BOUNDARY
    # Both neighbours of the boundary were tried; no size twice; about 2 log2(largest) tries.
    assert {largest, largest + 1} <= set(sizes(tries))
    assert len(set(sizes(tries))) == len(tries)
    assert len(tries) <= 2 * largest.bit_length() + 1
    # Doubling until the first no-fit, then every try between the bounds known at that time.
    first_miss = next(i for i, t in enumerate(tries) if t.outcome == NO_FIT)
    assert sizes(tries)[: first_miss + 1] == [2**i for i in range(first_miss + 1)]


def test_a_power_of_two_boundary_is_confirmed_by_bisecting_down_to_its_neighbour():
    assert sizes(batch_search.run_search(fits_up_to(16))) == [1, 2, 4, 8, 16, 32, 24, 20, 18, 17]


def test_nothing_fits_at_batch_1():
    tries = batch_search.run_search(fits_up_to(0))
    assert sizes(tries) == [1]
    assert batch_search.largest_fit(tries) is None
    assert batch_search.ending(tries) == ENDED_NONE_FITS


def test_a_failure_at_batch_1_ends_the_search_at_once():
    tries = batch_search.run_search(fits_up_to(100, fail_at=1))
    assert [(t.batch_size, t.outcome) for t in tries] == [(1, FAILED)]
    assert batch_search.ending(tries) == ENDED_FAILED
    assert batch_search.tries_text(tries) == "1 failed (killed by signal 9 (SIGKILL))"


def test_a_failure_while_bisecting_ends_the_search_there():
    tries = batch_search.run_search(fits_up_to(37, fail_at=40))
    assert sizes(tries) == [1, 2, 4, 8, 16, 32, 64, 48, 40]
    assert batch_search.next_size(tries) is None and batch_search.ending(tries) == ENDED_FAILED
    # What fitted is still known; whether the search found it is `ending`'s to say.
    assert batch_search.largest_fit(tries) == 32


def test_the_cap_ends_a_search_where_everything_fits():
    settings = SearchSettings(cap=100)
    tries = batch_search.run_search(fits_up_to(10**9), settings)
    assert sizes(tries) == [1, 2, 4, 8, 16, 32, 64, 100]
    assert batch_search.largest_fit(tries) == 100
    assert batch_search.ending(tries, settings) == ENDED_CAP
    # At the cap itself, a no-fit bisects below it as usual.
    tries = batch_search.run_search(fits_up_to(70), settings)
    assert sizes(tries) == [1, 2, 4, 8, 16, 32, 64, 100, 82, 73, 68, 70, 71]
    assert batch_search.largest_fit(tries) == 70
    # The default cap ends the search.
    tries = batch_search.run_search(fits_up_to(10**9))
    assert sizes(tries)[-1] == batch_search.DEFAULT_CAP and len(tries) == 17


def test_a_start_that_does_not_fit_halves_down_from_it():
    settings = SearchSettings(start=64)
    tries = batch_search.run_search(fits_up_to(5), settings)
    assert sizes(tries) == [64, 32, 16, 8, 4, 6, 5]
    assert batch_search.largest_fit(tries) == 5
    tries = batch_search.run_search(fits_up_to(0), settings)
    assert sizes(tries) == [64, 32, 16, 8, 4, 2, 1]
    assert batch_search.ending(tries, settings) == ENDED_NONE_FITS


def test_a_flaky_fit_above_a_no_fit_is_no_lower_bound():
    tries = [Try(1, FIT), Try(2, FIT), Try(4, NO_FIT), Try(8, FIT)]
    assert batch_search.bounds(tries) == (2, 4)
    assert batch_search.next_size(tries) == 3
    assert batch_search.next_size(tries + [Try(3, NO_FIT)]) is None
    assert batch_search.largest_fit(tries + [Try(3, NO_FIT)]) == 2


def test_a_full_run_that_does_not_fit_is_a_no_fit_the_rule_allows_only_once_the_search_is_over():
    tries = batch_search.run_search(fits_up_to(21))
    assert batch_search.next_size(tries) is None and batch_search.follows_rule(tries)
    # The full run of 21 goes over the bound: one more no-fit, and the search goes on below it.
    tries.append(Try(21, NO_FIT, "OOM (memory limit 1.25 GiB)", full_run=True))
    assert batch_search.follows_rule(tries)
    assert batch_search.bounds(tries) == (20, 21) and batch_search.next_size(tries) is None
    assert batch_search.largest_fit(tries) == 20 and batch_search.ending(tries) == ENDED_BOUNDARY
    assert batch_search.tries_text(tries).endswith("; 21 fit; 21 OOM in its full run")
    assert str(tries[-1]) == "batch 21 no-fit in its full run (OOM (memory limit 1.25 GiB))"
    # Not the rule: a size next_size did not ask for; a full run while sizes are left, of another
    # size than the largest fit, or one that fitted (a full run that fits ends the search, no try).
    assert not batch_search.follows_rule(tries[:-1] + [Try(21, NO_FIT)])
    early = tries[:3] + [Try(4, NO_FIT, full_run=True)]
    assert not batch_search.follows_rule(early)
    assert not batch_search.follows_rule(tries[:-1] + [Try(20, NO_FIT, full_run=True)])
    assert not batch_search.follows_rule(tries[:-1] + [Try(21, FIT, full_run=True)])


@pytest.mark.parametrize("token, start", [
    ("max", 1), ("MAX", 1), (" max ", 1), ("max:16", 16), ("Max:1", 1), ("max:65536", 65536),
    (8, None), ("8", None), ("maximal", None),
])
def test_a_batch_token_says_where_its_search_starts(token, start):
    assert batch_search.search_start(token) == start


@pytest.mark.parametrize("token", ["max:", "max:0", "max:-4", "max:x", "max:1.5", "max:65537", "max:4:8"])
def test_a_bad_start_is_refused_saying_what_is_allowed(token):
    allowed = "^max:N starts the search at batch N, a whole number from 1 to 65536$"
    with pytest.raises(ValueError, match=allowed):
        batch_search.search_start(token)


def test_ending_refuses_an_unfinished_search():
    with pytest.raises(ValueError, match="not over"):
        batch_search.ending([Try(1, FIT)])


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(start=0), "start=0: must be an integer >= 1"),
        (dict(cap=0), "cap=0: must be an integer >= 1"),
        (dict(try_steps=0), "try_steps=0: must be an integer >= 1"),
        (dict(try_burn_in=-1), "try_burn_in=-1: must be an integer >= 0"),
        (dict(start=8, cap=4), "start=8 is above its cap 4"),
        (dict(start=True), "start=True: must be an integer"),
    ],
)
def test_bad_settings_are_refused(values, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SearchSettings(**values)


def test_facts_survive_a_json_round_trip_and_name_the_batch_cell():
    settings = SearchSettings(cap=512)
    tries = tuple(batch_search.run_search(fits_up_to(5), settings))
    largest = SearchFacts(
        ROLE_LARGEST, "resnet_v2_50 batch max forward", tries, settings, largest=5, ended=ENDED_BOUNDARY
    )
    one_try = SearchFacts(ROLE_TRY, "resnet_v2_50 batch max forward", (tries[3],), settings, index=4)
    full_run = SearchFacts(ROLE_TRY, "s", (Try(5, NO_FIT, "OOM", full_run=True),), settings, index=9)
    for facts in (largest, one_try, full_run):
        assert SearchFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts
    assert one_try.to_dict() == {
        "role": "try",
        "search": "resnet_v2_50 batch max forward",
        "index": 4,
        "batch_size": 8,
        "outcome": "no-fit",
        "why": "",
        "full_run": False,
        "settings": settings.to_dict(),
    }
    assert largest.batch_cell() == "max 5" and one_try.batch_cell() == "8 (try)"
    capped = SearchFacts(ROLE_LARGEST, "s", (Try(512, FIT),), settings, largest=512, ended=ENDED_CAP)
    assert capped.batch_cell() == "max 512 (cap)"
    assert SearchFacts(ROLE_LARGEST, "s", (Try(1, NO_FIT),), ended=ENDED_NONE_FITS).batch_cell() == "max"
    assert SearchFacts.from_dict(None) is None
