"""The reader's own cases in the bad-input corpus (issue 12): encodings, ragged rows,
swapped and impossible coordinates, dates out of range, time zones, day-first columns, layers
in feet without a CRS, and private offenses in other agencies' words.

Run ``python3 tests/data/bad/make_reader_cases.py``; the files are committed.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyproj import Transformer

HERE = Path(__file__).resolve().parent
GOOD = (HERE / "good.csv").read_text(encoding="utf-8").splitlines()
HEAD, BODY = GOOD[0], GOOD[1:11]


def put(name: str, text: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(text.encode(encoding))


# UTF-16 with and without a byte-order mark (Excel's "Unicode text")
put("utf16_bom.csv", "\n".join([HEAD, *BODY]) + "\n", "utf-16")
put("utf16_nobom.csv", "\n".join([HEAD, *BODY]) + "\n", "utf-16-le")

# ragged rows: one field too many, one too few (columns would shift)
rows = list(BODY)
rows[3] = rows[3] + ",EXTRA"
rows[6] = ",".join(rows[6].split(",")[:-1])
put("ragged_rows.csv", "\n".join([HEAD, *rows]) + "\n")

# three rows of ten with latitude and longitude swapped (too few for the whole-file error)
rows = []
for i, r in enumerate(BODY):
    f = r.split(",")
    if i in (1, 4, 7):
        f[3], f[4] = f[4], f[3]
    rows.append(",".join(f))
put("swapped_some.csv", "\n".join([HEAD, *rows]) + "\n")

# impossible coordinates: far beyond any degree; kept out even with --no-boundary
rows = [*list(BODY[:8]), "F1,2018-03-01,robbery,1e9,1e9", "F2,2018-03-01,robbery,95.0,-90.2"]
put("impossible_coordinates.csv", "\n".join([HEAD, *rows]) + "\n")

# dates before 1970 (the SLMPD exports' 1900 placeholders) and in the future
rows = [
    *list(BODY[:8]),
    "D1,1900-01-01 00:00:00,robbery,38.65,-90.22",
    "D2,2099-06-01 10:00:00,robbery,38.65,-90.22",
]
put("dates_out_of_range.csv", "\n".join([HEAD, *rows]) + "\n")

# ISO timestamps with Z and mixed offsets
stamps = ["2018-03-01T10:00:00Z", "2018-03-01T10:00:00-06:00", "2018-07-01T10:00:00+02:00"]
rows = [",".join([f[0], stamps[i % 3], *f[2:]]) for i, f in enumerate(r.split(",") for r in BODY)]
put("iso_offsets.csv", "\n".join([HEAD, *rows]) + "\n")

# day-first columns: decided from the data, or refused when nothing tells
rows = [f"A{i},0{1 + i % 9}/0{1 + i % 8}/2018 10:00,robbery,38.65,-90.22" for i in range(6)]
put("dates_ambiguous.csv", "\n".join([HEAD, *rows]) + "\n")
rows = [f"B{i},{13 + i}.05.2018,robbery,38.65,-90.22" for i in range(5)] + [
    "B9,01.05.2018,robbery,38.65,-90.22"
]
put("dates_dayfirst.csv", "\n".join([HEAD, *rows]) + "\n")
rows = ["C1,13/05/2018,robbery,38.65,-90.22", "C2,05/13/2018,robbery,38.65,-90.22"]
put("dates_inconsistent.csv", "\n".join([HEAD, *rows]) + "\n")

# a boundary in Missouri East state-plane feet, in GeoJSON with no "crs" member
tr = Transformer.from_crs(4326, "ESRI:102696", always_xy=True)
ring = [(-90.32, 38.53), (-90.16, 38.53), (-90.16, 38.78), (-90.32, 38.78), (-90.32, 38.53)]
coords = [list(tr.transform(lon, lat)) for lon, lat in ring]
gj = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "city"},
            "geometry": {"type": "Polygon", "coordinates": [coords]},
        }
    ],
}
put("boundary_in_feet.geojson", json.dumps(gj))

# private offenses in other agencies' words, codes and flags
rows = [
    "P1,2018-03-01 10:00,Rape - Forcible,38.65,-90.22,",
    "P2,2018-03-01 10:00,CRIM SEXUAL ASSAULT,38.65,-90.22,",
    "P3,2018-03-01 10:00,11C,38.65,-90.22,",
    "P4,2018-03-01 10:00,Robbery,38.65,-90.22,Y",
    "P5,2018-03-01 10:00,Robbery,38.65,-90.22,N",
    "P6,2018-03-01 10:00,AGG. ASSAULT,38.65,-90.22,",
]
put("sensitive_words.csv", "\n".join(["id,date,category,lat,lon,IsDomestic", *rows]) + "\n")
