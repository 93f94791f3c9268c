# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 Quickstart: simulate a city and read its results
#
# GridLoop simulates the Dongcheng model of grid-based city management: inspectors patrol unit
# grids and report problems, the supervision centre files them, the command centre dispatches
# them to departments, inspectors check the work and the centre closes the case. This notebook
# runs the default city for a month, reads the headline figures, the case table and the
# evaluation, and draws the overview picture.
#
# Everything here calls the `sim` package only; `gridloop run` on the command line does the same.

# %%
import os

import matplotlib.pyplot as plt

import sim

DAYS = int(os.environ.get("GRIDLOOP_NOTEBOOK_DAYS", "30"))  # CI runs the notebooks smaller

# %% [markdown]
# ## Load a scenario
# A scenario is a YAML file (`scenarios/dongcheng.yaml` is the default city). Any value can be
# overridden with a dotted key, exactly like `gridloop run --set key=value`.

# %%
scenario = sim.load_scenario("dongcheng", ["centre.dispatchers=12"], days=DAYS, seed=1)
print(scenario.name, scenario.days, "days from", scenario.start_date)
print("inspectors:", scenario.inspectors.count, " acceptors:", scenario.centre.acceptors,
      " dispatchers:", scenario.centre.dispatchers)

# %% [markdown]
# ## Run it

# %%
result = sim.simulate(scenario)
summary = result.summary()
for key in ("cases_filed_per_day", "share_found_by_inspectors", "events_share", "closure_rate",
            "on_time_handling_rate", "rework_rate"):
    print(f"{key:28s} {summary[key]}")
print("hours to close:", summary["hours_to_close"])

# %% [markdown]
# ## One row a case
# The case table has a column per step time (minutes since the start), the departments and
# the final state. Here: how long cases of each class took, in hours.

# %%
cases = result.cases
closed = cases[cases["state"] == "closed"].copy()
closed["hours"] = (closed["t_close"] - closed["t_report"]) / 60
subclass_class = [s.code.split("-")[0] for s in result.handbook.subclasses]  # C01, E02...
closed["class"] = [subclass_class[s] for s in closed["subclass"]]
closed.groupby("class")["hours"].describe()[["count", "mean", "50%", "max"]].round(1)

# %% [markdown]
# ## The standard evaluation (docs/domain.md §6)

# %%
tables = result.evaluation()
tables["departments"].sort_values("rank")[["name", "n_cases", "on_time_handling_rate",
                                          "rework_rate", "score", "grade", "rank"]]

# %% [markdown]
# ## Write the run folder and look at the overview
# `write_run` writes `events.parquet`, `cases.parquet`, `problems.parquet`, `summary.json` and
# the figures; any Parquet tool (pandas, DuckDB, R's arrow) reads them. It replaces an earlier
# run in the folder only when asked (`force=True`: this notebook may be run again).

# %%
paths = sim.write_run(result, "runs/notebook-01", force=True)
img = plt.imread(paths["overview"])
plt.figure(figsize=(10, 5))
plt.imshow(img)
plt.axis("off")
plt.show()
