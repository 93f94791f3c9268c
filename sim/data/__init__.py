"""The data layer: what a scenario says, read and checked at the boundary.

`yamlfile` (YAML with line numbers), `overlay` (``base:`` chains), `scenario` (the frozen
scenario models, ``--set`` overrides, JSON Schema), `distributions` (`Dist`, samplers),
`taxonomy` (classes, subclasses, the dispatch handbook), `governance` (governance keys),
`citymap` (unit grids, beats, walking legs) and `citygen` (synthetic cities); `textfile`,
`limits` and `resources` bound what is read and run. Imports only `sim.errors` and the leaf
`sim.outputs.csvcells` from outside the package.
"""
