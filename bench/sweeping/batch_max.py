"""`--batch max`: for each configuration, the largest batch that fits, found by trying sizes in
child processes, then measured like any configuration.

Each try is one configuration run through `bench.processes.child.run_in_child` under the sweep's limits,
short (`SearchSettings.try_burn_in` burn-in + `try_steps` measured steps; the peak probe when the
sweep has one, since its memory is part of what the full run holds): the cold
step allocates what a step needs, so a try that gets through its steps fits. Which size comes
next and when the search is over is `bench.core.batch_search`. A try that runs out of memory (failure
kind 'oom': the GPU allocator, `--gpu-memory-limit`, or on the CPU a child stopped above the
`--memory-limit` bound or crashed at it) does not fit; any other failure ends that search, whose
answer is then the largest batch that fitted so far (the row says so), and the sweep goes on.
The largest batch that fits is then run again with the sweep's own --burn-in, --num-batches and
peak probe, so its row is as trustworthy as any other (a 2-step try's time is not). If that full
run does not fit (the peak probe's memory, or a boundary a few MiB wide that one run crosses and
the next does not), it counts as a no-fit of that size, delivered as one more try, and the search
goes on below it: a search that found a batch that fits ends with one measured.

Every try is delivered as a record as soon as it ends (the record's "batch_search" says
{"role": "try", ...}); the search's result is one more record ({"role": "largest", ...} with
every try listed), the row of the table. Ctrl-C during a search keeps the finished tries and
records the search as interrupted. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import IO

from bench.core import batch_search
from bench.core.batch_search import ROLE_LARGEST, ROLE_TRY, SearchFacts, SearchSettings, Try
from bench.core.config import BenchmarkConfig
from bench.core.errors import ConfigError
from bench.core.limits import Limits
from bench.core.quality_settings import speed_only
from bench.core.quiet import Quiet
from bench.core.run_context import RunContext
from bench.processes import child
from bench.results import failures
from bench.results.result import BenchmarkResult
from bench.sweeping.signals import InterruptedWithResult, deferred_stop


def requested(
    tokens, device: str, limits: Limits, in_process: bool, resume: bool, trace: str | None
) -> SearchSettings | None:
    """The batch search the --batch tokens ask for ('max', or 'max:N' to start at batch N), or
    None; checks what can be checked before TensorFlow is imported (a CPU without a memory bound
    when the device is given as cpu).

    Args:
      tokens: the --batch value (a list of tokens, or the default's single value).
      device, limits, in_process, resume, trace: the other flags a search depends on.

    Returns:
      The search's settings, or None for plain batch sizes.

    Raises:
      ConfigError: for a search mixed with sizes, a bad start, or a setting a search cannot run with.
    """
    words = [str(token) for token in (tokens if isinstance(tokens, list) else [tokens])]
    starts = [_start(word) for word in words]
    if all(start is None for start in starts):
        return None
    if len(words) != 1:
        raise ConfigError("batch_size", " ".join(words), "max searches for the largest batch: give it alone")
    conflicts = (
        (in_process, "runs each try in its own child process: drop --in-process"),
        (resume, "not with --resume (a search is run again in full)"),
        (trace is not None, "not with --trace (trace a batch size you give)"),
    )
    for conflict, reason in conflicts:
        if conflict:
            raise ConfigError("batch_size", words[0], reason)
    check_devices([BenchmarkConfig(device=device)], limits)
    return SearchSettings(start=starts[0])


def _start(word: str) -> int | None:
    """`batch_search.search_start` of one token, a bad start as a ConfigError."""
    try:
        return batch_search.search_start(word)
    except ValueError as error:
        raise ConfigError("batch_size", word, str(error)) from None


def check_devices(configs: Sequence[BenchmarkConfig], limits: Limits) -> None:
    """Raises ConfigError if a search would run on the CPU without a memory bound: nothing would
    stop it before the machine swaps."""
    if limits.memory_bytes is None and any(config.device == "cpu" for config in configs):
        raise ConfigError(
            "batch_size",
            batch_search.MAX_WORD,
            "on the CPU needs --memory-limit SIZE (without it the search grows until the machine swaps)",
        )


def as_search(config: BenchmarkConfig) -> BenchmarkConfig:
    """The configuration with 'max' for its batch size, for words only (labels, the header):
    never run or recorded."""
    return dataclasses.replace(config, batch_size=batch_search.MAX_WORD)


def header_lines(settings: SearchSettings, limits: Limits) -> list[str]:
    """What the header says about the batch search."""
    bound = limits.memory_text() or "the device's memory"
    return [
        f"Batch search: per configuration, the largest batch that fits ({bound}): doubling from "
        f"{settings.start} (at most {settings.cap}), then bisecting; each try "
        f"{settings.try_burn_in} burn-in + {settings.try_steps} measured steps in its own child; "
        "the largest is then measured with the steps above"
    ]


def try_config(config: BenchmarkConfig, batch_size: int, settings: SearchSettings) -> BenchmarkConfig:
    """One try of `config`'s search: the batch size, short, no trace, breakdown or untimed pass (the
    quality and agreement passes run on the largest batch's measured run only); the peak probe as
    the sweep has it (it runs first in the same process, and a try must hold what the full run
    will: without it, the issue's 3 GiB search found 2902 whose full run went over by 2 MiB, then
    2900, 2899...)."""
    return dataclasses.replace(
        speed_only(config),
        batch_size=batch_size,
        burn_in=settings.try_burn_in,
        num_batches=settings.try_steps,
        trace=None,
        breakdown=None,
    )


def outcome_of(result: BenchmarkResult, full_run: bool = False) -> Try:
    """What a try's result says: fits, does not fit (out of memory), or failed otherwise;
    `full_run` marks the largest batch's full run."""
    size = result.config.batch_size
    if result.ok:
        return Try(size, batch_search.FIT, "fits")
    if result.failure is not None and result.failure.kind == "oom":
        return Try(size, batch_search.NO_FIT, result.failure.short, full_run)
    reason = result.failure.short if result.failure else result.status
    return Try(size, batch_search.FAILED, reason)


@dataclasses.dataclass
class Runner:
    """Runs the batch search of each configuration given to `run` (the sweep's per-configuration
    runner, see `bench.sweeping.sweep.run_sweep`).

    Attributes:
      environment: the environment dict.
      settings: the search's settings.
      on_try: called with each try's result as soon as it exists (Ctrl-C and SIGTERM deferred
        until it returns).
      quiet: what TensorFlow may print.
      progress: where the final run's progress lines go (None: none; tries print none).
      limits: the bounds of every try and of the final run.
    """

    environment: dict
    settings: SearchSettings = SearchSettings()
    on_try: Callable[[BenchmarkResult], None] | None = None
    quiet: Quiet = Quiet()
    progress: IO[str] | None = None
    limits: Limits = Limits()

    def run(self, config: BenchmarkConfig) -> BenchmarkResult:
        """Searches `config`'s largest batch and measures it.

        Returns:
          The search's result: the largest batch's full run (ok or not), or a failed result
          saying why there is none; its `batch_search` lists every try.

        Raises:
          InterruptedWithResult: on Ctrl-C or SIGTERM, carrying the interrupted search's result.
        """
        tries: list[Try] = []
        last: BenchmarkResult | None = None
        running = config.batch_size  # the batch size of the child running (named if interrupted)
        try:
            while True:
                while (size := batch_search.next_size(tries, self.settings)) is not None:
                    running = size
                    last = self._run_child(try_config(config, size, self.settings), None)
                    self._deliver_try(config, last, tries)
                facts = self._facts(config, tries)
                if facts.largest is None:
                    return self._none_found(config, last, facts)
                running = facts.largest
                result = self._measure(config, facts.largest)
                if outcome_of(result).outcome != batch_search.NO_FIT:
                    break
                # The full run needs a little more than its short try did (the peak probe, a noisy
                # boundary): that size does not fit after all, and the search goes on below it.
                last = result
                self._deliver_try(config, result, tries, full_run=True)
        except KeyboardInterrupt as stop:
            reason = str(stop) or "Ctrl-C"
            facts = self._facts(config, tries)
            stopped = dataclasses.replace(config, batch_size=running)
            interrupted = failures.interrupted_result(stopped, self.environment, reason)
            interrupted.batch_search = facts
            raise InterruptedWithResult(reason, interrupted) from None
        result.batch_search = facts
        return result

    def _measure(self, config: BenchmarkConfig, largest: int) -> BenchmarkResult:
        """The full run of the largest batch found, with the sweep's steps."""
        if self.progress is not None:
            print(f"  largest batch {largest}: measured with the sweep's steps", file=self.progress)
        return self._run_child(dataclasses.replace(config, batch_size=largest), self.progress)

    def _deliver_try(
        self, config: BenchmarkConfig, result: BenchmarkResult, tries: list[Try], full_run: bool = False
    ) -> None:
        """Adds what `result` says to `tries` and delivers it as the search's next try record
        (`full_run`: the largest batch's full run, which did not fit)."""
        tries.append(outcome_of(result, full_run))
        result.batch_search = SearchFacts(
            ROLE_TRY, as_search(config).label, (tries[-1],), self.settings, index=len(tries)
        )
        with deferred_stop():
            if self.on_try is not None:
                self.on_try(result)

    def _facts(self, config: BenchmarkConfig, tries: list[Try]) -> SearchFacts:
        """The search's result facts after `tries`: ended 'interrupted' while sizes are left; a
        largest batch once the search is over (after a failed try, the largest that fitted so far)."""
        over = batch_search.next_size(tries, self.settings) is None
        ended = batch_search.ending(tries, self.settings) if over else batch_search.ENDED_INTERRUPTED
        found = ended != batch_search.ENDED_INTERRUPTED
        return SearchFacts(
            ROLE_LARGEST,
            as_search(config).label,
            tuple(tries),
            self.settings,
            largest=batch_search.largest_fit(tries) if found else None,
            ended=ended,
        )

    def _run_child(self, config: BenchmarkConfig, progress: IO[str] | None) -> BenchmarkResult:
        return child.run_in_child(config, RunContext(self.environment, self.quiet, progress, self.limits))

    def _none_found(
        self, config: BenchmarkConfig, last: BenchmarkResult, facts: SearchFacts
    ) -> BenchmarkResult:
        """The failed result of a search that ended without a batch that fits: the last try's
        failure (out of memory at the smallest size, or what stopped the search)."""
        size = last.config.batch_size
        failure = dataclasses.replace(last.failure, message=f"batch {size}: {last.failure.message}")
        result = failures.failed_result(
            dataclasses.replace(config, batch_size=size), self.environment, failure
        )
        result.limits = self.limits
        result.batch_search = facts
        return result
