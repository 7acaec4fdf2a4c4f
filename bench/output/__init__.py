"""What is printed and drawn: lines, header, tables, the comparison's output, plot panels.

`report` (progress and summary lines, the output formats), `header` (the sweep's header),
`table` (the comparison table), `compare_output` (the output of `compare`), `verdict_table` (the
real-data verdict), `plot_data`, `plot_labels`, `plot_panels` and `plot` (the figure). Imports
`bench.results` and `bench.core`.
"""
