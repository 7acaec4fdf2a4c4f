"""The measurement loop on a real (tiny) session: what runs, what is timed, what is kept."""

import pytest
import tensorflow as tf

from bench.measuring import timing

tf1 = tf.compat.v1


@pytest.fixture
def counting_session():
    """A session whose fetch counts how many times it ran."""
    graph = tf.Graph()
    with graph.as_default():
        counter = tf1.get_variable("counter", [], tf.int64, tf1.zeros_initializer())
        step = counter.assign_add(1)
        initializer = tf1.global_variables_initializer()
    with tf1.Session(graph=graph) as session:
        session.run(initializer)
        yield session, step, counter


def test_runs_burn_in_then_measured_steps_and_keeps_every_time(counting_session):
    session, step, counter = counting_session
    seen = []
    measurement = timing.measure_steps(session, step, burn_in=2, num_steps=5,
                                       on_step=lambda n, d: seen.append((n, d)))
    assert session.run(counter) == 7  # 2 burn-in + 5 measured, nothing else
    assert len(measurement.burn_in_times_s) == 2
    assert len(measurement.step_times_s) == 5
    assert measurement.cold_step_s == measurement.burn_in_times_s[0]
    assert seen == list(zip(range(1, 6), measurement.step_times_s, strict=True))
    assert all(duration > 0 for duration in measurement.step_times_s)
    assert measurement.loop_wall_s >= sum(measurement.step_times_s)


def test_without_burn_in_the_cold_step_is_the_first_measured_one(counting_session):
    session, step, counter = counting_session
    measurement = timing.measure_steps(session, step, burn_in=0, num_steps=3)
    assert session.run(counter) == 3
    assert measurement.cold_step_s == measurement.step_times_s[0]


def test_burn_in_fetch_runs_in_every_burn_in_step_but_the_last(counting_session):
    # The last burn-in step runs the measured fetch, so its executor is built before timing.
    session, step, counter = counting_session
    with session.graph.as_default():
        settles = tf1.get_variable("settles", [], tf.int64, tf1.zeros_initializer())
        settle = settles.assign_add(1)
    session.run(settles.initializer)
    checked = []
    timing.measure_steps(session, step, burn_in=4, num_steps=2, burn_in_fetch=[step, settle],
                         before_measured=lambda: checked.append(session.run([counter, settles])))
    assert checked == [[4, 3]]
    assert session.run([counter, settles]) == [6, 3]


def test_should_stop_ends_the_loop_early_or_runs_without_a_count(counting_session):
    session, step, counter = counting_session
    asked = []

    def stop_at_three(number, times, elapsed):
        asked.append((number, len(times), elapsed > 0))
        return number == 3

    measurement = timing.measure_steps(session, step, burn_in=1, num_steps=None, should_stop=stop_at_three)
    assert len(measurement.step_times_s) == 3 and session.run(counter) == 4
    assert asked == [(1, 1, True), (2, 2, True), (3, 3, True)]
    # A count is still the ceiling, and the callback sees its last step.
    measurement = timing.measure_steps(session, step, burn_in=0, num_steps=2, should_stop=stop_at_three)
    assert len(measurement.step_times_s) == 2 and asked[-1][0] == 2
