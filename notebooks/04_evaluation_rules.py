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
# # 04 Evaluation rules: the same city under different yardsticks
#
# Evaluation rules are data (`scenarios/rules/*.yaml`, documented in `docs/rules.md`). This
# notebook scores one simulated month under each bundled rule set, shows how rankings move,
# writes a rule set of its own, and then turns on the behaviour model, in which units react to
# what is measured: changing only the rule set changes how the city works.

# %%
import os
from pathlib import Path

import pandas as pd

import sim
from sim.rules import bundled_rules, evaluate_rules, load_rules
from sim.rules.runlog import read_run_log

DAYS = int(os.environ.get("GRIDLOOP_NOTEBOOK_DAYS", "30"))

# %% [markdown]
# ## One run, four rule sets
# Evaluation reads only the event log, so one run can be scored under any rule set; `gridloop
# evaluate RUN_DIR --rules NAME` does the same from the command line.

# %%
result = sim.simulate(sim.load_scenario("small-town", days=DAYS, seed=4))
run_dir = Path("runs/notebook-04")
sim.write_run(result, run_dir, figure=False, force=True)  # force: the notebook may rerun
log = read_run_log(run_dir)
print(bundled_rules())

# %%
def leagues(rules_name: str) -> dict[str, pd.DataFrame]:
    """Every league table of a rule set: score, grade and rank per unit, by kind of unit."""
    rules = load_rules(rules_name)
    tables = evaluate_rules(rules, log.events, log.roster, horizon=log.horizon, calls=log.calls)
    return {kind: t.set_index("name")[["score", "grade", "rank"]] for kind, t in tables.items()}


# A rule set judges only the kinds of unit it names; subdistricts appear in every preset.
ranks = pd.concat({name: leagues(name)["subdistricts"]["rank"] for name in bundled_rules()},
                  axis=1)
ranks

# %% [markdown]
# ## A rule set of one's own
# Start from the standard rule set and judge departments on timeliness alone. Formulas are
# checked when the file is read: a typo names the file, line and what was expected.

# %%
mine = Path("runs/on-time-only.yaml")
mine.write_text("""\
name: on-time-only
description: departments judged only on handling within the limit
period: month
grades: {A: 90, B: 75, C: 60, D: 40, E: 0}
exclude: [suspended]
units:
  departments:
    indicators:
      - name: on_time_handling_rate
        formula: ratio(handled_on_time, due, 1)
        weight: 1.0
""")
pd.concat({"standard": leagues("standard")["departments"],
           "on-time-only": leagues(str(mine))["departments"]}, axis=1)

# %% [markdown]
# A formula over a count that does not exist is refused with its place in the file:

# %%
bad = Path("runs/bad-rules.yaml")
bad.write_text(mine.read_text().replace("handled_on_time", "handled_in_time"))
try:
    load_rules(str(bad))
except sim.GridLoopError as e:
    print(e)

# %% [markdown]
# ## Units react to what is measured
# With `evaluation.behaviour.enabled=true`, departments, inspectors and subdistricts shift effort
# by the active rule set's weights (docs/behaviour.md). Same city, same random streams, only the
# rule set differs.

# %%
rows = {}
for name in ("standard", "points-deduction", "three-rates"):
    sc = sim.load_scenario("small-town", [f"evaluation.rules={name}",
                                          "evaluation.behaviour.enabled=true"],
                           days=DAYS, seed=4)
    s = sim.simulate(sc).summary()
    rows[name] = {k: s[k] for k in ("on_time_handling_rate", "rework_rate", "closure_rate",
                                     "cases_filed")} | {"mean_hours_to_close":
                                                        s["hours_to_close"]["mean"]}
pd.DataFrame(rows).T
