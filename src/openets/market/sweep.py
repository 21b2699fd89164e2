"""Monte Carlo over BAU emissions, MAC slopes and offsets: many `simulate.run_once` draws, on local processes or
an existing Dask cluster, through one `concurrent.futures.Executor` interface.

Run i draws from `SeedSequence(seed).spawn(runs)[i]`, so the same seed gives the same results whatever the number
of workers or how runs are grouped into chunks; results are put back in run order before the percentiles.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from openets.errors import InputError
from openets.market.firms import Facility
from openets.market.simulate import Assumptions, Setting, run_once, setting
from openets.rules import Program

QUANTILES = (5, 50, 95)
MODES = ("equilibrium", "agents")  # the banking equilibrium, or the quarterly agent-based run (market/agents.py)
FIELDS = ("price", "emissions", "bank", "auction_revenue")


@dataclass(frozen=True)
class Sweep:
    program: str
    currency: str
    allowance_unit: str
    years: tuple[int, ...]
    runs: int
    seed: int
    assumptions: Assumptions
    results: dict[str, np.ndarray]  # field -> (runs, years)
    setting: Setting | None = None  # the rules' supply, floors and ceilings (for reports)
    scenario: str | None = None  # the named scenario the assumptions come from, if any

    @property
    def extras(self) -> tuple[str, ...]:
        """Program-specific series beyond FIELDS (the EU's MSR intake, release, holdings and invalidation)."""
        return tuple(f for f in self.results if f not in FIELDS and f != "msr_residual")

    def percentiles(self, field: str) -> np.ndarray:
        """(3, years): the 5th, 50th and 95th percentiles of `field` over the runs."""
        return np.percentile(self.results[field], QUANTILES, axis=0)

    def as_dict(self) -> dict[str, object]:
        scale = {"price": 1.0, "emissions": 1e6, "bank": 1e6, "auction_revenue": 1e6}
        names = {"price": "price", "emissions": "emissions_mt", "bank": "bank_mt", "auction_revenue": "auction_revenue_m"}
        table = {f: self.percentiles(f) / scale[f] for f in FIELDS}
        years = []
        for f in self.extras:  # allowance counts, in millions
            names[f] = f"{f}_mt"
            table[f] = self.percentiles(f) / 1e6
        for k, year in enumerate(self.years):
            row: dict[str, object] = {"year": year}
            for f in (*FIELDS, *self.extras):
                row[names[f]] = {f"p{q}": round(float(table[f][i, k]), 6) + 0.0 for i, q in enumerate(QUANTILES)}
            years.append(row)
        out = {"program": self.program, "currency": self.currency, "allowance_unit": self.allowance_unit,
               "runs": self.runs, "seed": self.seed, "scenario": self.scenario, "assumptions": asdict(self.assumptions),
               "years": years}
        if "msr_residual" in self.results:  # runs whose MSR fixed point stalled short of exact, and by how much
            residual = self.results["msr_residual"][:, 0]
            out["msr_fixed_point"] = {"stalled_runs": int((residual > 0).sum()),
                                      "largest_residual_mt": round(float(residual.max()) / 1e6, 6)}
        return out


def _chunk(args: tuple) -> list[tuple[np.ndarray, ...]]:
    """Runs of one chunk (a top-level function, so that process and Dask workers can import it)."""
    s, a, seeds, facilities, mode = args
    run = run_once
    if mode == "agents":
        from openets.market.agents import run_once as run  # imported here: only agents mode needs the auction code
    out = []
    for seq in seeds:
        try:
            r = run(s, a, np.random.default_rng(seq), facilities)
        except InputError as exc:
            msg = f"run {seq.spawn_key[-1]} (seed {seq.entropy}): {exc}"
            raise InputError(msg) from None
        out.append((r.price, r.emissions, r.bank, r.auction_revenue, r.extra))
    return out


def _check_runs(runs: int) -> None:
    if runs <= 0:
        msg = f"--runs {runs}: give a positive number of runs"
        raise InputError(msg)


def _run_chunks(
    work: Callable[[tuple], list],
    runs: int,
    seed: int,
    part: Callable[[list[np.random.SeedSequence]], tuple],
    executor: cf.Executor | None,
    chunks: int | None,
    progress: Callable[[int], None] | None,
) -> list:
    """Run i gets the i-th seed spawned from `seed`; runs are grouped into chunks (`part` builds a chunk's
    arguments from its seeds), done by `work` here or on `executor`, and returned in run order."""
    seeds = np.random.SeedSequence(seed).spawn(runs)
    n_chunks = max(1, min(runs, chunks or (8 if executor is not None else 1)))
    bounds = np.linspace(0, runs, n_chunks + 1).astype(int)
    groups = [seeds[bounds[i] : bounds[i + 1]] for i in range(n_chunks) if bounds[i + 1] > bounds[i]]
    ordered: list[list | None] = [None] * len(groups)
    if executor is None:
        for i, group in enumerate(groups):
            ordered[i] = work(part(group))
            if progress:
                progress(len(group))
    else:
        futures = {executor.submit(work, part(group)): i for i, group in enumerate(groups)}
        for future in cf.as_completed(futures):
            i = futures[future]
            ordered[i] = future.result()
            if progress:
                progress(len(groups[i]))
    return [r for chunk in ordered for r in (chunk or [])]


def sweep(
    program: Program,
    first: int,
    last: int,
    runs: int,
    seed: int = 0,
    assumptions: Assumptions | None = None,
    executor: cf.Executor | None = None,
    chunks: int | None = None,
    progress: Callable[[int], None] | None = None,
    facilities: list[Facility] | None = None,
    mode: str = "equilibrium",
) -> Sweep:
    """`runs` simulations of `program` over `first`..`last`; `executor` runs the chunks (in this process if
    None); `progress` is told how many runs each finished chunk held; `mode` is one of MODES (the same seeds and
    firms either way)."""
    _check_runs(runs)
    if mode not in MODES:
        msg = f"--mode {mode!r} is unknown; choose {' or '.join(MODES)}"
        raise InputError(msg)
    a = assumptions or Assumptions()
    a.check()
    s = setting(program, first, last)
    if mode == "agents" and s.msr is not None:
        msg = f"--mode agents does not model {program.id}'s Market Stability Reserve; use --mode equilibrium"
        raise InputError(msg)
    flat = _run_chunks(_chunk, runs, seed, lambda group: (s, a, group, facilities, mode), executor, chunks, progress)
    results = {f: np.array([r[k] for r in flat]) for k, f in enumerate(FIELDS)}
    for name in flat[0][len(FIELDS)]:  # program-specific series every run has (the EU's MSR flows)
        results[name] = np.array([r[len(FIELDS)][name] for r in flat])
    unit = program.allowance_unit
    return Sweep(program.id, s.currency, unit, s.years, runs, seed, a, results, s)


def local_executor(workers: int) -> cf.Executor:
    if workers < 1:
        msg = f"--workers {workers}: give at least 1 worker"
        raise InputError(msg)
    return cf.ProcessPoolExecutor(max_workers=workers)


def dask_executor(address: str, timeout: float = 10.0) -> tuple[object, cf.Executor]:
    """(client, executor) on an existing Dask cluster; a clear error when it cannot be reached."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - installed with openets
        msg = "--scheduler needs dask.distributed: pip install 'dask[distributed]'"
        raise InputError(msg) from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        msg = f"--scheduler {address}: no Dask scheduler answered ({exc}); start one (dask scheduler) or check the address"
        raise InputError(msg) from None
    return client, client.get_executor()


@dataclass(frozen=True)
class CycleSweep:
    """Monte Carlo of China's compliance cycle: price and abatement by unit category over the runs."""

    program: str
    years: tuple[int, ...]
    runs: int
    seed: int
    assumptions: Assumptions
    price: np.ndarray  # (runs,)
    emissions: np.ndarray  # (runs,), over the cycle
    abatement: dict[str, np.ndarray]  # category -> (runs,)

    def as_dict(self) -> dict[str, object]:
        def pct(values: np.ndarray, scale: float = 1.0) -> dict[str, float]:
            return {f"p{q}": round(float(np.percentile(values, q)) / scale, 6) + 0.0 for q in QUANTILES}

        per_year = len(self.years)
        zero = {f"p{q}": 0.0 for q in QUANTILES}
        years = [
            {"year": y, "price": pct(self.price), "emissions_mt": pct(self.emissions / per_year, 1e6),
             "bank_mt": zero, "auction_revenue_m": zero}
            for y in self.years
        ]
        return {"program": self.program, "currency": "CNY", "allowance_unit": "tCO2", "runs": self.runs,
                "seed": self.seed, "assumptions": asdict(self.assumptions), "years": years,
                "abatement_mt_by_category": {c: pct(v, 1e6) for c, v in sorted(self.abatement.items())}}


def _cycle_chunk(args: tuple) -> list[tuple[float, float, dict[str, float]]]:
    from openets.market.china import clear_cycle

    program, units, a, seeds = args
    out = []
    for seq in seeds:
        rng = np.random.default_rng(seq)
        bau = (1 + rng.normal(a.bau_growth, a.bau_growth_sd)) * np.exp(rng.normal(0.0, a.bau_growth_sd, len(units)))
        mac = np.exp(rng.normal(0.0, a.mac_sd, len(units)))
        r = clear_cycle(program, units, bau, mac)
        out.append((r.price, float(r.emissions.sum()), {c: v["abatement_t"] for c, v in r.by_category().items()}))
    return out


def cycle_sweep(
    program: Program, units: list, runs: int, seed: int = 0, assumptions: Assumptions | None = None,
    executor: cf.Executor | None = None, progress: Callable[[int], None] | None = None,
) -> CycleSweep:
    """`runs` draws of China's compliance cycle: each unit's BAU and MAC price vary (log-normal, spreads from
    `assumptions`), allocation and obligations follow the plan; run i uses the i-th spawned seed."""
    _check_runs(runs)
    a = assumptions or Assumptions()
    a.check()
    flat = _run_chunks(_cycle_chunk, runs, seed, lambda group: (program, units, a, group), executor, None, progress)
    categories = sorted({c for _, _, ab in flat for c in ab})
    period = program.rulebook.compliance.periods[0]
    return CycleSweep(
        program.id, tuple(range(period.start_year, period.end_year + 1)), runs, seed, a,
        np.array([r[0] for r in flat]), np.array([r[1] for r in flat]),
        {c: np.array([r[2].get(c, 0.0) for r in flat]) for c in categories},
    )
