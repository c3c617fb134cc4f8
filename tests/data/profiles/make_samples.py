"""Write the small sample exports in each agency's layout, and the truth for each row.

Run once by hand (``python tests/data/profiles/make_samples.py``); the files are committed.
The rows are invented (no agency's data is copied): each is written from the values in its
table below -- category, group, private or not, local time and position -- worked out by
hand from the agency's code book (see impactzones/io/crosswalks/). Positions in state-plane
feet are made from the true lat/lon with pyproj, so that the reader, going back, must land
on the lat/lon written here. Each layout is a header, a table of the rows' own values and a
function that lays one row out in the agency's columns (the other columns hold constants).
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

from pyproj import Transformer

HERE = Path(__file__).resolve().parent
TRUTH = "file|row|id|fate|category|group|sensitive|local_time|tz|lat|lon".split("|")
GROUP = {
    "homicide": "violent",
    "rape": "violent",
    "robbery": "violent",
    "aggravated_assault": "violent",
    "burglary": "property",
    "larceny_theft": "property",
    "motor_vehicle_theft": "property",
}


def table(text: str) -> list[SimpleNamespace]:
    """Rows of a ``|``-separated table (first line: names); lat/lon as numbers, "" as None."""
    lines = text.strip().splitlines()
    names = lines[0].split("|")
    rows = []
    for line in lines[1:]:
        row = dict(zip(names, line.split("|"), strict=True))
        for k in ("lat", "lon"):
            if k in row:
                v = row[k]
                row[k] = None if v == "" else (float(v) if "." in v else int(v))
        row.setdefault("fate", "used" if row.get("lat", 0) is not None else "no_location")
        rows.append(SimpleNamespace(**row))
    return rows


def feet(epsg: int, lat: float | None, lon: float | None) -> tuple:
    """State-plane feet of a lat/lon (rounded to 0.1 ft), or blanks for no location."""
    if lat is None or lon is None:
        return "", ""
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    return round(x, 1), round(y, 1)


def blank(v) -> object:
    return "" if v is None else v


def emit(name: str, header: str, rows: list, layout, tz: str, truth: list) -> None:
    """Write one sample file (``layout(i, row)`` gives a row's columns) and its truth."""
    head = header.split("|")
    with open(HERE / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        for i, r in enumerate(rows, 1):
            cols = layout(i, r)
            w.writerow([cols.get(c, "") for c in head])
            used = r.fate == "used"
            where = [blank(r.lat), blank(r.lon)] if used or r.lat else ["", ""]
            truth.append(
                [f"{name}.csv", i, cols["_id"], r.fate, r.category, GROUP.get(r.category, "other"),
                 r.sensitive, r.local, tz, *where]
            )


# --- Chicago: "Crimes - 2001 to present" -------------------------------------------------
CHI_HEAD = "ID|Case Number|Date|Block|IUCR|Primary Type|Description|Location Description|Arrest|Domestic|Beat|District|Ward|Community Area|FBI Code|X Coordinate|Y Coordinate|Year|Updated On|Latitude|Longitude|Location"
CHI = table("""
iucr|primary|desc|domestic|fbi|date|local|lat|lon|category|sensitive
0110|HOMICIDE|FIRST DEGREE MURDER|false|01A|05/01/2018 11:30:00 PM|2018-05-01 23:30|41.8781|-87.6298|homicide|0
0261|CRIM SEXUAL ASSAULT|AGGRAVATED: HANDGUN|false|02|05/02/2018 12:05:00 AM|2018-05-02 00:05|41.88|-87.63|rape|1
0281|CRIMINAL SEXUAL ASSAULT|NON-AGGRAVATED|false|02|05/03/2018 12:00:00 PM|2018-05-03 12:00|41.882|-87.631|rape|1
031A|ROBBERY|ARMED: HANDGUN|false|03|05/04/2018 01:15:00 PM|2018-05-04 13:15|41.884|-87.632|robbery|0
0325|ROBBERY|VEHICULAR HIJACKING|false|03|05/05/2018 09:45:00 PM|2018-05-05 21:45|41.886|-87.633|robbery|0
041A|BATTERY|AGGRAVATED: HANDGUN|false|04B|05/06/2018 02:00:00 AM|2018-05-06 02:00|41.888|-87.634|aggravated_assault|0
051A|ASSAULT|AGGRAVATED: HANDGUN|false|04A|05/07/2018 03:00:00 AM|2018-05-07 03:00|41.89|-87.635|aggravated_assault|0
0486|BATTERY|DOMESTIC BATTERY SIMPLE|true|08B|05/08/2018 07:20:00 PM|2018-05-08 19:20|41.892|-87.636|other_assaults|1
0460|BATTERY|SIMPLE|true|08B|05/09/2018 08:00:00 AM|2018-05-09 08:00|41.894|-87.637|other_assaults|1
0460|BATTERY|SIMPLE|false|08B|05/10/2018 08:30:00 AM|2018-05-10 08:30|41.896|-87.638|other_assaults|0
0610|BURGLARY|FORCIBLE ENTRY|false|05|05/11/2018 04:00:00 AM|2018-05-11 04:00|41.898|-87.639|burglary|0
0820|THEFT|$500 AND UNDER|false|06|05/12/2018 05:10:00 PM|2018-05-12 17:10|41.9|-87.64|larceny_theft|0
0810|THEFT|OVER $500|false|06|05/13/2018 06:00:00 PM|2018-05-13 18:00|41.902|-87.641|larceny_theft|0
0910|MOTOR VEHICLE THEFT|AUTOMOBILE|false|07|05/14/2018 10:00:00 PM|2018-05-14 22:00|41.904|-87.642|motor_vehicle_theft|0
1010|ARSON|BY FIRE|false|09|05/15/2018 01:00:00 AM|2018-05-15 01:00|41.906|-87.643|arson|0
1320|CRIMINAL DAMAGE|TO VEHICLE|false|14|05/16/2018 02:30:00 PM|2018-05-16 14:30|41.908|-87.644|vandalism|0
1811|NARCOTICS|POSS: CANNABIS 30GMS OR LESS|false|18|05/17/2018 03:30:00 PM|2018-05-17 15:30|41.91|-87.645|drug_violations|0
1544|SEX OFFENSE|SEXUAL EXPLOITATION OF A CHILD|false|17|05/18/2018 04:30:00 PM|2018-05-18 16:30|41.912|-87.646|sex_offenses|1
0560|ASSAULT|SIMPLE|false|08A|05/19/2018 11:59:00 PM|2018-05-19 23:59|41.914|-87.647|other_assaults|0
143A|WEAPONS VIOLATION|UNLAWFUL POSS OF HANDGUN|false|15|05/20/2018 12:01:00 AM|2018-05-20 00:01|41.916|-87.648|weapons|0
0820|THEFT|$500 AND UNDER|false|06|05/21/2018 09:00:00 AM|2018-05-21 09:00|||larceny_theft|0
0820|THEFT|$500 AND UNDER|false|06|12/31/2018 11:00:00 PM|2018-12-31 23:00|41.87|-87.62|larceny_theft|0
""")


def chicago(i: int, r) -> dict:
    x, y = feet(3435, r.lat, r.lon)
    rid = str(11300000 + i)
    return {
        "_id": rid, "ID": rid, "Case Number": f"JB{240000 + i}", "Date": r.date,
        "Block": "001XX W RANDOLPH ST", "IUCR": r.iucr, "Primary Type": r.primary,
        "Description": r.desc, "Location Description": "STREET", "Arrest": "false",
        "Domestic": r.domestic, "Beat": "0111", "District": "1", "Ward": "42",
        "Community Area": "32", "FBI Code": r.fbi, "X Coordinate": x, "Y Coordinate": y,
        "Year": "2018", "Updated On": "05/08/2019 03:50:00 PM", "Latitude": blank(r.lat),
        "Longitude": blank(r.lon), "Location": "" if r.lat is None else f"({r.lat}, {r.lon})",
    }


# --- Chicago extracts without the FBI Code column: the category from IUCR ---------------
# Worked from CPD's IUCR list (crosswalks/chicago_iucr.csv): aggravated battery with hands
# and no or minor injury (0440) is simple battery whatever "AGG" in its label says; 0492 is
# ritual mutilation, not domestic battery; orders of protection (4387) and child abuse
# (1750) are private though their labels do not say so.
CHI_NF_HEAD = CHI_HEAD.replace("|FBI Code", "")
CHI_NF = table("""
iucr|primary|desc|domestic|fbi|date|local|lat|lon|category|sensitive
0110|HOMICIDE|FIRST DEGREE MURDER|false||06/01/2018 01:00:00 AM|2018-06-01 01:00|41.85|-87.65|homicide|0
0142|HOMICIDE|RECKLESS HOMICIDE|false||06/02/2018 02:00:00 PM|2018-06-02 14:00|41.851|-87.651|negligent_manslaughter|0
0266|CRIMINAL SEXUAL ASSAULT|PREDATORY|false||06/03/2018 03:00:00 AM|2018-06-03 03:00|41.852|-87.652|rape|1
1753|OFFENSE INVOLVING CHILDREN|SEX ASSLT OF CHILD BY FAM MBR|true||06/04/2018 04:00:00 PM|2018-06-04 16:00|41.853|-87.653|rape|1
0326|ROBBERY|AGGRAVATED VEHICULAR HIJACKING|false||06/05/2018 05:00:00 AM|2018-06-05 05:00|41.854|-87.654|robbery|0
033A|ROBBERY|ATTEMPT: ARMED-HANDGUN|false||06/06/2018 06:00:00 PM|2018-06-06 18:00|41.855|-87.655|robbery|0
0479|BATTERY|AGG: HANDS/FIST/FEET SERIOUS INJURY|false||06/07/2018 07:00:00 AM|2018-06-07 07:00|41.856|-87.656|aggravated_assault|0
0440|BATTERY|AGG: HANDS/FIST/FEET NO/MINOR INJURY|false||06/08/2018 08:00:00 PM|2018-06-08 20:00|41.857|-87.657|other_assaults|0
0497|BATTERY|AGGRAVATED DOMESTIC BATTERY: OTHER DANG WEAPON|true||06/09/2018 09:00:00 AM|2018-06-09 09:00|41.858|-87.658|aggravated_assault|1
0492|RITUALISM|AGG RITUAL MUT:KNIFE/CUTTING I|false||06/10/2018 10:00:00 PM|2018-06-10 22:00|41.859|-87.659|aggravated_assault|0
0554|ASSAULT|AGG PO HANDS NO/MIN INJURY|false||06/11/2018 11:00:00 AM|2018-06-11 11:00|41.86|-87.66|other_assaults|0
0558|ASSAULT|AGG PRO.EMP: OTHER DANG WEAPON|false||06/12/2018 12:00:00 PM|2018-06-12 12:00|41.861|-87.661|aggravated_assault|0
0583|STALKING|CYBERSTALKING|false||06/13/2018 12:30:00 AM|2018-06-13 00:30|41.862|-87.662|intimidation|0
0650|BURGLARY|HOME INVASION|false||06/14/2018 01:30:00 PM|2018-06-14 13:30|41.863|-87.663|burglary|0
0842|THEFT|AGG: FINANCIAL ID THEFT|false||06/15/2018 02:30:00 AM|2018-06-15 02:30|41.864|-87.664|fraud|0
0860|THEFT|RETAIL THEFT|false||06/16/2018 03:30:00 PM|2018-06-16 15:30|41.865|-87.665|larceny_theft|0
0917|MOTOR VEHICLE THEFT|CYCLE, SCOOTER, BIKE W-VIN|false||06/17/2018 04:30:00 AM|2018-06-17 04:30|41.866|-87.666|motor_vehicle_theft|0
1025|ARSON|AGGRAVATED|false||06/18/2018 05:30:00 PM|2018-06-18 17:30|41.867|-87.667|arson|0
1345|CRIMINAL DAMAGE|TO CITY OF CHICAGO PROPERTY|false||06/19/2018 06:30:00 AM|2018-06-19 06:30|41.868|-87.668|vandalism|0
143A|WEAPONS VIOLATION|UNLAWFUL POSS OF HANDGUN|false||06/20/2018 07:30:00 PM|2018-06-20 19:30|41.869|-87.669|weapons|0
1750|OFFENSE INVOLVING CHILDREN|CHILD ABUSE|false||06/21/2018 08:30:00 AM|2018-06-21 08:30|41.87|-87.67|offenses_family_children|1
4387|OTHER OFFENSE|VIOLATE ORDER OF PROTECTION|false||06/22/2018 09:30:00 PM|2018-06-22 21:30|41.871|-87.671|other_offenses|1
2017|NARCOTICS|MANU/DELIVER:CRACK|false||06/23/2018 10:30:00 AM|2018-06-23 10:30|41.872|-87.672|drug_violations|0
1563|SEX OFFENSE|CRIMINAL SEXUAL ABUSE|false||06/24/2018 11:30:00 PM|2018-06-24 23:30|41.873|-87.673|sex_offenses|1
""")


# --- NYPD complaint data ----------------------------------------------------------------
NY_HEAD = "CMPLNT_NUM|CMPLNT_FR_DT|CMPLNT_FR_TM|CMPLNT_TO_DT|CMPLNT_TO_TM|ADDR_PCT_CD|RPT_DT|KY_CD|OFNS_DESC|PD_CD|PD_DESC|CRM_ATPT_CPTD_CD|LAW_CAT_CD|BORO_NM|LOC_OF_OCCUR_DESC|PREM_TYP_DESC|JURIS_DESC|JURISDICTION_CODE|PARKS_NM|HADEVELOPT|HOUSING_PSA|X_COORD_CD|Y_COORD_CD|SUSP_AGE_GROUP|SUSP_RACE|SUSP_SEX|TRANSIT_DISTRICT|Latitude|Longitude|Lat_Lon|PATROL_BORO|STATION_NAME|VIC_AGE_GROUP|VIC_RACE|VIC_SEX"
NY = table("""
ky|ofns|pd_cd|pd_desc|law|date|time|local|lat|lon|category|sensitive|fate
101|MURDER & NON-NEGL. MANSLAUGHTER|||FELONY|03/04/2019|23:10:00|2019-03-04 23:10|40.7506|-73.9935|homicide|0|used
104|RAPE|157|RAPE 1|FELONY|03/05/2019|01:00:00|2019-03-05 01:00|40.751|-73.99|rape|1|used
116|SEX CRIMES|175|SEXUAL ABUSE 3,2|FELONY|03/06/2019|14:00:00|2019-03-06 14:00|40.752|-73.989|sex_offenses|1|used
233|SEX CRIMES|175|SEXUAL ABUSE 3,2|MISDEMEANOR|03/07/2019|15:00:00|2019-03-07 15:00|40.753|-73.988|sex_offenses|1|used
105|ROBBERY|397|ROBBERY,OPEN AREA UNCLASSIFIED|FELONY|03/08/2019|16:00:00|2019-03-08 16:00|40.754|-73.987|robbery|0|used
106|FELONY ASSAULT|109|ASSAULT 2,1,UNCLASSIFIED|FELONY|03/09/2019|17:00:00|2019-03-09 17:00|40.755|-73.986|aggravated_assault|0|used
344|ASSAULT 3 & RELATED OFFENSES|101|ASSAULT 3|MISDEMEANOR|03/10/2019|18:00:00|2019-03-10 18:00|40.756|-73.985|other_assaults|0|used
107|BURGLARY|221|BURGLARY,RESIDENCE,NIGHT|FELONY|03/11/2019|02:00:00|2019-03-11 02:00|40.757|-73.984|burglary|0|used
109|GRAND LARCENY|438|LARCENY,GRAND FROM BUILDING|FELONY|03/12/2019|12:00:00|2019-03-12 12:00|40.758|-73.983|larceny_theft|0|used
341|PETIT LARCENY|333|LARCENY,PETIT FROM STORE-SHOPL|MISDEMEANOR|03/13/2019|12:30:00|2019-03-13 12:30|40.759|-73.982|larceny_theft|0|used
110|GRAND LARCENY OF MOTOR VEHICLE|441|LARCENY,GRAND OF AUTO|FELONY|03/14/2019|03:00:00|2019-03-14 03:00|40.76|-73.981|motor_vehicle_theft|0|used
114|ARSON|267|ARSON 2,3,4|FELONY|03/15/2019|04:00:00|2019-03-15 04:00|40.761|-73.98|arson|0|used
578|HARRASSMENT 2|638|HARASSMENT,SUBD 3,4,5|VIOLATION|03/16/2019|05:00:00|2019-03-16 05:00|40.762|-73.979|other_offenses|0|used
351|CRIMINAL MISCHIEF & RELATED OF|259|CRIMINAL MISCHIEF,UNCLASSIFIED 4|MISDEMEANOR|03/17/2019|06:00:00|2019-03-17 06:00|40.763|-73.978|vandalism|0|used
235|DANGEROUS DRUGS|511|CONTROLLED SUBSTANCE, POSSESSION 7|MISDEMEANOR|03/18/2019|07:00:00|2019-03-18 07:00|40.764|-73.977|drug_violations|0|used
344|ASSAULT 3 & RELATED OFFENSES|101|ASSAULT 3|MISDEMEANOR|01/01/1019|08:00:00||40.765|-73.976|other_assaults|0|date_before_floor
341|PETIT LARCENY|321|LARCENY,PETIT FROM AUTO|MISDEMEANOR|03/20/2019|09:00:00|2019-03-20 09:00|||larceny_theft|0|no_location
105|ROBBERY|380|ROBBERY,CAR JACKING|FELONY|03/21/2019|10:00:00|2019-03-21 10:00|40.766|-73.975|robbery|0|used
106|FELONY ASSAULT|109|ASSAULT 2,1,UNCLASSIFIED|FELONY|03/22/2019|24:00:00||40.767|-73.974|aggravated_assault|0|unparseable_date
109|GRAND LARCENY|438|LARCENY,GRAND FROM BUILDING|FELONY|07/04/2019|00:00:00|2019-07-04 00:00|40.768|-73.973|larceny_theft|0|used
""")


def nypd(i: int, r) -> dict:
    x, y = feet(2263, r.lat, r.lon)
    x, y = (round(x), round(y)) if r.lat is not None else ("", "")
    rid = str(260000000 + i)
    return {
        "_id": rid, "CMPLNT_NUM": rid, "CMPLNT_FR_DT": r.date, "CMPLNT_FR_TM": r.time,
        "ADDR_PCT_CD": "14", "RPT_DT": r.date, "KY_CD": r.ky, "OFNS_DESC": r.ofns,
        "PD_CD": r.pd_cd, "PD_DESC": r.pd_desc, "CRM_ATPT_CPTD_CD": "COMPLETED",
        "LAW_CAT_CD": r.law, "BORO_NM": "MANHATTAN", "LOC_OF_OCCUR_DESC": "INSIDE",
        "PREM_TYP_DESC": "STREET", "JURIS_DESC": "N.Y. POLICE DEPT", "JURISDICTION_CODE": "0",
        "X_COORD_CD": x, "Y_COORD_CD": y, "SUSP_AGE_GROUP": "25-44", "SUSP_RACE": "UNKNOWN",
        "SUSP_SEX": "M", "Latitude": blank(r.lat), "Longitude": blank(r.lon),
        "Lat_Lon": "" if r.lat is None else f"({r.lat}, {r.lon})",
        "PATROL_BORO": "PATROL BORO MAN SOUTH", "VIC_AGE_GROUP": "25-44", "VIC_RACE": "WHITE",
        "VIC_SEX": "F",
    }


# --- LAPD "Crime Data from 2020 to Present" ------------------------------------------------
LA_HEAD = "DR_NO|Date Rptd|DATE OCC|TIME OCC|AREA|AREA NAME|Rpt Dist No|Part 1-2|Crm Cd|Crm Cd Desc|Mocodes|Vict Age|Vict Sex|Vict Descent|Premis Cd|Premis Desc|Weapon Used Cd|Weapon Desc|Status|Status Desc|Crm Cd 1|Crm Cd 2|Crm Cd 3|Crm Cd 4|LOCATION|Cross Street|LAT|LON"
LA = table("""
code|desc|date|time|local|lat|lon|category|sensitive|fate
110|CRIMINAL HOMICIDE|03/01/2020 12:00:00 AM|2130|2020-03-01 21:30|34.0522|-118.2437|homicide|0|used
121|RAPE, FORCIBLE|03/02/2020 12:00:00 AM|5|2020-03-02 00:05|34.053|-118.244|rape|1|used
122|RAPE, ATTEMPTED|03/03/2020 12:00:00 AM|45|2020-03-03 00:45|34.054|-118.245|rape|1|used
815|SEXUAL PENETRATION W/FOREIGN OBJECT|03/04/2020 12:00:00 AM|130|2020-03-04 01:30|34.055|-118.246|rape|1|used
860|BATTERY WITH SEXUAL CONTACT|03/05/2020 12:00:00 AM|1200|2020-03-05 12:00|34.056|-118.247|sex_offenses|1|used
210|ROBBERY|03/06/2020 12:00:00 AM|1745|2020-03-06 17:45|34.057|-118.248|robbery|0|used
230|ASSAULT WITH DEADLY WEAPON, AGGRAVATED ASSAULT|03/07/2020 12:00:00 AM|2359|2020-03-07 23:59|34.058|-118.249|aggravated_assault|0|used
236|INTIMATE PARTNER - AGGRAVATED ASSAULT|03/08/2020 12:00:00 AM|1800|2020-03-08 18:00|34.059|-118.25|aggravated_assault|1|used
626|INTIMATE PARTNER - SIMPLE ASSAULT|03/09/2020 12:00:00 AM|1900|2020-03-09 19:00|34.06|-118.251|other_assaults|1|used
624|BATTERY - SIMPLE ASSAULT|03/10/2020 12:00:00 AM|2000|2020-03-10 20:00|34.061|-118.252|other_assaults|0|used
310|BURGLARY|03/11/2020 12:00:00 AM|300|2020-03-11 03:00|34.062|-118.253|burglary|0|used
330|BURGLARY FROM VEHICLE|03/12/2020 12:00:00 AM|400|2020-03-12 04:00|34.063|-118.254|larceny_theft|0|used
440|THEFT PLAIN - PETTY ($950 & UNDER)|03/13/2020 12:00:00 AM|1015|2020-03-13 10:15|34.064|-118.255|larceny_theft|0|used
510|VEHICLE - STOLEN|03/14/2020 12:00:00 AM|2200|2020-03-14 22:00|34.065|-118.256|motor_vehicle_theft|0|used
648|ARSON|03/15/2020 12:00:00 AM|100|2020-03-15 01:00|34.066|-118.257|arson|0|used
745|VANDALISM - MISDEAMEANOR ($399 OR UNDER)|03/16/2020 12:00:00 AM|1600|2020-03-16 16:00|34.067|-118.258|vandalism|0|used
510|VEHICLE - STOLEN|03/17/2020 12:00:00 AM|1700|2020-03-17 17:00|0|0|motor_vehicle_theft|0|no_location
354|THEFT OF IDENTITY|03/18/2020 12:00:00 AM|900|2020-03-18 09:00|34.068|-118.259|fraud|0|used
331|THEFT FROM MOTOR VEHICLE - GRAND ($950.01 AND OVER)|03/19/2020 12:00:00 AM|0830|2020-03-19 08:30|34.069|-118.26|larceny_theft|0|used
210|ROBBERY|11/03/2020 12:00:00 AM|1|2020-11-03 00:01|34.07|-118.261|robbery|0|used
""")


def lapd(i: int, r) -> dict:
    rid = str(200100000 + i)
    return {
        "_id": rid, "DR_NO": rid, "Date Rptd": r.date, "DATE OCC": r.date, "TIME OCC": r.time,
        "AREA": "01", "AREA NAME": "Central", "Rpt Dist No": "0111",
        "Part 1-2": "1" if GROUP.get(r.category) else "2", "Crm Cd": r.code,
        "Crm Cd Desc": r.desc, "Mocodes": "0416", "Vict Age": "30", "Vict Sex": "F",
        "Vict Descent": "H", "Premis Cd": "101", "Premis Desc": "STREET", "Status": "IC",
        "Status Desc": "Invest Cont", "Crm Cd 1": r.code, "LOCATION": "800 N  ALAMEDA ST",
        "LAT": r.lat, "LON": r.lon,
    }


# --- Philadelphia "Crime Incidents" -----------------------------------------------------
PH_HEAD = "the_geom|cartodb_id|the_geom_webmercator|objectid|dc_dist|psa|dispatch_date_time|dispatch_date|dispatch_time|hour_|dc_key|location_block|ucr_general|text_general_code|point_x|point_y|lat|lng"
PH = table("""
ucr|text|date|local|lat|lon|category|sensitive|fate
100|Homicide - Criminal|2018-06-01 23:10:00|2018-06-01 23:10|39.9526|-75.1652|homicide|0|used
200|Rape|2018-06-02 02:00:00|2018-06-02 02:00|39.953|-75.166|rape|1|used
300|Robbery Firearm|2018-06-03 14:00:00|2018-06-03 14:00|39.954|-75.167|robbery|0|used
300|Robbery No Firearm|2018-06-04 15:00:00|2018-06-04 15:00|39.955|-75.168|robbery|0|used
400|Aggravated Assault Firearm|2018-06-05 16:00:00|2018-06-05 16:00|39.956|-75.169|aggravated_assault|0|used
400|Aggravated Assault No Firearm|2018-06-06 17:00:00|2018-06-06 17:00|39.957|-75.17|aggravated_assault|0|used
500|Burglary Residential|2018-06-07 03:00:00|2018-06-07 03:00|39.958|-75.171|burglary|0|used
600|Thefts|2018-06-08 12:00:00|2018-06-08 12:00|39.959|-75.172|larceny_theft|0|used
600|Theft from Vehicle|2018-06-09 13:00:00|2018-06-09 13:00|39.96|-75.173|larceny_theft|0|used
700|Motor Vehicle Theft|2018-06-10 04:00:00|2018-06-10 04:00|39.961|-75.174|motor_vehicle_theft|0|used
800|Other Assaults|2018-06-11 18:00:00|2018-06-11 18:00|39.962|-75.175|other_assaults|0|used
900|Arson|2018-06-12 01:00:00|2018-06-12 01:00|39.963|-75.176|arson|0|used
1700|Other Sex Offenses (Not Commercialized)|2018-06-13 09:00:00|2018-06-13 09:00|39.964|-75.177|sex_offenses|1|used
1400|Vandalism/Criminal Mischief|2018-06-14 22:00:00|2018-06-14 22:00|39.965|-75.178|vandalism|0|used
1800|Narcotic / Drug Law Violations|2018-06-15 11:00:00|2018-06-15 11:00|39.966|-75.179|drug_violations|0|used
2600|All Other Offenses|2018-06-16 10:00:00|2018-06-16 10:00|39.967|-75.18|other_offenses|0|used
600|Thefts|2018-06-17 08:00:00|2018-06-17 08:00|||larceny_theft|0|no_location
800|Other Assaults|2099-06-18 08:00:00||39.968|-75.181|other_assaults|0|future_date
500|Burglary Non-Residential|2018-12-31 23:59:00|2018-12-31 23:59|39.969|-75.182|burglary|0|used
100|Homicide - Justifiable|2018-06-19 07:00:00|2018-06-19 07:00|39.97|-75.183|homicide|0|used
""")


def philadelphia(i: int, r) -> dict:
    rid = str(201803000000 + i)
    geom = "" if r.lat is None else f"0101000020E6100000{i:016X}"
    day, tm = r.date.split(" ")
    return {
        "_id": rid, "the_geom": geom, "cartodb_id": i, "the_geom_webmercator": geom,
        "objectid": 1000 + i, "dc_dist": "06", "psa": "1", "dispatch_date_time": r.date,
        "dispatch_date": day, "dispatch_time": tm, "hour_": tm[:2], "dc_key": rid,
        "location_block": "1500 BLOCK MARKET ST", "ucr_general": r.ucr,
        "text_general_code": r.text, "point_x": blank(r.lon), "point_y": blank(r.lat),
        "lat": blank(r.lat), "lng": blank(r.lon),
    }


# --- generic: ISO 8601 with Z and offsets, a Y/N domestic flag, free-text labels ------------
# Study time zone America/Chicago (the default): -05:00 in summer (CDT), -06:00 in winter.
# Labels no crosswalk table holds, placed by the synonym list (crosswalks/synonyms.csv).
GEN_HEAD = "incident_id|occurred|offense|IsDomestic|latitude|longitude"
GEN = table("""
date|local|label|domestic|category|sensitive
2018-07-01T15:00:00Z|2018-07-01 10:00|Murder & Nonnegligent Manslaughter|N|homicide|0
2018-07-01T10:00:00-05:00|2018-07-01 10:00|Rape - Forcible|N|rape|1
2018-01-15T12:00:00+00:00|2018-01-15 06:00|Rape (legacy definition)|N|rape|1
2018-07-02 08:00|2018-07-02 08:00|AGG. ASSAULT|Y|aggravated_assault|1
2018-07-03T09:30:00|2018-07-03 09:30|Robbery-Commercial|N|robbery|0
2018-07-04T23:30:00-04:00|2018-07-04 22:30|Carjacking|N|robbery|0
2018-07-05|2018-07-05 00:00|ASSAULT 1ST|N|aggravated_assault|0
2018-07-06T01:00:00Z|2018-07-05 20:00|Burglary - Residential|N|burglary|0
2018-07-07T12:00:00.000|2018-07-07 12:00|Larceny-theft|N|larceny_theft|0
2018-07-08T12:00:00-05:00|2018-07-08 12:00|Auto Theft|N|motor_vehicle_theft|0
2018-07-09T12:00:00-05:00|2018-07-09 12:00|Simple Assault|yes|other_assaults|1
2018-07-10T12:00:00-05:00|2018-07-10 12:00|Trespassing|N|trespassing|0
2018-07-11T12:00:00-05:00|2018-07-11 12:00|Trespassing|N|trespassing|0
2018-07-12T12:00:00-05:00|2018-07-12 12:00|Arson|N|arson|0
2018-07-13T12:00:00-05:00|2018-07-13 12:00|Assault - Aggravated|N|aggravated_assault|0
2018-07-14T12:00:00-05:00|2018-07-14 12:00|AGG ASSLT|N|aggravated_assault|0
2018-07-15T12:00:00-05:00|2018-07-15 12:00|Burglary of a Motor Vehicle|N|larceny_theft|0
2018-07-16T12:00:00-05:00|2018-07-16 12:00|Home Invasion|N|burglary|0
2018-07-17T12:00:00-05:00|2018-07-17 12:00|MVT - Attempt|N|motor_vehicle_theft|0
2018-07-18T12:00:00-05:00|2018-07-18 12:00|Receiving Stolen Property|N|stolen_property|0
2018-07-19T12:00:00-05:00|2018-07-19 12:00|Terroristic Threat|N|intimidation|0
2018-07-20T12:00:00-05:00|2018-07-20 12:00|Child Abuse|N|offenses_family_children|1
2018-07-21T12:00:00-05:00|2018-07-21 12:00|Human Trafficking - Commercial Sex Acts|N|human_trafficking|1
2018-07-22T12:00:00-05:00|2018-07-22 12:00|Graffiti|N|vandalism|0
2018-07-23T12:00:00-05:00|2018-07-23 12:00|Drunk Driving|N|dui|0
2018-07-24T12:00:00-05:00|2018-07-24 12:00|Robbery - Carjacking|N|robbery|0
""")


def generic(i: int, r) -> dict:
    r.lat, r.lon = round(38.60 + 0.003 * i, 4), round(-90.25 + 0.003 * i, 4)
    rid = f"G-{i:03d}"
    return {
        "_id": rid, "incident_id": rid, "occurred": r.date, "offense": r.label,
        "IsDomestic": r.domestic, "latitude": r.lat, "longitude": r.lon,
    }


if __name__ == "__main__":
    truth: list[list] = []
    emit("chicago", CHI_HEAD, CHI, chicago, "America/Chicago", truth)
    emit("chicago_no_fbi", CHI_NF_HEAD, CHI_NF, chicago, "America/Chicago", truth)
    emit("nypd", NY_HEAD, NY, nypd, "America/New_York", truth)
    emit("lapd", LA_HEAD, LA, lapd, "America/Los_Angeles", truth)
    emit("philadelphia", PH_HEAD, PH, philadelphia, "America/New_York", truth)
    emit("generic", GEN_HEAD, GEN, generic, "America/Chicago", truth)
    with open(HERE / "truth.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TRUTH)
        w.writerows(truth)
