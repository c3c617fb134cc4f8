"""Private stays private: rape, sexual-assault and domestic-violence incidents never leave
as points, whatever words, codes or flags the agency used (issue 10, item 1.3)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from impactzones.cli import main
from impactzones.core.schema import domestic_flag, is_sensitive
from impactzones.io import read_incidents
from impactzones.io.offenses import classify

# Points inside St. Louis. Private rows sit on coordinates with a tell-tale 7th decimal, so
# that any output that carried one of them as a point can be found by its text.
PUBLIC = [(38.6270, -90.1994), (38.6400, -90.2500), (38.6000, -90.2300), (38.6600, -90.2200)]


def private_point(i: int) -> tuple[float, float]:
    return 38.61 + 0.003 * (i % 9) + 0.0000013, -90.24 + 0.004 * (i // 9) + 0.0000017


def _files(tmp_path):
    """Files in several agencies' words; ids starting with S are private, P public."""
    rows = []
    k = 0

    def add(kind, **kw):
        nonlocal k
        k += 1
        lat, lon = private_point(k) if kind == "S" else PUBLIC[k % 4]
        rows.append({"id": f"{kind}-{k}", "lat": lat, "lon": lon, **kw})

    words = [
        "Rape - Forcible",
        "Rape (legacy definition)",
        "CRIM SEXUAL ASSAULT",
        "CRIMINAL SEXUAL ASSAULT",
        "Sexual Assault With An Object",
        "SODOMY",
        "Fondling",
        "Domestic Violence",
        "AGG ASSAULT - DOMESTIC",
        "INTIMATE PARTNER - SIMPLE ASSAULT",
        "Statutory Rape",
    ]
    for w in words:
        add("S", date="2018-03-05 10:00", offense=w)
    for w in ["Robbery", "AGG. ASSAULT", "Burglary", "Theft", "Drape theft", "Arson"]:
        add("P", date="2018-03-05 10:00", offense=w)
    words_csv = tmp_path / "words.csv"
    pd.DataFrame(rows).rename(columns={"date": "date", "offense": "Offense"}).to_csv(
        words_csv, index=False
    )

    rows = []
    for code in ["11A", "11B", "11C", "11D", "36A", "36B", "64A"]:
        add("S", date="2018-04-01T12:00:00", offense_code=code)
    for code in ["13A", "120", "220", "23F", "240", "200"]:
        add("P", date="2018-04-01T12:00:00", offense_code=code)
    nibrs_csv = tmp_path / "nibrs.csv"
    pd.DataFrame(rows).to_csv(nibrs_csv, index=False)

    # Chicago's layout: IUCR codes, FBI codes, a true/false Domestic column.
    head = (
        "ID,Case Number,Date,Block,IUCR,Primary Type,Description,Location Description,"
        "Arrest,Domestic,Beat,District,Ward,Community Area,FBI Code,X Coordinate,"
        "Y Coordinate,Year,Updated On,Latitude,Longitude,Location"
    )
    lines = [head]
    chicago = [
        ("0261", "CRIM SEXUAL ASSAULT", "AGGRAVATED: HANDGUN", "false", "02", "S"),
        ("0265", "CRIMINAL SEXUAL ASSAULT", "AGGRAVATED - OTHER", "false", "02", "S"),
        ("0281", "CRIM SEXUAL ASSAULT", "NON-AGGRAVATED", "false", "02", "S"),
        ("0291", "CRIM SEXUAL ASSAULT", "ATTEMPT NON-AGGRAVATED", "false", "02", "S"),
        ("0486", "BATTERY", "DOMESTIC BATTERY SIMPLE", "true", "08B", "S"),
        ("0460", "BATTERY", "SIMPLE", "true", "08B", "S"),  # only the flag says so
        ("041A", "BATTERY", "AGGRAVATED: HANDGUN", "false", "04B", "P"),
        ("0320", "ROBBERY", "STRONGARM - NO WEAPON", "false", "03", "P"),
    ]
    for i, (iucr, ptype, desc, dom, fbi, kind) in enumerate(chicago):
        k += 1
        lat, lon = private_point(k) if kind == "S" else PUBLIC[k % 4]
        lines.append(
            f"{kind}-{k},JB{9000 + i},05/0{1 + i}/2018 11:30:00 PM,001XX W MAIN ST,{iucr},"
            f"{ptype},{desc},STREET,false,{dom},0111,1,42,32,{fbi},,,2018,"
            f"05/08/2018 03:50:00 PM,{lat},{lon},"
        )
    chicago_csv = tmp_path / "chicago.csv"
    chicago_csv.write_text("\n".join(lines) + "\n")

    # Domestic flags in other columns and encodings.
    flags = []
    for col, yes, no in [("IsDomestic", "Y", "N"), ("DV", "1", "0"), ("Domestic", "yes", "no")]:
        rows = []
        for v, kind in [(yes, "S"), (no, "P")]:
            add(kind, date="2018-06-01 08:00", category="Robbery", **{col: v})
        p = tmp_path / f"flag_{col}.csv"
        pd.DataFrame(rows).to_csv(p, index=False)
        flags.append(p)
    return [words_csv, nibrs_csv, chicago_csv, *flags]


