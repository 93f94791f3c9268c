"""Bring your own city: a city's handbook and case log in, a calibrated scenario out, and a
side-by-side check of a simulation against the log (docs/import.md).

    caselog        read and check a case log (Open311 GeoReport v2 columns + lifecycle times)
    convert        a case log as the event log of docs/event-log.md
    handbook_csv   a handbook CSV as handbook YAML
    fitting        arrival rates, overdispersion, handling-time distributions (scipy.stats)
    calibrate      a scenario fitted to a case log
    fromrun        a simulated run written as a case log (examples and tests)
    validate       a run against a case log, as an HTML report and CSV tables
"""
