"""FEATURES.clean_transactions: valid transactions of customers with enough history."""

import dataiku

min_transactions = int(dataiku.get_custom_variables()["min_transactions"])

tx = dataiku.Dataset("transactions_raw").get_dataframe()
tx = tx.dropna(subset=["customer_id", "amount"])
tx = tx[tx["amount"] > 0].drop_duplicates(subset="transaction_id")

per_customer = tx.groupby("customer_id")["transaction_id"].transform("count")
tx = tx[per_customer >= min_transactions]

dataiku.Dataset("transactions_clean").write_with_schema(tx)
