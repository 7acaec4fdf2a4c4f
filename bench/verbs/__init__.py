"""The command lines: `python -m bench` (`cli`, `flags`, `settings`), `python -m bench compare`
(`compare_cli`) and `python -m bench plot` (`plot_cli`), `python -m bench make-data`
(`make_data_cli`). The top floor: nothing imports it.
"""
