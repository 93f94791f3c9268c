"""Runs out to other tools' formats (docs/maps-and-export.md).

    open311    the cases as an Open311 GeoReport v2-style CSV (a city's case log)
    ocel       the event log as an OCEL 2.0 JSON object-centric event log
    command    ``gridloop export RUN_DIR --format open311|ocel``
"""
