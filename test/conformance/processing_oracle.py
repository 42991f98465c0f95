"""Independent model of dataman's processing (behaviour.md §4, §9; raw-format.md §8.2), written
from the specification with astropy and numpy, for conformance tests. Not the reference code.

Usage: python3 processing_oracle.py RAW MERGED_OUT SITE_JSON SENSORS_JSON
Prints a JSON object with the expected keyword values; writes the expected MERGED data unit
(big-endian float32, no padding) to MERGED_OUT.
"""
import json
import math
import sys
import warnings

import numpy as np
from astropy import units as u
from astropy.coordinates import Angle, EarthLocation, SkyCoord
from astropy.io import fits
from astropy.time import Time, TimeDelta
from astropy.utils import iers

iers.conf.auto_download = False
warnings.simplefilter("ignore")

raw_path, merged_out, site_json, sensors_json = sys.argv[1:5]
site = json.loads(site_json)
sensors = json.loads(sensors_json)
expect = {"primary": {}, "images": [], "merged": {}, "absent": []}
P = expect["primary"]

with fits.open(raw_path) as hdul:
    names = [h.name for h in hdul]
    def ext(*candidates):
        for c in candidates:
            if c in names:
                return hdul[names.index(c)]
        raise KeyError(candidates)
    p = hdul[0].header
    ims = [ext(f"IM{n}", f"Q{n}") for n in (1, 2, 3, 4)]
    h1 = ims[0].header
    nc, nr, ncb = h1["NAXIS1"], h1["NAXIS2"], h1["OVRSCAN1"]
    bx, by = (int(v) for v in h1["CCDSUM"].split())
    c0, r0 = int(p["REF-PIX1"]), int(p["REF-PIX2"])

    # fixDETSEC, corrected and binning-aware: an amplifier covers w x h detector pixels.
    w, h = (nc - ncb) * bx, nr * by
    lower, upper = f"{r0 - h + 1}:{r0}", f"{r0 + 1}:{r0 + h}"
    left, right = f"{c0 - w + 1}:{c0}", f"{c0 + w}:{c0 + 1}"
    detsec = [f"[{left},{lower}]", f"[{right},{lower}]", f"[{left},{upper}]", f"[{right},{upper}]"]
    modsquad = ["Q3 flip cols", "Q4 flip rows and cols", "Q1 flip cols", "Q2 flip rows and cols"]
    for i in range(4):
        e = {"DETSEC": detsec[i], "CCDSEC": detsec[i], "MODSQUAD": modsquad[i]}
        if bx == 1 and by == 1:
            if i in (1, 3):
                e["LTV1"] = c0 + nc - ncb + 1
            if i in (2, 3):
                e["LTV2"] = -r0
        expect["images"].append(e)

    # fixDateTime: ISO DATE-OBS (".1000" carried into the seconds), MJD/HJD/BJD with astropy.
    if "DATE-OBS" in p and "UTC-OBS" in p:
        date, utc = p["DATE-OBS"], p["UTC-OBS"]
        hms, frac = utc.split(".")
        if frac == "1000":
            t = Time(f"{date}T{hms}.000", scale="utc") + TimeDelta(1, format="sec")
            iso = t.isot
        else:
            iso = f"{date}T{utc}"
        P["DATE-OBS"] = iso
        loc = EarthLocation.from_geodetic(lon=site["longitude"] * u.deg, lat=site["latitude"] * u.deg, height=site["height"] * u.m)
        t = Time(iso, format="isot", scale="utc", location=loc)
        P["MJD-OBS"] = t.mjd
        if "TELRA" in p and "TELDEC" in p:
            c = SkyCoord(p["TELRA"], p["TELDEC"], unit=(u.hourangle, u.deg), frame="icrs")
            P["HJD-OBS"] = (t.utc + t.light_travel_time(c, "heliocentric")).mjd
            P["BJD-OBS"] = (t.tdb + t.light_travel_time(c, "barycentric")).mjd
        else:
            expect["absent"] += ["HJD-OBS", "BJD-OBS"]

    # fixTemps from CONPARS (found by name); a value that is not a finite number reads -999.9.
    if "INSTRUME" in p:
        wiring = sensors.get(p["INSTRUME"].upper(), sensors["default"])
        rows = {}
        if "CONPARS" in names:
            t = hdul["CONPARS"].data
            rows = {k.strip(): v.strip() for k, v in zip(t["Keyword"], t["Value"])}
        def temp(key):
            try:
                v = float(rows[key])
                return v if math.isfinite(v) else -999.9
            except (KeyError, ValueError):
                return -999.9
        P["CCDTEMP"] = temp(wiring["ccd"])
        P["BASETEMP"] = temp(wiring["base"])
        P["ARCHTEMP"] = temp("BACKPLANE_TEMP")

    # fixMisc.
    def degrees(key):
        try:
            return Angle(p[key], unit=u.deg).degree
        except Exception:
            return None
    alt, az = degrees("TELALT"), degrees("TELAZ")
    if alt is not None and az is not None:
        P["TELALT"], P["TELAZ"] = alt, az
    P["ZD"] = 90.0 - alt if alt is not None else -99.99
    link = p.get("LBTWLINK")
    try:
        P["LBTWLINK"] = "Up" if int(link) == 1 else "Down"
    except (TypeError, ValueError):
        P["LBTWLINK"] = "Unknown"
    P["CCDROI"] = f"[{c0 - w + 1}:{c0 + w},{r0 - h + 1}:{r0 + h}]"
    P["CCDXBIN"], P["CCDYBIN"] = bx, by
    P["OBJNAME"] = p["OBJECT"] if "OBJECT" in p else "None"
    P.update({"OBJRADEC": "FK5", "OBJEQUIN": "J2000", "OBJEPOCH": 2000.0, "GUINAME": "None", "GUIRADEC": "FK5",
              "GUIEQUIN": "J2000", "GUIPMRA": 0.0, "GUIPMDEC": 0.0, "GUIEPOCH": 2000.0})
    for key in ("NSTYPE", "NSEPHFIL"):
        v = p.get(key)
        P[key] = v if isinstance(v, str) and v.strip() else "None"
    if "NONSIDER" in p:
        v = p["NONSIDER"]
        P["NONSIDER"] = bool(float(v)) if isinstance(v, str) else bool(v)
    expect["absent"].append("NEXTEND")
    if "IMAGETYP" in p:
        P["IMAGETYP"] = p["IMAGETYP"].upper()

    # makeOTM: median/std of the overscan (2 rows and 2 columns skipped), trimmed, flipped, merged.
    xtrim = nc - ncb
    stats, trimmed = [], []
    for im in ims:
        d = im.data.astype(np.float64)
        region = d[2:-2, xtrim + 2:nc]
        med, std = np.median(region), np.std(region)
        stats.append((med, std))
        trimmed.append(d[:, :xtrim] - med)
    q = [np.flipud(trimmed[2]), np.flipud(np.fliplr(trimmed[3])), np.flipud(trimmed[0]), np.flipud(np.fliplr(trimmed[1]))]
    mosaic = np.zeros((2 * nr, 2 * xtrim), dtype=np.float32)
    mosaic[:nr, :xtrim], mosaic[:nr, xtrim:], mosaic[nr:, :xtrim], mosaic[nr:, xtrim:] = q
    mosaic.astype(">f4").tofile(merged_out)
    for n, src in enumerate((2, 3, 0, 1), start=1):
        expect["merged"][f"Q{n}BIAS"] = float(stats[src][0])
        expect["merged"][f"Q{n}STD"] = float(stats[src][1])
    expect["merged"]["NAXIS1"], expect["merged"]["NAXIS2"] = 2 * xtrim, 2 * nr

print(json.dumps(expect))
