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
# # 02 Staffing what-if: how many inspectors and dispatchers does the city need?
#
# A planner's question: if we cut inspectors, how much later are problems found, and does the
# command centre keep up if we also cut dispatchers? This notebook sweeps both levers over the
# default city with replications on common random numbers (replication k sees the same
# problems at every staffing level), reads the results as one tidy table, and draws response
# curves with confidence intervals. `gridloop sweep` does the same from the command line.

# %%
import os

import matplotlib.pyplot as plt

from sim.experiment import differences, load_results, run_sweep, summarize, write_report

DAYS = int(os.environ.get("GRIDLOOP_NOTEBOOK_DAYS", "30"))
REPS = int(os.environ.get("GRIDLOOP_NOTEBOOK_REPS", "5"))

# %% [markdown]
# ## The sweep
# A full factorial over two dotted scenario keys, the same keys `gridloop run --set` accepts.
# Finished replications are kept on disk: rerunning this cell with the same arguments skips
# them.

# %%
run = run_sweep("dongcheng",
                ["inspectors.count=250,350,432", "centre.dispatchers=6,12"],
                reps=REPS, days=DAYS, seed=2015, out="runs/staffing")
print(f"{run.tasks_run} of {run.tasks_total} tasks run now, results in {run.folder}")

# %% [markdown]
# ## One row a point, replication and KPI

# %%
results = load_results(run.folder)
results.head()

# %% [markdown]
# ## Means with 95% t intervals

# %%
kpis = ["mean_hours_to_discovery", "share_found_by_inspectors", "on_time_handling_rate"]
table = summarize(run.folder)
table[table["kpi"].isin(kpis)].pivot_table(index="label", columns="kpi", values="mean").round(3)

# %% [markdown]
# ## Response curves

# %%
fig, axes = plt.subplots(1, len(kpis), figsize=(4 * len(kpis), 3.2))
for ax, kpi in zip(axes, kpis, strict=True):
    rows = table[table["kpi"] == kpi]
    for dispatchers, group in rows.groupby("centre.dispatchers"):
        group = group.sort_values("inspectors.count")
        ax.errorbar(group["inspectors.count"], group["mean"], yerr=group["half_width"],
                    marker="o", capsize=3, label=f"{dispatchers} dispatchers")
    ax.set_xlabel("inspectors")
    ax.set_title(kpi.replace("_", " "), fontsize=9)
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Paired differences against the first point
# Common random numbers make paired intervals much narrower than comparing two independent
# sets of runs; several comparisons are Bonferroni-corrected.

# %%
diff = differences(run.folder)
diff[diff["kpi"].isin(kpis)][["label", "kpi", "difference", "low", "high", "significant"]]

# %% [markdown]
# ## The report
# One self-contained HTML file (figures embedded, works offline) to send to colleagues.

# %%
print(write_report(run.folder))
