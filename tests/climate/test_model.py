"""FaIR with the shipped calibration: history, the TCRE check, agreement with fair's own path, summaries."""

from __future__ import annotations

import numpy as np
import pytest

from openets.climate import model, reference
from openets.errors import InputError


@pytest.fixture(scope="module")
def ensemble() -> model.Ensemble:
    """The default 100 members under the background and under a pathway 1 Gt CO2 a year lower from 2025."""
    lower = {year: value - 1.0 for year, value in model.background_co2_gt().items() if year >= 2025}
    return model.run({"background": None, "lower": lower}, model.DEFAULT_MEMBERS)


def test_historical_warming_matches_the_assessed_figure(ensemble):
    # IPCC AR6 WG1 SPM A.1.2: 2011-2020 was 1.09 K [0.95-1.20] above 1850-1900. fair-calibrate v1.4.1
    # (Smith et al. 2024) constrains its members to 1.03 K [0.87-1.13] for 2003-2022, so 2020 is about 1.1-1.3 K.
    years, background = ensemble.years, ensemble.warming_k[0]
    decade = background[(years >= 2011) & (years <= 2020)].mean(axis=0)
    assert 1.0 <= np.median(decade) <= 1.2
    assert 1.1 <= np.median(background[years == 2020]) <= 1.3
    assert np.median(background[(years >= 1850) & (years <= 1900)].mean(axis=0)) == pytest.approx(0.0, abs=1e-12)


def test_one_gigatonne_less_a_year_from_2025_cools_2100_by_a_tcre_amount(ensemble):
    # 76 Gt CO2 less by 2100 (2025-2100); TCRE 0.27-0.63 K per 1000 Gt CO2 (IPCC AR6 WG1 SPM D.1.1), and part of the
    # response still to come in 2100: about 0.02-0.03 K in the median.
    years = ensemble.years
    delta = ensemble.warming_k[0][years == 2100][0] - ensemble.warming_k[1][years == 2100][0]
    assert 0.02 <= np.median(delta) <= 0.03
    assert (delta > 0).all()  # each member's own seed: the internal variability cancels
    before = ensemble.warming_k[0][years < 2025] - ensemble.warming_k[1][years < 2025]
    assert np.abs(before).max() == 0.0


def test_reference_2100_warming_is_that_of_a_medium_scenario(ensemble):
    # The background (draft CMIP7 medium-extension, CO2 FFI rising to 44.6 Gt in 2100) sits between SSP2-4.5
    # (2.7 K [2.1-3.5] for 2081-2100, IPCC AR6 WG1 SPM B.1.1) and SSP3-7.0.
    summary = model.summarise(ensemble.warming_k[0], ensemble.years)
    assert 2.5 <= summary.median_2100_k <= 3.1
    assert summary.p5_2100_k < summary.median_2100_k < summary.p95_2100_k
    assert summary.p_below_1_5 <= summary.p_below_2 <= 1
    assert summary.members == 100


def test_the_adapter_gives_exactly_what_fairs_own_loaders_give():
    pathway = {2025: 35.0, 2050: 10.0, 2100: 0.0}
    ours = model.run({"p": pathway}, 12)
    theirs = reference.run({"p": pathway}, 12)
    assert ours.member_ids == theirs.member_ids
    assert np.abs(ours.warming_k - theirs.warming_k).max() < 1e-12


def test_batching_members_does_not_change_any_member(monkeypatch):
    whole = model.run({"b": None}, 7)
    monkeypatch.setattr(model, "BATCH", 3)
    batched = model.run({"b": None}, 7)
    # each member carries its own seed; only the last bit of numpy's vectorised sums may differ with array size
    assert np.abs(whole.warming_k - batched.warming_k).max() < 1e-12


def test_all_members_run_and_the_default_subset_represents_them():
    everyone = model.warming(None, "all")
    subset = model.warming(None, model.DEFAULT_MEMBERS)
    assert everyone.members == model.MEMBER_COUNT == 841
    assert everyone.median_2100_k == pytest.approx(subset.median_2100_k, abs=0.05)
    assert everyone.p_below_2 == pytest.approx(subset.p_below_2, abs=0.05)


def test_pathway_years_replace_the_background_and_gaps_are_linear():
    bg = model.background_co2_gt()
    years = range(model.FIRST_YEAR, model.LAST_YEAR + 1)
    series = dict(zip(years, model.co2_ffi_gt({2040: 20.0, 2030: 30.0}), strict=True))
    assert series[2030] == 30.0 and series[2040] == 20.0
    assert series[2035] == pytest.approx(25.0)
    assert series[2029] == bg[2029] and series[2041] == bg[2041]
    assert model.co2_ffi_gt(None).tolist() == list(bg.values())


def test_a_single_warm_year_does_not_count_as_crossing_a_level():
    # Peak warming is the highest 20-year mean: 1.0 K everywhere and one year at 3.0 K peaks at 1.0 + 2.0/20.
    years = np.arange(model.FIRST_YEAR, model.LAST_YEAR + 1)
    warming = np.ones((len(years), 2))
    warming[years == 2050, 0] = 3.0
    warming[years >= 2081, 1] = 2.5  # the last 20 years at 2.5 K: that member peaks at 2.5 K
    assert model.peak_k(warming, years) == pytest.approx([1.1, 2.5])
    summary = model.summarise(warming, years)
    assert (summary.p_below_1_5, summary.p_below_2) == (0.5, 0.5)
    assert (summary.p_below_1_5_2100, summary.median_2100_k) == (0.5, 1.75)


def test_member_subsets_are_evenly_spaced_and_all_means_all():
    assert model.select_members(4).tolist() == [0, 210, 420, 630]
    assert model.select_members(841).tolist() == list(range(841))
    assert model.parse_members("all") == model.parse_members("ALL") == 841


def test_warming_difference_is_paired_and_scales_with_the_cut():
    from openets.climate.model import warming_difference

    one = warming_difference({y: 1.0 for y in range(2025, 2101)}, members=30)
    two = warming_difference({y: 2.0 for y in range(2025, 2101)}, members=30)
    # TCRE: 76 Gt less CO2 by 2100 at about 0.45 K per 1000 Gt (IPCC AR6 WG1 SPM D.1.1, 0.27-0.63) gives 0.02-0.04 K.
    assert 0.015 < one.median_2100_k < 0.04 and one.p5_2100_k > 0
    assert two.median_2100_k == pytest.approx(2 * one.median_2100_k, rel=0.1)  # near-linear in the cut
    assert one.cumulative_cut_gt == pytest.approx(76.0)


def test_warming_difference_refuses_years_outside_the_background():
    from openets.climate.model import warming_difference

    with pytest.raises(InputError, match="covers 1750-2100"):
        warming_difference({2150: 1.0}, members=5)
