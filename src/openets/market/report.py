"""A simulation report: an HTML page with plots (price fan chart against the floor, tiers and ceiling; emissions
against the cap; bank; auction revenue) and the CSVs behind them."""

from __future__ import annotations

import csv
import html
from pathlib import Path

import numpy as np

from openets.errors import InputError
from openets.market.sweep import FIELDS, QUANTILES, CycleSweep, Sweep

TITLES = {
    "price": "Allowance price",
    "emissions": "Covered emissions",
    "bank": "Bank at year end",
    "auction_revenue": "Auction revenue",
}


def _folder(directory: str | Path) -> Path:
    """The report folder, created if need be; an error names the path when it cannot be."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"--report {directory}: cannot create the folder ({exc.strerror}); choose another path"
        raise InputError(msg) from None
    return out


def write_report(result: Sweep, directory: str | Path) -> Path:
    """Write index.html, one PNG per figure and percentiles.csv (and rules.csv) into `directory`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    out = _folder(directory)
    years = np.array(result.years)
    unit = "million short tons" if result.allowance_unit == "short_ton" else "million tCO2e"
    scale = {"price": 1.0, "emissions": 1e6, "bank": 1e6, "auction_revenue": 1e6}
    ylabel = {"price": f"{result.currency} per allowance", "emissions": unit, "bank": unit,
              "auction_revenue": f"million {result.currency}"}
    setting = result.setting
    rows = []
    figures = []
    for name in result.extras:  # program-specific allowance series (the EU's MSR flows)
        scale[name], ylabel[name] = 1e6, unit
        TITLES.setdefault(name, name.replace("_", " ").replace("msr", "MSR").capitalize())
    for field in (*FIELDS, *result.extras):
        p = result.percentiles(field) / scale[field]
        for k, year in enumerate(result.years):
            rows.append([field, year, *(f"{v:.6f}" for v in p[:, k])])
        fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
        ax.fill_between(years, p[0], p[2], color="#9ecae1", alpha=0.6, label="5th-95th percentile")
        ax.plot(years, p[1], color="#08519c", marker="o", label="median")
        if setting is not None and field == "price":
            ax.plot(years, [y.floor for y in setting.supply], color="#444444", ls="--", label="auction reserve price")
            tiers = sorted({round(at, 2) for y in setting.supply for at, _ in y.steps})
            if tiers:
                ax.plot(years, [min((at for at, _ in y.steps), default=np.nan) for y in setting.supply], color="#fd8d3c",
                        ls=":", label="lowest reserve tier / trigger")
            ceilings = [y.ceiling if y.ceiling is not None else np.nan for y in setting.supply]
            if not np.isnan(ceilings).all():
                ax.plot(years, ceilings, color="#a50f15", ls="-.", label="price ceiling")
        if setting is not None and field == "emissions":
            ax.plot(years, [(y.free + y.auctioned) / 1e6 for y in setting.supply], color="#444444", ls="--",
                    label="allowances issued (cap less reserves)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"{result.program}: {TITLES[field].lower()} ({result.runs} runs)")
        ax.set_ylabel(ylabel[field])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"{field}.png"
        fig.savefig(out / name)
        plt.close(fig)
        figures.append((TITLES[field], name))
    with open(out / "percentiles.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["field", "year", *(f"p{q}" for q in QUANTILES)])
        writer.writerows(rows)
    if setting is not None:
        with open(out / "rules.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["year", "free_allowances", "auctioned_allowances", "reserve_price", "steps", "ceiling"])
            for year, y in zip(result.years, setting.supply, strict=True):
                writer.writerow([year, f"{y.free:.0f}", f"{y.auctioned:.0f}", y.floor,
                                 ";".join(f"{q:.0f}@{at}" for at, q in y.steps), y.ceiling or ""])
    assumptions = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in vars(result.assumptions).items())
    body = "".join(f'<h2>{html.escape(t)}</h2><img src="{n}" alt="{html.escape(t)}">' for t, n in figures)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>openets simulation: {html.escape(result.program)}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto;}} img{{max-width:100%;}}</style></head>
<body><h1>openets simulation: {html.escape(result.program)}</h1>
<p>{result.runs} Monte Carlo runs, seed {result.seed}, years {result.years[0]}-{result.years[-1]}; prices in
{html.escape(result.currency)}. The banking equilibrium of each run (openets.market.equilibrium); bands are the
5th-95th percentiles over runs. Data: <a href="percentiles.csv">percentiles.csv</a>, <a href="rules.csv">rules.csv</a>.</p>
<p>Assumptions ({html.escape(f"scenario {result.scenario}" if result.scenario else "stated, not a calibration")}):</p><ul>{assumptions}</ul>{body}</body></html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")
    return out / "index.html"


def write_cycle_report(result: CycleSweep, directory: str | Path) -> Path:
    """China's compliance cycle: the price distribution over runs, abatement by unit category (5th-95th
    percentile bars), and the CSV behind them, in `directory`/index.html."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = _folder(directory)
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
    ax.hist(result.price, bins=min(40, max(5, result.runs // 5)), color="#9ecae1", edgecolor="#08519c")
    for q, style in zip(QUANTILES, (":", "-", ":"), strict=True):
        ax.axvline(float(np.percentile(result.price, q)), color="#08519c", ls=style, label=f"p{q}")
    ax.set_xlabel("CNY per allowance (tCO2)")
    ax.set_ylabel("runs")
    ax.set_title(f"{result.program}: allowance price over the {result.years[0]}-{result.years[-1]} cycle ({result.runs} runs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "price.png")
    plt.close(fig)
    categories = sorted(result.abatement)
    p = np.array([np.percentile(result.abatement[c] / 1e6, QUANTILES) for c in categories])
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
    ax.bar(categories, p[:, 1], color="#6baed6", yerr=[p[:, 1] - p[:, 0], p[:, 2] - p[:, 1]], capsize=6)
    ax.set_xlabel("unit category")
    ax.set_ylabel("MtCO2 abated over the cycle")
    ax.set_title("Abatement by unit category: median, 5th-95th percentile")
    fig.tight_layout()
    fig.savefig(out / "abatement.png")
    plt.close(fig)
    with open(out / "percentiles.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["field", "category", *(f"p{q}" for q in QUANTILES)])
        writer.writerow(["price_cny", "", *(f"{v:.6f}" for v in np.percentile(result.price, QUANTILES))])
        writer.writerow(["emissions_mt", "", *(f"{v:.6f}" for v in np.percentile(result.emissions / 1e6, QUANTILES))])
        for c, row in zip(categories, p, strict=True):
            writer.writerow(["abatement_mt", c, *(f"{v:.6f}" for v in row)])
    assumptions = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in vars(result.assumptions).items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>openets simulation: {html.escape(result.program)}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto;}} img{{max-width:100%;}}</style></head>
<body><h1>openets simulation: {html.escape(result.program)}</h1>
<p>{result.runs} Monte Carlo runs, seed {result.seed}, compliance cycle {result.years[0]}-{result.years[-1]}: each run
clears the cycle unit by unit (allocation and obligations per unit, as the plan says; openets.market.china).
Data: <a href="percentiles.csv">percentiles.csv</a>.</p>
<p>Assumptions (stated, not a calibration):</p><ul>{assumptions}</ul>
<h2>Allowance price</h2><img src="price.png" alt="price"><h2>Abatement by unit category</h2>
<img src="abatement.png" alt="abatement"></body></html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")
    return out / "index.html"
