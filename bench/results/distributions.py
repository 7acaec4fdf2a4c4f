"""The few probability distributions the statistics need: Student's t (quantiles for confidence
intervals, tail probabilities for tests) and Fisher's F (the test of whether repeated processes agree).

Both reduce to the regularized incomplete beta function I_x(a, b), evaluated here by its continued
fraction (modified Lentz method), with `math.lgamma` for the normalising beta function; the normal
distribution (t with infinite degrees of freedom) comes from `statistics.NormalDist`. Written here
rather than taken from scipy: these are a few dozen lines, accurate to about 1e-12, and they keep the
command line free of a large dependency and its import time. No TensorFlow, no numpy.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

_NORMAL = NormalDist()
_TINY = 1e-300
_EPSILON = 1e-15
_MAX_TERMS = 500


def incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b).

    Args:
      x: the upper limit, in [0, 1].
      a, b: the shape parameters, both > 0.

    Returns:
      I_x(a, b) in [0, 1].

    Raises:
      ValueError: if x is outside [0, 1] or a shape is not positive.
    """
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"incomplete beta: x={x!r} is outside [0, 1]")
    if not (a > 0 and b > 0):
        raise ValueError(f"incomplete beta: shapes a={a!r}, b={b!r} must be positive")
    if x in (0.0, 1.0):
        return x
    # The continued fraction converges fast below the mean (a + 1) / (a + b + 2); above it, use
    # the symmetry I_x(a, b) = 1 - I_(1-x)(b, a).
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - incomplete_beta(1.0 - x, b, a)
    log_front = a * math.log(x) + b * math.log1p(-x) + _log_beta_inverse(a, b)
    return math.exp(log_front) * _beta_fraction(x, a, b) / a


def _log_beta_inverse(a: float, b: float) -> float:
    """-log B(a, b)."""
    return math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)


def _beta_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction 1 / (1 + d1 / (1 + d2 / (1 + ...))) of I_x(a, b), by the modified
    Lentz method, where d(2m+1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) and
    d(2m) = m (b - m) x / ((a + 2m - 1)(a + 2m))."""
    value, c, d = _TINY, _TINY, 0.0
    for term in range(1, 2 * _MAX_TERMS + 2):
        k = term - 1  # the numerator of this term is 1 for the first, d(k) after
        if k == 0:
            numerator = 1.0
        elif k % 2:
            m = (k - 1) // 2
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            m = k // 2
            numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + numerator * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + numerator / c
        c = c if abs(c) > _TINY else _TINY
        factor = c * d
        value *= factor
        if abs(factor - 1.0) < _EPSILON:
            return value
    raise ArithmeticError(f"incomplete beta: no convergence for x={x}, a={a}, b={b}")


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t distribution with `df` degrees of freedom (math.inf: normal).

    Raises:
      ValueError: if df is not positive.
    """
    if not df > 0:
        raise ValueError(f"t distribution: df={df!r} must be positive")
    if math.isinf(df):
        return _NORMAL.cdf(t)
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5)
    return 1.0 - tail if t > 0 else tail


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|): the two-sided p-value of a t statistic."""
    if math.isinf(t):
        return 0.0
    if math.isinf(df):
        return 2.0 * _NORMAL.cdf(-abs(t))
    return incomplete_beta(df / (df + t * t), df / 2.0, 0.5)


def t_density(t: float, df: float) -> float:
    """The density of Student's t distribution with `df` (finite) degrees of freedom at t."""
    log_scale = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_scale - (df + 1) / 2 * math.log1p(t * t / df))


@functools.lru_cache(maxsize=256)
def t_quantile(probability: float, df: float) -> float:
    """The t value below which `probability` of the distribution lies (0.975 -> the two-sided 95%
    critical value): Newton's method on `t_cdf` from the normal quantile, kept inside a bracket
    that bisection narrows whenever a Newton step would leave it.

    Raises:
      ValueError: if probability is outside (0, 1) or df is not positive.
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(f"t quantile: probability {probability!r} is outside (0, 1)")
    if not df > 0:
        raise ValueError(f"t distribution: df={df!r} must be positive")
    if math.isinf(df):
        return _NORMAL.inv_cdf(probability)
    if probability < 0.5:
        return -t_quantile(1.0 - probability, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < probability:
        low, high = high, high * 2.0
    guess = min(max(_NORMAL.inv_cdf(probability), low), high)
    for _ in range(200):
        excess = t_cdf(guess, df) - probability
        if excess < 0:
            low = guess
        else:
            high = guess
        step = excess / t_density(guess, df)
        following = guess - step
        if not low < following < high:
            following = (low + high) / 2.0
        if abs(following - guess) <= 1e-13 * max(1.0, guess):
            return following
        guess = following
    return guess


def f_survival(f: float, df1: float, df2: float) -> float:
    """P(F >= f) for Fisher's F distribution with (df1, df2) degrees of freedom.

    Raises:
      ValueError: if a df is not positive.
    """
    if not (df1 > 0 and df2 > 0):
        raise ValueError(f"F distribution: df=({df1!r}, {df2!r}) must be positive")
    if f <= 0:
        return 1.0
    if math.isinf(f):
        return 0.0
    return incomplete_beta(df2 / (df2 + df1 * f), df2 / 2.0, df1 / 2.0)
