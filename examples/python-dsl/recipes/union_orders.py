"""SALES.union_orders: the orders of every region in one dataset, with a `region` column.

This file is the code of a DSS Python recipe, declared in projects/sales.py. It runs inside DSS,
where the `dataiku` package is available; dss-iac only uploads it. It reads whatever inputs the
recipe has, so a region added to projects/sales.py needs no change here.
"""

import dataiku
import pandas as pd
from dataiku import recipe

frames = []
for dataset in recipe.get_inputs_as_datasets():
    frame = dataset.get_dataframe()
    frame["region"] = dataset.short_name.removeprefix("orders_")
    frames.append(frame)

dataiku.Dataset("orders_all").write_with_schema(pd.concat(frames, ignore_index=True))
