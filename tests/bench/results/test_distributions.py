"""t and F distributions against closed forms and printed tables."""

import math

import pytest

from bench.results import distributions


@pytest.mark.parametrize("x", [0.01, 0.3, 0.5, 0.77, 0.99])
@pytest.mark.parametrize("a", [0.5, 1.0, 2.5, 7.0])
def test_incomplete_beta_against_closed_forms(x, a):
    # I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b.
    assert distributions.incomplete_beta(x, a, 1.0) == pytest.approx(x**a, rel=1e-12)
    assert distributions.incomplete_beta(x, 1.0, a) == pytest.approx(1 - (1 - x) ** a, rel=1e-12)
    # The symmetry I_x(a, b) = 1 - I_(1-x)(b, a), here with b = 3.
    left = distributions.incomplete_beta(x, a, 3.0)
    assert left == pytest.approx(1 - distributions.incomplete_beta(1 - x, 3.0, a), abs=1e-13)


def test_incomplete_beta_refuses_values_outside_its_domain():
    with pytest.raises(ValueError, match="outside"):
        distributions.incomplete_beta(1.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="positive"):
        distributions.incomplete_beta(0.5, 0.0, 1.0)


@pytest.mark.parametrize("t", [-3.0, -0.4, 0.0, 0.7, 2.5, 40.0])
def test_t_cdf_against_the_closed_forms_for_one_and_two_degrees_of_freedom(t):
    assert distributions.t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-13)
    assert distributions.t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-13)
    assert distributions.t_two_sided_p(t, 2) == pytest.approx(2 * distributions.t_cdf(-abs(t), 2))


# Two-sided 95% critical values as printed in any t table.
@pytest.mark.parametrize("df, critical", [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045),
                                          (120, 1.980), (math.inf, 1.960)])
def test_t_quantile_against_the_printed_table(df, critical):
    assert distributions.t_quantile(0.975, df) == pytest.approx(critical, abs=5e-4)
    assert distributions.t_quantile(0.025, df) == pytest.approx(-critical, abs=5e-4)
    assert distributions.t_cdf(distributions.t_quantile(0.975, df), df) == pytest.approx(0.975, abs=1e-12)


def test_t_quantile_for_fractional_degrees_of_freedom_lies_between_its_neighbours():
    between = distributions.t_quantile(0.975, 4.5)
    assert distributions.t_quantile(0.975, 5) < between < distributions.t_quantile(0.975, 4)


# Upper 5% and 1% points of F, as printed in F tables.
@pytest.mark.parametrize("f, df1, df2, tail", [(3.098, 3, 20, 0.05), (4.938, 3, 20, 0.01),
                                               (4.965, 1, 10, 0.05), (3.478, 4, 10, 0.05)])
def test_f_survival_against_the_printed_table(f, df1, df2, tail):
    assert distributions.f_survival(f, df1, df2) == pytest.approx(tail, abs=2e-4)


def test_f_survival_for_one_numerator_degree_is_the_squared_t():
    # F(1, d) is the square of t(d): P(F >= t^2) = P(|T| >= t).
    assert distributions.f_survival(2.5**2, 1, 7) == pytest.approx(distributions.t_two_sided_p(2.5, 7))
    assert distributions.f_survival(0.0, 2, 3) == 1.0
