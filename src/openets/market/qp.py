"""The banking equilibrium as a planner's quadratic programme: an independent check of `equilibrium.solve`.

Minimise the discounted cost of abatement plus what the rules charge for extra supply (the reserve price for
auctioned allowances, tier prices for reserve and containment allowances, the trigger for allowances an ECR would
withhold, the ceiling for price-ceiling units), subject to a bank that never goes negative. Prices are the
discounted duals of the bank constraints. Needs cvxpy with the Clarabel solver (`pip install cvxpy clarabel`);
the tests and `make bench` use it; openets itself does not.
"""

from __future__ import annotations

import numpy as np

from openets.errors import InputError
from openets.market.equilibrium import Market


def solve_qp(market: Market, tolerance: float = 1e-12) -> np.ndarray:
    """The price path of the planner's problem, solved by Clarabel to `tolerance` (gap and feasibility; large
    cases need a looser one than the default). Firms' curves have no vertical jumps (`Firms` refuses them)."""
    try:
        import cvxpy as cp
    except ImportError:  # pragma: no cover - the test environment has it
        msg = "the QP check needs cvxpy and clarabel: pip install cvxpy clarabel"
        raise InputError(msg) from None
    curve, supply = market.abatement, list(market.supply)
    n_years = len(supply)
    # Quantities in units of about a year's emissions keep the problem well conditioned; prices are unchanged.
    unit = float(10 ** np.round(np.log10(max(float(curve.bau.mean()), 1.0))))
    delta = 1.0 / (1.0 + market.rate)
    x = curve.x
    cost = 0
    constraints = []
    bank = cp.Variable(n_years)
    balance = []
    previous = market.initial_bank / unit
    for t, year in enumerate(supply):
        widths = np.diff(curve.level[t]) / unit
        widths = np.append(widths, 0.0)
        keep = widths[:-1] > 1e-12
        start, stop = x[:-1][keep], x[1:][keep]
        w = widths[:-1][keep]
        a = cp.Variable(len(w)) if len(w) else None
        discount = delta**t
        abated = float(curve.level[t, 0]) / unit
        if a is not None:
            cost += discount * (start @ a + cp.sum(cp.multiply((stop - start) / (2 * w), cp.square(a))))
            constraints += [a >= 0, a <= w]
            abated = abated + cp.sum(a)
        extra = 0
        # The same supply steps as the solver: the auction at the floor, any ECR portion at the higher of the
        # floor and its trigger, tiers and containment reserves at their prices.
        for price, q, _ in year.levels():
            z = cp.Variable()
            constraints += [z >= 0, z <= q / unit]
            cost += discount * price * z
            extra += z
        if year.ceiling is not None:
            c = cp.Variable()
            constraints += [c >= 0]
            cost += discount * year.ceiling * c
            extra += c
        net = year.free / unit + extra - (float(curve.bau[t]) / unit - abated)
        eq = bank[t] == previous + net
        balance.append(eq)
        constraints.append(eq)
        previous = bank[t] if market.banking else 0  # without banking a surplus is lost, not carried
    constraints += [bank >= 0, bank[n_years - 1] >= market.terminal_bank / unit]
    problem = cp.Problem(cp.Minimize(cost), constraints)
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=tolerance, tol_gap_rel=tolerance, tol_feas=tolerance)
    if problem.status not in ("optimal", "optimal_inaccurate"):
        msg = f"the QP found no solution ({problem.status})"
        raise InputError(msg)
    duals = np.array([float(eq.dual_value) for eq in balance])
    return np.abs(duals) / delta ** np.arange(n_years)
