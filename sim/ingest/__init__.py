"""Bring your own city: a city's handbook and case log in, a calibrated scenario out, and a
side-by-side check of a simulation against the log (docs/import.md).

    mapping        a mapping file: a city's raw export's columns, formats, zone and words
    mappingtemplate  a starting mapping from a raw export's header and first rows
    rawlog         a raw export read through a mapping: typed rows, or rejections with reasons
    citytypes      the city's taxonomy: types -> subclasses, agencies -> departments, limits
    cityimport     raw export + mapping -> case log, handbook, grids (import-log, calibrate,
                   validate-against --mapping)
    caselog        read and check a case log (Open311 GeoReport v2 columns + lifecycle times)
    convert        a case log as the event log of docs/event-log.md
    handbook_csv   a handbook CSV as handbook YAML
    citycodes      a stand-in grid table from the grid codes a log names
    fitting        overdispersion, independence and handling-time fits (scipy.stats)
    calibrate      what the log says in the scenario's terms (`Estimates`)
    servicefit     crews and work per department; waiting no crew controls (deconvolution)
    pilots         pilot runs: the load, the channel mix and the waits steered onto the log
    scenario_yaml  `calibrate`: the commented scenario, handbook, city and tables
    validate       a run against a case log: the same measures on both (`Comparison`)
    report_html    the comparison as one offline HTML file and CSV tables
    fromrun        a simulated run written as a case log (examples and tests)
    cli            the `gridloop` subcommands
"""
