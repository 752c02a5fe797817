"""ORDERS.clean_orders: drop orders below the environment's minimum amount."""

import dataiku

min_amount = float(dataiku.get_custom_variables()["min_amount"])
orders = dataiku.Dataset("orders_raw").get_dataframe()
dataiku.Dataset("orders_clean").write_with_schema(orders[orders["amount"] >= min_amount])
