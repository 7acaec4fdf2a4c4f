"""Untimed checks of a step's numbers: the dynamic loss scale around the measured steps, and
whether every gradient is finite after them (forward-backward and train)."""

from __future__ import annotations

from bench.results.extras import Numerics


def read_loss_scale_state(session, step) -> dict | None:
    """The dynamic loss scaler's state now ({'loss_scale': float, 'skipped_steps': int}), or None
    without a dynamic loss scale.

    Args:
      session: the session the steps run in.
      step: the bench.step.targets.Step the session runs.
    """
    if step.loss_scale_state is None:
        return None
    values = session.run(step.loss_scale_state)
    return {"loss_scale": float(values["loss_scale"]), "skipped_steps": int(values["skipped_steps"])}


def check_after_measurement(session, step, mode: str, state_before: dict | None) -> Numerics:
    """The checks run once after the measured steps.

    Args:
      session: the session the steps ran in.
      step: the bench.step.targets.Step the session runs.
      mode: the configuration's mode.
      state_before: the loss scaler's state read just before the measured steps (or None).

    Returns:
      Numerics: whether every gradient is finite (one extra run of the finiteness check) where
      gradients are computed; with a dynamic loss scale also the scale before and after the
      measured steps and, in 'train', how many measured steps skipped their update. Empty for
      'forward'.
    """
    if step.gradients_finite is None:
        return Numerics()
    finite = bool(session.run(step.gradients_finite))
    if state_before is None:
        return Numerics(gradients_finite=finite)
    state_after = read_loss_scale_state(session, step)
    skipped = None
    if mode == "train":
        skipped = state_after["skipped_steps"] - state_before["skipped_steps"]
    return Numerics(
        gradients_finite=finite,
        loss_scale_before=state_before["loss_scale"],
        loss_scale_after=state_after["loss_scale"],
        skipped_updates=skipped,
    )
