"""Write the bad-input corpus (run from anywhere: ``python3 tests/data/bad/make_corpus.py``).

Every file here is small and made for the purpose; ``cases.csv`` says what the CLI must do
with each. The generator is kept so the files can be re-made and read as code; the files are
committed so that the tests never depend on it.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
NORTH, CENTRAL, SOUTH, DOWNTOWN = (38.69476, -90.24967), (38.65041, -90.22194), \
    (38.58064, -90.24246), (38.62700, -90.19900)
HEADER = "id,date,category,lat,lon"


def rows(n=60, seed=1, start_id=1):
    rnd = random.Random(seed)
    out = []
    spots = [NORTH, CENTRAL, SOUTH, DOWNTOWN]
    cats = ["robbery", "burglary", "larceny_theft", "aggravated_assault"]
    for i in range(n):
        lat, lon = spots[i % 4]
        lat += rnd.uniform(-0.002, 0.002)
        lon += rnd.uniform(-0.002, 0.002)
        year = 2017 + (i % 2)
        day = f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d} 1{i % 10}:30:00"
        out.append(f"C{start_id + i},{day},{cats[i % 4]},{lat:.5f},{lon:.5f}")
    return out


def write(name, text, encoding="utf-8", newline="\n"):
    p = HERE / name
    p.parent.mkdir(parents=True, exist_ok=True)
    data = text.replace("\n", newline).encode(encoding) if isinstance(text, str) else text
    p.write_bytes(data)


def feature(geom, **props):
    return {"type": "Feature", "properties": props, "geometry": geom}


def square(lat, lon, d=0.004):
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d],
            [lon - d, lat - d]]
    return {"type": "Polygon", "coordinates": [ring]}


def collection(features):
    return json.dumps({"type": "FeatureCollection", "features": features}, indent=1)


def main():
    good = rows()
    body = "\n".join([HEADER, *good]) + "\n"
    write("good.csv", body)
    write("empty.csv", "")
    write("whitespace_only.csv", "\n\n   \n")
    write("header_only.csv", HEADER + "\n")
    write("binary.csv", bytes(random.Random(7).randrange(256) for _ in range(600)))
    write("gzipped.csv", gzip.compress(body.encode(), mtime=0))
    write("incidents.csv.gz", gzip.compress(body.encode(), mtime=0))
    write("wrong_extension.xlsx", body)
    write("csv_named.geojson", body)
    write("html_named.csv", "<!DOCTYPE html><html><body><h1>Not found</h1></body></html>\n")
    write("bom.csv", "\ufeff" + body)
    write("crlf.csv", body, newline="\r\n")
    write("cp1252.csv", HEADER + ",note\n" + "\n".join(
        r + ",caf\u00e9 \u2019s" for r in good[:10]) + "\n", encoding="cp1252")
    write("quoted_newlines.csv", HEADER + ",note\n" + "\n".join(
        r + ',"line one\nline two, with ""quotes"""' for r in good[:10]) + "\n")
    write("null_island.csv", "\n".join([HEADER, *good[:8], "N1,2018-03-01,robbery,0,0",
                                        "N2,2018-03-02,robbery,0.0,0.0"]) + "\n")
    write("nan_inf.csv", "\n".join([HEADER, *good[:8], "F1,2018-03-01,robbery,nan,-90.2",
                                    "F2,2018-03-01,robbery,inf,-90.2",
                                    "F3,2018-03-01,robbery,38.6,-inf",
                                    "F4,2018-03-01,robbery,,"]) + "\n")
    write("duplicate_ids.csv", "\n".join([HEADER, *good[:10], good[3], good[4]]) + "\n")
    write("outside_city.csv", "\n".join([HEADER, *good[:6], "O1,2018-01-01,robbery,41.88,-87.63",
                                         "O2,2018-01-01,robbery,38.75,-90.40"]) + "\n")
    write("swapped_latlon.csv", "\n".join([HEADER, *good[:6], "S1,2018-01-01,robbery,-90.2,38.63",
                                           "S2,2018-01-02,robbery,-90.21,38.64"]) + "\n")
    write("bad_dates.csv", "\n".join([HEADER, *good[:6], "D1,not a date,robbery,38.63,-90.2",
                                      "D2,2018-13-45,robbery,38.63,-90.2",
                                      "D3,,robbery,38.63,-90.2"]) + "\n")
    write("unknown_category.csv", "\n".join([HEADER, *good[:6], "U1,2018-01-01,zzz,38.63,-90.2",
                                             "U2,2018-01-01,,38.63,-90.2"]) + "\n")
    write("no_date_column.csv", "id,category,lat,lon\nA1,robbery,38.63,-90.2\n")
    write("no_category_column.csv", "id,date,lat,lon\nA1,2018-01-01,38.63,-90.2\n")
    write("no_location_columns.csv", "id,date,category\nA1,2018-01-01,robbery\n")
    write("xy_without_crs.csv", "id,date,category,x,y\nA1,2018-01-01,robbery,895000,1020000\n")
    write("semicolon.csv", body.replace(",", ";"))
    write("tabs.tsv", body.replace(",", "\t"))
    write("upper_headers.csv", body.replace(HEADER, HEADER.upper()))
    write("text_coordinates.csv", "\n".join([HEADER, *good[:6],
                                             "T1,2018-01-01,robbery,north,west"]) + "\n")
    write("long_strings.csv", "\n".join([HEADER, *good[:6],
                                         "L1,2018-01-01," + "x" * 5000 + ",38.63,-90.2"]) + "\n")
    write("hostile_text.csv", "\n".join([HEADER, *good[:6],
                                         "<script>alert(1)</script>,2018-01-01,robbery,38.63,-90.2",
                                         "${alert(2)},2018-01-02,robbery,38.63,-90.2"]) + "\n")
    pts = [feature({"type": "Point", "coordinates": [float(r.split(",")[4]),
                                                    float(r.split(",")[3])]},
                   id=r.split(",")[0], date=r.split(",")[1], category=r.split(",")[2])
           for r in good[:20]]
    write("good.geojson", collection(pts))
    write("no_features.geojson", collection([]))
    write("null_geometry.geojson", collection([*pts[:5], {**pts[5], "geometry": None}]))
    write("polygon_incidents.geojson", collection([*pts[:5], feature(square(*NORTH), id="P1",
                                                  date="2018-01-01", category="robbery")]))
    write("not_geojson.geojson", json.dumps({"hello": "world"}))
    write("truncated.geojson", collection(pts)[:300])
    # zones
    z = {"N": square(*NORTH), "C": square(*CENTRAL), "S": square(*SOUTH)}
    write("zones/good.geojson", collection([feature(z["N"], name="North", start="2018-01-01"),
                                            feature(z["C"], name="Central", start="2018-01-01")]))
    write("zones/points.geojson", collection([feature({"type": "Point", "coordinates":
                                                       [NORTH[1], NORTH[0]]}, name="Dot",
                                                      start="2018-01-01")]))
    write("zones/lines.geojson", collection([feature({"type": "LineString", "coordinates":
                                                      [[NORTH[1], NORTH[0]],
                                                       [CENTRAL[1], CENTRAL[0]]]},
                                                     name="Line", start="2018-01-01")]))
    write("zones/empty_geometry.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(None, name="Ghost", start="2018-01-01")]))
    write("zones/outside.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(square(41.88, -87.63), name="Chicago", start="2018-01-01")]))
    write("zones/overlap.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(square(NORTH[0] + 0.002, NORTH[1], 0.004), name="Northish",
                start="2018-01-01")]))
    write("zones/no_start.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"), feature(z["C"], name="Central")]))
    write("zones/bad_start.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(z["C"], name="Central", start="sometime")]))
    write("zones/late_start.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(z["C"], name="Central", start="2019-01-01")]))
    write("zones/path_names.geojson", collection([
        feature(z["N"], name="../../../../elsewhere/victim", start="2018-01-01"),
        feature(z["C"], name="a/b\\c", start="2018-01-01"),
        feature(z["S"], name="/tmp/iz_absolute", start="2018-01-01")]))
    write("zones/case_names.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(z["C"], name="north", start="2018-01-01")]))
    write("zones/duplicate_names.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(z["C"], name="North", start="2018-01-01")]))
    write("zones/no_name.geojson", collection([feature(z["N"], start="2018-01-01")]))
    write("zones/far.geojson", collection([feature(square(0.005, 0.005, 0.005), name="Far")]))
    write("zones/null_name.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(z["C"], name=None, start="2018-01-01")]))
    write("zones/blank_name.geojson", collection([
        feature(z["N"], name="North", start="2018-01-01"),
        feature(z["C"], name="  ", start="2018-01-01")]))
    swapped = {"type": "Polygon",
               "coordinates": [[[y, x] for x, y in z["N"]["coordinates"][0]]]}  # lat, lon
    write("zones/swapped_latlon.geojson", collection([feature(swapped, name="North",
                                                              start="2018-01-01")]))
    write("zones/not_a_layer.geojson", "North Impact Zone: Natural Bridge to Goodfellow\n")
    # study files
    study = {
        "seed_text": 'seed = "abc"\n',
        "ring_text": '[analysis]\nring = "wide"\n',
        "incidents_number": "[data]\nincidents = 5\n",
        "out_number": "[output]\nout = 5\n",
        "columns_string": '[data]\ncolumns = "id=Case"\n',
        "self_contained_no": '[output]\nself_contained = "no"\n',
        "unknown_key": "[data]\nseeds = 3\n",
        "negative_ring": "[analysis]\nring = -5\n",
        "bad_toml": "[data\nseed = 1\n",
        "unknown_column_field": '[data]\ncolumns = { colour = "Red" }\n',
    }
    for name, text in study.items():
        write(f"study/{name}.toml", text)
    write("study/latin1.toml", "# caf\u00e9\n[data]\nseed = 1\n", encoding="latin-1")
    # folders
    write("folder_with_dotfiles/good.csv", body)
    write("folder_with_dotfiles/.incidents.abc123.parquet", b"PAR1 half-written")
    write("folder_with_dotfiles/.hidden/old.csv", "garbage\n")
    (HERE / "empty_folder").mkdir(exist_ok=True)
    (HERE / "empty_folder" / "README.md").write_text("", encoding="utf-8")
    # an output folder whose manifest does not match (a re-run killed halfway)
    write("mixed_run/incidents.csv", body)
    write("mixed_run/manifest.json", json.dumps({"run_id": "0123456789abcdef", "settings": {},
                                                 "files": [{"path": "incidents.csv", "bytes": 1,
                                                            "sha256": "0" * 64}]}, indent=1))
    # an output folder read back: its JSON summaries are not incidents (only GeoJSON is)
    write("output_folder/incidents.csv", body)
    write("output_folder/summary.json", json.dumps({"incidents": 60, "zones": ["A"]}, indent=1))
    write("output_folder/compare_2018.json", json.dumps([{"zone": "A", "ratio": 0.8}], indent=1))
    write("truncated.parquet", b"PAR1\x15\x04\x15\x00\x00")
    # a shapefile without its .shx: only the .shp and .dbf are written
    try:
        import geopandas as gpd

        g = gpd.read_file(HERE / "good.geojson").iloc[:5]
        tmp = HERE / "_shp"
        tmp.mkdir(exist_ok=True)
        g.to_file(tmp / "no_shx.shp")
        for ext in (".shp", ".dbf", ".prj"):
            (HERE / f"no_shx{ext}").write_bytes((tmp / f"no_shx{ext}").read_bytes())
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    except ImportError:  # pragma: no cover
        pass


if __name__ == "__main__":
    main()
