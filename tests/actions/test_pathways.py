"""National pathways: baseline, commitments with nested overlaps counted once, and the NDC gap."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openets.actions.actors import ActorBook, load_actors
from openets.actions.commitments import Commitment, load_commitments
from openets.actions.pathways import baseline, pathway, plot
from openets.errors import InputError


@pytest.fixture(scope="module")
def runs():
    return {s: pathway(s) for s in ("current-policy", "usca-only", "states", "commitments")}


def test_history_is_the_epa_state_sum(runs):
    p = runs["current-policy"]
    # shared/data/MANIFEST.md: 50 states + DC, 7,357.7 Mt in 2005 and 5,949.1 Mt in 2020.
    assert p.base_2005_mt == pytest.approx(7357.7, abs=0.05)
    assert p.emissions_mt[2020] == pytest.approx(5949.1, abs=0.05)
    assert p.emissions_mt == p.baseline_mt


def test_baseline_is_a_straight_trend_after_the_inventory():
    b = baseline(load_actors(), "US-NY", range(2018, 2031))
    assert b[2019] == load_actors().state_year("US-NY", 2019).gross_ghg_mtco2e
    steps = [b[y + 1] - b[y] for y in range(2021, 2030)]
    assert max(steps) - min(steps) < 1e-9


def test_ndc_comparison_on_the_gross_2005_base(runs):
    p = runs["commitments"]
    ndc = {n.year: n for n in p.ndc}
    # US INDC (31 Mar 2015): 26-28% below 2005 in 2025; US NDC (22 Apr 2021): 50-52% in 2030.
    assert ndc[2025].target_mt_low_ambition == pytest.approx(7357.7 * 0.74, abs=0.1)
    assert ndc[2030].target_mt_high_ambition == pytest.approx(7357.7 * 0.48, abs=0.1)
    for n in p.ndc:
        assert n.gap_mt_to_low_ambition == pytest.approx(n.pathway_mt - n.target_mt_low_ambition)
        assert n.percent_below_2005 == pytest.approx(100 * (1 - n.pathway_mt / p.base_2005_mt))


def test_more_commitments_never_raise_the_pathway(runs):
    order = ["current-policy", "usca-only", "states", "commitments"]
    for weaker, stronger in zip(order, order[1:]):
        for y in runs["current-policy"].years:
            assert runs[stronger].emissions_mt[y] <= runs[weaker].emissions_mt[y] + 1e-9


def test_inside_a_state_the_stronger_target_wins():
    book = load_actors()
    ca = {y: v.gross_ghg_mtco2e for (s, y), v in book.states.items() if s == "US-CA" and v.gross_ghg_mtco2e}
    state = Commitment("s", "US-CA", "absolute_reduction", "40% below 1990", target_year=2030, base_year=1990,
                       reduction_percent=40)
    weak = Commitment("w", "US-CA:los-angeles", "absolute_reduction", "10% below 1990", target_year=2030,
                      base_year=1990, reduction_percent=10)
    strong = Commitment("z", "US-CA:los-angeles", "absolute_reduction", "net zero", target_year=2030,
                        reduction_percent=100)
    # Census 2019: Los Angeles 3,979,576 of California's 39,512,223.
    share = 3_979_576 / 39_512_223
    only_state = pathway("commitments", commitments=[state], horizon=2030).by_state_mt["US-CA"][2030]
    assert only_state == pytest.approx(0.6 * ca[1990])
    with_weak = pathway("commitments", commitments=[state, weak], horizon=2030).by_state_mt["US-CA"][2030]
    assert with_weak == pytest.approx(only_state)  # the city's weaker target adds nothing
    with_strong = pathway("commitments", commitments=[state, strong], horizon=2030).by_state_mt["US-CA"][2030]
    assert with_strong == pytest.approx(only_state * (1 - share))  # the city's part goes to zero, counted once


def test_a_states_targets_make_one_path_through_each_level_in_turn(runs):
    # C2ES (shared/data/actions/us_state_ghg_targets_c2es.csv): California 40% below 1990 by 2030 and 80% by 2050;
    # Pennsylvania 26% below 2005 by 2025 and 80% by 2050. EPA state inventory: CA 1990 = 433.0 Mt, PA 2005 =
    # 327.9 Mt. 2040 lies on the line between the 2030 (2025) and 2050 levels.
    book = load_actors()
    ca90 = book.state_year("US-CA", 1990).gross_ghg_mtco2e
    pa05 = book.state_year("US-PA", 2005).gross_ghg_mtco2e
    ca_2040 = (0.6 * ca90 + 0.2 * ca90) / 2
    pa_2040 = 0.74 * pa05 + (15 / 25) * (0.2 * pa05 - 0.74 * pa05)
    assert ca_2040 == pytest.approx(173.2, abs=0.05) and pa_2040 == pytest.approx(136.4, abs=0.05)
    for scenario in ("usca-only", "states"):
        assert runs[scenario].by_state_mt["US-CA"][2040] == pytest.approx(ca_2040)
        assert runs[scenario].by_state_mt["US-PA"][2040] == pytest.approx(pa_2040)
        assert runs[scenario].by_state_mt["US-CA"][2030] == pytest.approx(0.6 * ca90)
        # In 2025 Pennsylvania's trend (238.4 Mt) is already below its target level: the baseline holds there.
        pa_trend_2025 = runs["current-policy"].by_state_mt["US-PA"][2025]
        assert runs[scenario].by_state_mt["US-PA"][2025] == pa_trend_2025 < 0.74 * pa05
    # An interim target is met, not overshot: without it the line runs straight to 2050 and lies lower in 2040.
    pa = [c for c in ALL if c.actor_id == "US-PA" and c.kind == "absolute_reduction"]
    only_2050 = pathway("states", commitments=[c for c in pa if c.target_year == 2050], horizon=2050)
    both = pathway("states", commitments=pa, horizon=2050)
    assert only_2050.by_state_mt["US-PA"][2040] < both.by_state_mt["US-PA"][2040] == pytest.approx(pa_2040)


def test_a_target_weaker_than_current_policy_adds_nothing():
    book = load_actors()
    ny05 = book.state_year("US-NY", 2005).gross_ghg_mtco2e
    weak = Commitment("weak", "US-NY", "absolute_reduction", "back to 2005 by 2030", target_year=2030,
                      base_year=2005, reduction_percent=0)
    p = pathway("states", commitments=[weak], horizon=2035)
    base = baseline(book, "US-NY", range(2021, 2036))
    assert all(base[y] < ny05 for y in base)  # the target path (rising towards the 2005 level) is above current policy
    assert p.applied == ("weak",)
    assert all(p.by_state_mt["US-NY"][y] == base[y] for y in base)


def test_companies_and_money_are_listed_with_the_reason_they_stay_out(runs):
    reasons = dict(runs["commitments"].unquantified)
    assert reasons["walmart-project-gigaton"].startswith("value-chain reductions worldwide")
    assert "offsets does not lower gross" in reasons["jetblue-domestic-offsets"]
    assert reasons["bezos-earth-fund"] == "money, not tonnes"


def test_bad_scenario_and_plot_paths(tmp_path, runs):
    with pytest.raises(InputError, match="unknown scenario 'paris'; scenarios: current-policy, usca-only"):
        pathway("paris")
    out = plot([runs["current-policy"], runs["commitments"]], tmp_path / "p.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="ending in .png"):
        plot([runs["commitments"]], tmp_path / "p.svg")
    with pytest.raises(InputError, match="does not exist"):
        plot([runs["commitments"]], tmp_path / "missing" / "p.png")


def test_a_plot_path_that_cannot_be_written_is_an_input_error(tmp_path, runs):
    folder = tmp_path / "folder.png"
    folder.mkdir()
    with pytest.raises(InputError, match=rf"--plot {folder}: cannot write the file \(Is a directory\); give a "
                                         "writable file path ending in .png"):
        plot([runs["commitments"]], folder)
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    with pytest.raises(InputError, match=r"cannot write the file \(Not a directory\)"):
        plot([runs["commitments"]], afile / "p.png")


ALL = load_commitments()


@settings(max_examples=30, deadline=None)
@given(chosen=st.lists(st.sampled_from(ALL), max_size=60, unique_by=lambda c: c.id), high=st.booleans(),
       offsets=st.floats(min_value=0.0, max_value=1.0))
def test_a_pathway_with_every_commitment_met_is_never_above_the_baseline(chosen, high, offsets):
    # No clamp at the end: each state's path is the lower of its baseline and its targets' path, and a city only
    # ever cuts from it, so every state (not only the total) stays at or below its baseline.
    p = pathway("commitments", commitments=chosen, horizon=2035, use_high=high, net_zero_offsets_share=offsets)
    base = {s: baseline(load_actors(), s, p.years) for s in p.by_state_mt}
    for s, path in p.by_state_mt.items():
        for y in p.years:
            assert 0.0 <= path[y] <= base[s][y] + 1e-9
    for y in p.years:
        assert p.emissions_mt[y] <= p.baseline_mt[y] + 1e-9


# Actors whose commitments enter the pathway. An actor's targets form one path through each level, so a set of
# commitments is grown actor by actor: adding an interim target of the same actor moves its path through that level
# (met, not overshot; see the Pennsylvania case above) and may raise it between targets.
ACTORS_WITH_TARGETS = sorted({c.actor_id for c in ALL if c.kind == "absolute_reduction"})


def _of(actor_ids):
    return [c for c in ALL if c.actor_id in set(actor_ids)]


@settings(max_examples=40, deadline=None)
@given(small=st.lists(st.sampled_from(ACTORS_WITH_TARGETS), max_size=25, unique=True),
       more=st.lists(st.sampled_from(ACTORS_WITH_TARGETS), min_size=1, max_size=25, unique=True),
       high=st.booleans(), offsets=st.floats(min_value=0.0, max_value=1.0))
def test_more_actors_committing_never_raise_the_pathway(small, more, high, offsets):
    kw = {"horizon": 2050, "use_high": high, "net_zero_offsets_share": offsets}
    before = pathway("commitments", commitments=_of(small), **kw)
    after = pathway("commitments", commitments=_of([*small, *more]), **kw)
    for s in before.by_state_mt:
        for y in before.years:
            assert after.by_state_mt[s][y] <= before.by_state_mt[s][y] + 1e-9


CA_CITIES = sorted(a.id for a in load_actors().actors.values()
                   if a.kind == "city" and a.parent_id == "US-CA" and a.population_2019)


@settings(max_examples=25, deadline=None)
@given(cities=st.lists(st.sampled_from(CA_CITIES), min_size=2, max_size=8, unique=True).flatmap(st.permutations))
def test_the_order_of_cities_does_not_change_the_pathway(cities):
    # California's own 2030 target, and each chosen city at net zero by 2035 in the order drawn. Each city's cut is
    # taken from the state's path before any city: the state's total cut is the sum of the cuts of each city alone.
    state = [c for c in ALL if c.actor_id == "US-CA" and c.kind == "absolute_reduction"]
    mine = [Commitment(f"{a}-nz", a, "absolute_reduction", "net zero", target_year=2035, reduction_percent=100)
            for a in cities]
    shipped = load_actors()
    order = {a: shipped.actors[a] for a in reversed(cities)}
    book = ActorBook(actors={**order, **{k: v for k, v in shipped.actors.items() if k not in order}},
                     coalitions=shipped.coalitions, memberships=shipped.memberships, states=shipped.states)
    run = pathway("commitments", commitments=[*state, *mine], book=book, horizon=2040).by_state_mt["US-CA"]
    again = pathway("commitments", commitments=[*reversed(mine), *state], horizon=2040).by_state_mt["US-CA"]
    alone = pathway("commitments", commitments=state, horizon=2040).by_state_mt["US-CA"]
    each = [pathway("commitments", commitments=[*state, c], horizon=2040).by_state_mt["US-CA"] for c in mine]
    for y in range(2021, 2041):
        assert run[y] == pytest.approx(again[y], abs=1e-9)
        assert alone[y] - run[y] == pytest.approx(sum(alone[y] - e[y] for e in each), abs=1e-9)