@pytest.fixture()
def agency_files(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    return _files(d)


def test_every_agency_word_code_and_flag_is_private(agency_files, layers):
    res = read_incidents(agency_files, study_area=layers.study_area)
    inc = res.incidents
    assert res.tally["rejected"] == 0, res.rejects
    expected = inc["incident_id"].str.startswith("S")
    assert expected.sum() == 11 + 7 + 6 + 3
    assert is_sensitive(inc).tolist() == expected.tolist()
    assert res.tally["sensitive"] == int(expected.sum())
    by_id = inc.set_index("incident_id")
    # the crosswalks put each where the UCR puts it
    assert by_id.loc[inc["incident_id"][0], "category"] == "rape"  # "Rape - Forcible"
    cats = dict(zip(inc["source_label"], inc["category"], strict=False))
    assert cats["CRIM SEXUAL ASSAULT"] == "rape"
    assert cats["AGG. ASSAULT"] == "aggravated_assault"
    assert cats["Drape theft"] == "larceny_theft"  # "drape" is not "rape"


def test_the_rule_reads_flags_in_every_encoding():
    yes = ["Y", "y", "YES", "true", "True", "T", "1", "1.0", "DV"]
    no = ["N", "no", "false", "FALSE", "F", "0", "0.0", ""]
    assert domestic_flag(yes).all() and not domestic_flag(no).any()
    c = classify(["0261", "0291", "0486"], schemes=("chicago_iucr",))
    assert c.sensitive.all()


def _cli(*args):
    return main([*map(str, args), "--quiet"])


def test_load_blanks_private_points_and_keeps_their_areas(agency_files, tmp_path, capsys):
    out = tmp_path / "clean.parquet"
    assert _cli("load", *agency_files, "--out", out, "--json") == 0
    tally = json.loads(capsys.readouterr().out)
    got = gpd.read_parquet(out)
    private = got["incident_id"].str.startswith("S")
    assert tally["sensitive_points_blanked"] == int(private.sum()) == 27
    assert got.loc[private].geometry.is_empty.all()
    assert not got.loc[~private].geometry.is_empty.any()
    # counts still add up: every row kept, private ones in their district
    assert len(got) == tally["used"] == tally["read"]
    assert got.loc[private, "district"].notna().all()
    # GeoJSON too
    gj = tmp_path / "clean.geojson"
    assert _cli("load", *agency_files, "--out", gj) == 0
    feats = json.loads(gj.read_text())["features"]
    for f in feats:
        if f["properties"]["incident_id"].startswith("S"):
            assert f["geometry"] is None or not f["geometry"].get("coordinates")
    # reading the clean file back: private rows say why they have no point
    back = read_incidents(out)
    assert set(back.rejects["reason"]) == {"sensitive_no_point"}
    assert len(back.rejects) == 27


def test_keep_sensitive_points_is_explicit_and_warned(agency_files, tmp_path, capsys):
    out = tmp_path / "private.parquet"
    assert _cli("load", *agency_files, "--out", out, "--keep-sensitive-points") == 0
    assert "keep the file private" in capsys.readouterr().err
    assert not gpd.read_parquet(out).geometry.is_empty.any()


def test_user_extends_the_rule(tmp_path, layers):
    p = tmp_path / "x.csv"
    pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "date": ["2018-01-02"] * 3,
            "offense": ["Stalking", "Robbery", "Robbery"],
            "FamilyFlag": ["", "", "X"],
            "lat": [38.63, 38.63, 38.63],
            "lon": [-90.2, -90.2, -90.2],
        }
    ).to_csv(p, index=False)
    res = read_incidents(
        p, sensitive_categories=["stalking"], domestic_column="FamilyFlag"
    ).incidents
    assert res["sensitive"].tolist() == [True, False, True]


