"""The largest batch that fits: which batch size to try next, and when the search is over.

Pure decision logic, no processes and no TensorFlow (`bench.sweeping.batch_max` runs the tries). The search
grows the batch by doubling from `SearchSettings.start` until a try does not fit, then bisects
between the largest size that fitted and the smallest that did not, until they are neighbours.
"Does not fit" is an out-of-memory failure: the allocator's error, or under `--memory-limit` a
child stopped above the bound or crashed at it (`bench.results.failures.under_memory_limit`).
Any other failure (a Python error, another signal, a timeout) ends the search at once, since a
larger batch tells nothing more; the largest size that fitted until then is still its answer
(`largest_fit`), measured like any other. The cap ends a search in which everything fits.
Sizes are assumed monotonic (what fits at n fits below n): a fit above the smallest no-fit (a
flaky try) is not used as a lower bound, so the search still ends.

The typed facts a record keeps about its search (`SearchFacts`, the record's "batch_search" key)
live here too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

# How a try ended.
FIT = "fit"
NO_FIT = "no-fit"  # out of memory
FAILED = "failed"  # any other failure: the search stops
OUTCOMES = (FIT, NO_FIT, FAILED)

# How a search ended.
ENDED_BOUNDARY = "boundary"  # the largest fit and the smallest no-fit are neighbours
ENDED_CAP = "cap"  # everything up to the cap fitted
ENDED_NONE_FITS = "none fits"  # the smallest size tried did not fit, and nothing smaller is left
ENDED_FAILED = "failed"  # a try failed otherwise (the largest fit so far, if any, is the answer)
ENDED_INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM stopped it

# Roles of a record in a search: one record per try, then one for the search's result.
ROLE_TRY = "try"
ROLE_LARGEST = "largest"

DEFAULT_CAP = 65536

# The --batch token that asks for a search: 'max' (from batch 1) or 'max:N' (from batch N).
MAX_WORD = "max"


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """How a batch search runs.

    Attributes:
      start: the first batch size tried.
      cap: the largest batch size tried; a search where it fits ends there.
      try_burn_in: burn-in steps of a try (the first is the cold step, which allocates).
      try_steps: measured steps of a try.
    """

    start: int = 1
    cap: int = DEFAULT_CAP
    try_burn_in: int = 1
    try_steps: int = 2

    def __post_init__(self):
        for name, minimum in (("start", 1), ("cap", 1), ("try_burn_in", 0), ("try_steps", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"SearchSettings.{name}={value!r}: must be an integer >= {minimum}")
        if self.start > self.cap:
            raise ValueError(f"SearchSettings.start={self.start} is above its cap {self.cap}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None) -> SearchSettings:
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in (values or {}).items() if key in known})


@dataclasses.dataclass(frozen=True)
class Try:
    """One batch size tried.

    Attributes:
      batch_size: the size.
      outcome: FIT, NO_FIT or FAILED.
      why: one line: 'fits', or the failure as the table shows it ('OOM (memory limit 1 GiB)').
      full_run: True for the full run of the largest batch found (the sweep's own steps), which
        did not fit although its short try had: not asked for by `next_size` (the search was
        over), it is one more no-fit, and the search goes on below it.
    """

    batch_size: int
    outcome: str
    why: str = ""
    full_run: bool = False

    def __str__(self) -> str:
        """'batch 64 no-fit (OOM (memory limit 6 GiB))', 'batch 32 fit', 'batch 21 no-fit in its
        full run (...)'."""
        why = f" ({self.why})" if self.why and self.why != "fits" else ""
        run = " in its full run" if self.full_run else ""
        return f"batch {self.batch_size} {self.outcome}{run}{why}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Try:
        return cls(
            int(values["batch_size"]),
            str(values["outcome"]),
            str(values.get("why", "")),
            bool(values.get("full_run", False)),
        )


def search_start(token) -> int | None:
    """The batch size a --batch token's search starts from: 1 for 'max', N for 'max:N' (any case,
    spaces around it ignored); None for a token that asks for no search (a batch size).

    Raises:
      ValueError: for 'max:' followed by anything but a whole number from 1 to DEFAULT_CAP.
    """
    word = str(token).strip().lower()
    if word == MAX_WORD:
        return SearchSettings().start
    if not word.startswith(MAX_WORD + ":"):
        return None
    start = word[len(MAX_WORD) + 1 :]
    if not start.isdigit() or not 1 <= int(start) <= DEFAULT_CAP:
        raise ValueError(f"{MAX_WORD}:N starts the search at batch N, a whole number from 1 to {DEFAULT_CAP}")
    return int(start)


def bounds(tries: Sequence[Try]) -> tuple[int, int | None]:
    """(largest fit below the smallest no-fit, or 0; smallest no-fit, or None)."""
    no_fits = [t.batch_size for t in tries if t.outcome == NO_FIT]
    high = min(no_fits) if no_fits else None
    low = max(
        (t.batch_size for t in tries if t.outcome == FIT and (high is None or t.batch_size < high)), default=0
    )
    return low, high


def next_size(tries: Sequence[Try], settings: SearchSettings = SearchSettings()) -> int | None:
    """The batch size to try next, or None when the search is over.

    Args:
      tries: the tries so far, in order.
      settings: the search's start and cap.

    Returns:
      `start` first; while everything fits, double the largest fit (at most `cap`); after a
      no-fit, the midpoint between the largest fit below it (0 if none) and it; None once a try
      failed otherwise, the largest fit reached the cap, or the two bounds are neighbours.
    """
    if any(t.outcome == FAILED for t in tries):
        return None
    if not tries:
        return settings.start
    low, high = bounds(tries)
    if high is None:
        return None if low >= settings.cap else min(2 * low, settings.cap)
    if high - low <= 1:
        return None
    return (low + high) // 2


def follows_rule(tries: Sequence[Try], settings: SearchSettings = SearchSettings()) -> bool:
    """Whether every try is the one the search asks for after the tries before it: the size
    `next_size` gives, or, once it gives None, a no-fit full run of the largest fit so far."""
    for index, attempt in enumerate(tries):
        before = tries[:index]
        if attempt.full_run:
            expected = None if next_size(before, settings) is not None else largest_fit(before)
            if attempt.outcome != NO_FIT or attempt.batch_size != expected:
                return False
        elif attempt.batch_size != next_size(before, settings):
            return False
    return True


def largest_fit(tries: Sequence[Try]) -> int | None:
    """The largest batch size known to fit (below the smallest no-fit), or None."""
    return bounds(tries)[0] or None


def ending(tries: Sequence[Try], settings: SearchSettings = SearchSettings()) -> str:
    """How a finished search ended: ENDED_FAILED, ENDED_NONE_FITS, ENDED_CAP or ENDED_BOUNDARY.

    Raises:
      ValueError: if the search is not over (`next_size` still has a size to try).
    """
    if next_size(tries, settings) is not None:
        raise ValueError("the search is not over: next_size has a size to try")
    if any(t.outcome == FAILED for t in tries):
        return ENDED_FAILED
    low, high = bounds(tries)
    if low == 0:
        return ENDED_NONE_FITS
    return ENDED_CAP if high is None else ENDED_BOUNDARY


def run_search(outcome_of, settings: SearchSettings = SearchSettings()) -> list[Try]:
    """Runs a whole search with `outcome_of(batch_size) -> Try` deciding each try; returns the tries.

    (The real runner, `bench.sweeping.batch_max`, interleaves records with the tries; this is the loop
    without them, for callers that decide tries cheaply.)
    """
    tries: list[Try] = []
    while (size := next_size(tries, settings)) is not None:
        tries.append(outcome_of(size))
    return tries


def tries_text(tries: Sequence[Try]) -> str:
    """'1, 2, 4 fit; 8 OOM; 6 fit; 7 OOM; 6 OOM in its full run': the tries in order, neighbours
    with the same outcome grouped; a failed try says why; a full run that did not fit stands alone."""
    full_run = "full run"  # a group of its own, as FAILED is
    groups: list[tuple[str, list[Try]]] = []
    for attempt in tries:
        kind = full_run if attempt.full_run else attempt.outcome
        if groups and groups[-1][0] == kind and kind not in (FAILED, full_run):
            groups[-1][1].append(attempt)
        else:
            groups.append((kind, [attempt]))
    words = {FIT: "fit", NO_FIT: "OOM", full_run: "OOM in its full run"}
    parts = []
    for kind, members in groups:
        sizes = ", ".join(str(t.batch_size) for t in members)
        parts.append(f"{sizes} {words.get(kind) or 'failed (' + members[0].why + ')'}")
    return "; ".join(parts)


@dataclasses.dataclass(frozen=True)
class SearchFacts:
    """What a record says about the batch search it belongs to (the record's "batch_search").

    Attributes:
      role: ROLE_TRY (the record of one try) or ROLE_LARGEST (the search's result: the largest
        batch measured with the sweep's full settings, or why there is none).
      search: the search's label, e.g. 'resnet_v2_50 batch max forward'.
      tries: for ROLE_TRY, this try alone; for ROLE_LARGEST, every try in order.
      settings: the search's settings.
      index: for ROLE_TRY, this try's number in its search (1-based).
      largest: for ROLE_LARGEST, the largest batch that fitted (None when none did, or the
        search stopped before knowing).
      ended: for ROLE_LARGEST, how the search ended: one of the ENDED_* words.
    """

    role: str
    search: str
    tries: tuple[Try, ...]
    settings: SearchSettings = SearchSettings()
    index: int | None = None
    largest: int | None = None
    ended: str | None = None

    def batch_cell(self) -> str:
        """The table's Batch cell: 'max 37', 'max 65536 (cap)', 'max 8 (so far)' (a try failed
        otherwise), 'max' (none found), '8 (try)'."""
        if self.role == ROLE_TRY:
            return f"{self.tries[0].batch_size} (try)"
        if self.largest is None:
            return "max"
        return f"max {self.largest}" + {ENDED_CAP: " (cap)", ENDED_FAILED: " (so far)"}.get(self.ended, "")

    def to_dict(self) -> dict:
        """JSON-ready dict: a try's own fields flat beside its index, or the search's result."""
        values = {"role": self.role, "search": self.search}
        if self.role == ROLE_TRY:
            values.update(index=self.index, **self.tries[0].to_dict())
        else:
            values.update(largest=self.largest, ended=self.ended, tries=[t.to_dict() for t in self.tries])
        values["settings"] = self.settings.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict | None) -> SearchFacts | None:
        """The facts of a `to_dict` output; None for None (records of no search)."""
        if not values:
            return None
        is_try = values["role"] == ROLE_TRY
        return cls(
            role=values["role"],
            search=values.get("search", ""),
            tries=(Try.from_dict(values),)
            if is_try
            else tuple(Try.from_dict(t) for t in values.get("tries", [])),
            settings=SearchSettings.from_dict(values.get("settings")),
            index=values.get("index"),
            largest=values.get("largest"),
            ended=values.get("ended"),
        )
