"""Write the notebooks in notebooks/ from the cells below (outputs stripped).

    python scripts/make_notebooks.py

The notebooks are generated so that they stay in step with the code; the tests execute
every one of them top to bottom.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "notebooks"

SETUP = """\
import warnings
warnings.filterwarnings("ignore", category=UserWarning)
import matplotlib
matplotlib.use("Agg")  # figures still show inline in Jupyter
import matplotlib.pyplot as plt
import pandas as pd
import impactzones as iz
pd.set_option("display.width", 140)"""

NOTEBOOKS = {
    "01_quickstart": [
        ("md", "# Quickstart: St. Louis layers, synthetic incidents, counts\n\n"
               "The bundled layers are real St. Louis geography; the incidents are synthetic "
               "and reproduce the published citywide counts exactly."),
        ("code", SETUP),
        ("code", "layers = iz.st_louis()\n"
                 "print(layers.crs, len(layers.districts), 'districts', "
                 "len(layers.neighborhoods), 'neighborhoods')\n"
                 "layers.zones[['name', 'start', 'description']]"),
        ("code", "ax = layers.neighborhoods.plot(color='white', edgecolor='#bbb', figsize=(6, 8))\n"
                 "layers.districts.boundary.plot(ax=ax, color='black')\n"
                 "layers.zones.boundary.plot(ax=ax, color='purple', linewidth=2)\n"
                 "ax.set_axis_off(); ax.set_title('Patrol districts and Impact Zones')"),
        ("code", "synth = iz.synthesize(seed=2018)\n"
                 "inc = iz.assign(synth.incidents, layers)\n"
                 "inc.head()"),
        ("md", "Counts by year and category equal the published table:"),
        ("code", "counts = iz.count_incidents(inc, by=['year', 'category'])\n"
                 "counts.pivot(index='category', columns='year', values='count')"),
        ("code", "by_district = iz.count_incidents(inc, by=['year', 'district', 'group'])\n"
                 "v = by_district[by_district['group'] == 'violent'].pivot(index='year', "
                 "columns='district', values='count')\n"
                 "ax = v.plot(marker='o', figsize=(7, 4), title='Violent crime by district')\n"
                 "ax.set_ylabel('incidents')"),
        ("code", "north = inc[(inc['zone'] == 'North') & (inc['group'] == 'violent')]\n"
                 "b = (north['occurred_at'].dt.year == 2017).sum()\n"
                 "a = (north['occurred_at'].dt.year == 2018).sum()\n"
                 "print(f'North zone, violent crime 2017 to 2018: {b} to {a}, '\n"
                 "      f'{iz.format_pct(iz.percent_change(b, a))}')"),
    ],
    "02_hot_spots": [
        ("md", "# Hot spots three ways: KDE, DBSCAN and Gi*\n\n"
               "Each method reports the parameters it chose and the rule behind them."),
        ("code", SETUP + "\nfrom impactzones.hotspots import kde, dbscan, gistar, "
                         "hotspot_polygons"),
        ("code", "layers = iz.st_louis()\n"
                 "inc = iz.synthesize(seed=2018, years=[2018]).incidents\n"
                 "violent = inc[inc['group'] == 'violent']\n"
                 "surface = kde(violent, cell_size=100, mask=layers.land)\n"
                 "{k: v for k, v in surface.params.items() if 'rule' in k or k.endswith('_m')}"),
        ("code", "polys = hotspot_polygons(surface, violent, top=0.05)\n"
                 "clusters = dbscan(violent, mask=layers.land)\n"
                 "gi = gistar(violent, grid=surface.grid, permutations=999)\n"
                 "print(len(polys), 'KDE areas;', len(clusters.clusters), 'DBSCAN clusters;',\n"
                 "      gi.summary())"),
        ("code", "fig, axes = plt.subplots(1, 3, figsize=(15, 7))\n"
                 "l, b, r, t = surface.grid.bounds\n"
                 "for ax in axes:\n"
                 "    layers.districts.boundary.plot(ax=ax, color='#444', linewidth=0.8)\n"
                 "    ax.set_axis_off()\n"
                 "axes[0].imshow(surface.values, extent=(l, r, b, t), cmap='YlOrRd')\n"
                 "polys.boundary.plot(ax=axes[0], color='black')\n"
                 "axes[0].set_title('KDE, top 5% outlined')\n"
                 "clusters.clusters.plot(ax=axes[1], color='orange', alpha=0.6)\n"
                 "axes[1].set_title('DBSCAN clusters')\n"
                 "gi.cells[gi.cells['bin'] != 0].plot(ax=axes[2], column='bin', "
                 "cmap='RdBu_r', vmin=-3, vmax=3)\n"
                 "axes[2].set_title('Gi* hot and cold cells (FDR)')"),
        ("md", "## What the parameters do\n\nThe bandwidth sets the scale of a hot spot; "
               "the cell size only the resolution (the surface is exact at every cell "
               "centre). The share of incidents in the top 5% of cells:"),
        ("code", "rows = []\n"
                 "for bw in (200, 400, 800, 1600):\n"
                 "    for cell in (50, 100, 200):\n"
                 "        s = kde(violent, cell_size=cell, bandwidth=bw, mask=layers.land)\n"
                 "        p = hotspot_polygons(s, violent, top=0.05)\n"
                 "        rows.append({'bandwidth_m': bw, 'cell_m': cell, "
                 "'share_in_top5': p['share'].sum()})\n"
                 "sens = pd.DataFrame(rows)\n"
                 "ax = sens.pivot(index='bandwidth_m', columns='cell_m', "
                 "values='share_in_top5').plot(marker='o', figsize=(6, 4))\n"
                 "ax.set_ylabel('share of incidents in the top 5% of area')"),
        ("md", "## Where they agree"),
        ("code", "kde_area = polys.union_all()\n"
                 "db_area = clusters.clusters.union_all()\n"
                 "gi_area = gi.cells[gi.cells['bin'] >= 2].union_all()\n"
                 "for a, b, name in [(kde_area, db_area, 'KDE & DBSCAN'), "
                 "(kde_area, gi_area, 'KDE & Gi*'), (db_area, gi_area, 'DBSCAN & Gi*')]:\n"
                 "    print(f'{name}: {a.intersection(b).area / a.union(b).area:.0%} overlap "
                 "(intersection over union)')"),
    ],
    "03_evaluate_the_north_zone": [
        ("md", "# Evaluating the North zone, 2017 vs 2018\n\n"
               "The published claim: violent crime fell 20 percent in the primary Impact Zone. "
               "Is that more than chance, did the rest of the city fall as much, and did "
               "crime move next door?"),
        ("code", SETUP + "\nfrom impactzones.evaluate.compare import compare_zones, e_test, wdq, "
                         "wdd, to_markdown\nfrom IPython.display import Markdown, IFrame"),
        ("code", "layers = iz.st_louis()\n"
                 "inc = iz.synthesize(seed=2018, years=[2017, 2018]).incidents\n"
                 "north = layers.zones[layers.zones['name'] == 'North']\n"
                 "table = compare_zones(inc, north, 2017, 2018, study_area=layers.study_area)\n"
                 "table[['zone', 'crime', 'zone_before', 'zone_after', 'zone_pct_change', "
                 "'p_value', 'control_pct_change', 'wdq', 'wdd_p']]"),
        ("md", "**The 20%**: exact, from the counts. **The E-test** asks whether two Poisson "
               "counts differ; **the control** is the rest of the city outside every zone and "
               "ring; **WDQ** and **WDD** read the 400 m ring."),
        ("code", "r = table.iloc[0]\n"
                 "print(iz.format_pct(r['zone_pct_change']), 'E-test p =', "
                 "e_test(r['zone_before'], r['zone_after']))\n"
                 "T = (r['zone_before'], r['zone_after']); D = (r['ring_before'], "
                 "r['ring_after']); C = (r['control_before'], r['control_after'])\n"
                 "print(wdq(T, D, C))"),
        ("code", "Markdown(to_markdown(table))"),
        ("code", "from impactzones.pipeline import run_demo\n"
                 "res = run_demo('maps_nb03', seed=2018)\n"
                 "IFrame('maps_nb03/commander_north.html', width='100%', height=600)"),
    ],
    "04_propose_new_zones": [
        ("md", "# Proposing the 2019 zones from 2018 incidents\n\n"
               "In 2019 St. Louis added a Central and a South zone. Given 2018's violent "
               "crime and the North zone, where should two new zones go, and how would they "
               "have done in 2019?"),
        ("code", SETUP + "\nfrom impactzones.propose import propose_zones, backtest"),
        ("code", "layers = iz.st_louis()\n"
                 "synth = iz.synthesize(seed=2018, years=[2018, 2019])\n"
                 "inc = synth.incidents\n"
                 "north = layers.zones[layers.zones['name'] == 'North']\n"
                 "props = propose_zones(inc, period=2018, k=2, max_area_km2=3, exclude=north, "
                 "layers=layers)\n"
                 "for s in props['summary']:\n    print(s)"),
        ("code", "bt = backtest(props, inc, period=2019, existing=north, layers=layers)\n"
                 "bt.round(3)"),
        ("code", "ax = layers.neighborhoods.plot(color='white', edgecolor='#ccc', "
                 "figsize=(6, 8))\n"
                 "layers.zones.boundary.plot(ax=ax, color='purple', linewidth=2)\n"
                 "props.boundary.plot(ax=ax, color='teal', linewidth=2, linestyle=':')\n"
                 "synth.hotspots[synth.hotspots['group'] == 'violent'].plot(ax=ax, "
                 "color='red', markersize=12)\n"
                 "ax.set_axis_off(); ax.set_title('Proposals (dotted), zones, planted hot "
                 "spots (red)')"),
    ],
    "05_your_own_data": [
        ("md", "# Your own data\n\n"
               "Read a department's export (here the SLMPD monthly CSV format) or any CSV "
               "with lat/lon, see what was set aside and why, and run the same workflow. "
               "This uses the real SLMPD samples in `../shared/real/` when they are there, "
               "and a small synthetic stand-in in the same format otherwise."),
        ("code", SETUP + "\nfrom pathlib import Path\nimport numpy as np\n"
                         "from pyproj import Transformer"),
        ("code", "layers = iz.st_louis()\n"
                 "real = Path('../../shared/real/incidents/slu-soc5650_crime-data-sp22')\n"
                 "if not real.is_dir():\n"
                 "    # a stand-in: synthetic incidents written as an SLMPD export\n"
                 "    real = Path('slmpd_standin'); real.mkdir(exist_ok=True)\n"
                 "    s = iz.synthesize(seed=1, years=[2017, 2018], scale=0.05).incidents\n"
                 "    tr = Transformer.from_crs(s.crs, 'ESRI:102696', always_xy=True)\n"
                 "    x, y = tr.transform(s.geometry.x.to_numpy(), s.geometry.y.to_numpy())\n"
                 "    code = s['category'].map({'homicide': '10000', 'rape': '20000', "
                 "'robbery': '31111', 'aggravated_assault': '41013', 'burglary': '51121', "
                 "'larceny_theft': '69702', 'motor_vehicle_theft': '71000'})\n"
                 "    df = pd.DataFrame({'Complaint': s['incident_id'], 'CodedMonth': "
                 "s['occurred_at'].dt.strftime('%Y-%m'), 'DateOccur': "
                 "s['occurred_at'].dt.strftime('%m/%d/%Y %H:%M'), 'Crime': code, 'Count': 1, "
                 "'Description': '', 'XCoord': np.round(x, 1), 'YCoord': np.round(y, 1)})\n"
                 "    df.loc[df.index[:20], ['XCoord', 'YCoord']] = 0  # no location\n"
                 "    df.to_csv(real / 'standin.csv', index=False)\n"
                 "print('reading', real)"),
        ("code", "res = iz.read_incidents(real, study_area=layers.study_area)\n"
                 "res.tally"),
        ("code", "res.rejects['reason'].value_counts()"),
        ("md", "A generic CSV with latitude and longitude, with its own column names:"),
        ("code", "sample = res.incidents.iloc[:200].to_crs(4326)\n"
                 "generic = pd.DataFrame({'Case': sample['incident_id'], 'When': "
                 "sample['occurred_at'], 'Offense': sample['category'], 'Lat': "
                 "sample.geometry.y, 'Long': sample.geometry.x})\n"
                 "generic.to_csv('generic.csv', index=False)\n"
                 "g = iz.read_incidents('generic.csv', columns={'incident_id': 'Case', "
                 "'occurred_at': 'When', 'category': 'Offense', 'lat': 'Lat', 'lon': 'Long'}, "
                 "study_area=layers.study_area)\n"
                 "g.tally"),
        ("md", "The same workflow on the loaded incidents:"),
        ("code", "from impactzones.evaluate.compare import compare_zones\n"
                 "inc = iz.assign(res.incidents, layers)\n"
                 "years = sorted(inc['occurred_at'].dt.year.unique())\n"
                 "print(years[-3:])\n"
                 "table = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, "
                 "study_area=layers.study_area)\n"
                 "for v in table['verdict']:\n    print('-', v)"),
    ],
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                    for kind, src in cells]
        nbformat.write(nb, OUT / f"{name}.ipynb")
        print("wrote", OUT / f"{name}.ipynb")


if __name__ == "__main__":
    main()