def _all_text(folder):
    for f in folder.rglob("*"):
        if f.is_file() and f.suffix in {".html", ".geojson", ".json", ".csv", ".js", ".md"}:
            yield f, f.read_text(errors="replace")


def test_no_private_point_reaches_any_map_or_file(agency_files, tmp_path):
    out = tmp_path / "maps"
    assert _cli("map", *agency_files, "--out", out) == 0
    assert (out / "index.html").exists()
    tells = []
    for k in range(1, 60):
        lat, lon = private_point(k)
        tells += [f"{lat:.7f}", f"{lon:.7f}"]
    used = [private_point(k) for k in range(1, 60)]
    for f, text in _all_text(out):
        for t in tells:
            assert t not in text, (f.name, t)
        # numerically too: no (lat, lon) or (lon, lat) pair near a private point, at the
        # 5 decimals the maps round to
        pairs = re.findall(r"(-?\d+\.\d+)\s*,\s*(-?\d+\.\d+)", text)
        if pairs:
            xy = np.array(pairs, float)
            for lat, lon in used:
                near = (np.abs(xy - [lat, lon]).max(axis=1) < 2e-5) | (
                    np.abs(xy - [lon, lat]).max(axis=1) < 2e-5
                )
                assert not near.any(), (f.name, lat, lon)
    inc = gpd.read_parquet(out / "incidents.parquet")
    private = inc["incident_id"].str.startswith("S")
    assert inc.geometry[private].is_empty.all()  # kept for the counts, never as points


#: Every point any Leaflet layer of the page holds, on the map or not (layers off by default
#: are globals too): markers, circle markers, and the points inside GeoJSON layers.
POINTS_PROBE = """() => {
  const out = [];
  const seen = new Set();
  const walk = (v) => {
    if (!v || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (typeof v.getLatLng === 'function') {
      const p = v.getLatLng(); out.push([p.lat, p.lng]);
    }
    if (typeof v.eachLayer === 'function') v.eachLayer(walk);
  };
  for (const k of Object.keys(window)) {
    let v; try { v = window[k]; } catch (e) { continue; }
    if (window.L && v instanceof L.Layer) walk(v);
  }
  return out;
}"""


@pytest.mark.browser
def test_no_private_point_is_drawn_in_chromium(agency_files, tmp_path, layers):
    import os

    import folium

    from impactzones.maps.webmap import add_incident_sample, base_map

    from .browser import Browser, chromium_path

    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it")
        pytest.skip("Debian's chromium is not installed")
    pytest.importorskip("playwright.sync_api")
    out = tmp_path / "maps"
    assert _cli("map", *agency_files, "--out", out) == 0
    pages = [p for p in sorted(out.glob("*.html")) if "L.control.layers" in p.read_text()]
    # and a map with the (off by default) sample of incidents, fed every row, private too
    inc = read_incidents(agency_files, study_area=layers.study_area).incidents
    m = base_map(layers)
    n = add_incident_sample(m, inc)
    folium.LayerControl().add_to(m)
    m.save(tmp_path / "sample.html")
    private = np.array([private_point(k) for k in range(1, 60)])
    public = np.array(PUBLIC)
    browser = Browser()
    try:
        for page in [*pages, tmp_path / "sample.html"]:
            rep = browser.open(page, probe=POINTS_PROBE)
            assert not rep.page_errors, (page.name, rep.page_errors)
            pts = np.array(rep.probe.get("extra") or [], float).reshape(-1, 2)
            if len(pts):  # the sample rounds to 5 decimals: 1e-5 degrees is about 1 m
                d = np.abs(pts[:, None, :] - private[None, :, :]).max(axis=2)
                assert (d > 2e-5).all(), page.name
    finally:
        browser.close()
    # the probe sees what is drawn: every public row is in the sample, no private one
    assert n == int((~inc["sensitive"]).sum()) > 0
    d = np.abs(pts[:, None, :] - public[None, :, :]).max(axis=2)
    assert (d.min(axis=0) < 2e-5).all()  # each public place is drawn
    assert (d.min(axis=1) < 2e-5).sum() == n  # once per public row
