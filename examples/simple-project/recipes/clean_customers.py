"""CHURN.clean_customers: one row per customer with activity counts and a churn flag.

This file is the code of a DSS Python recipe, declared in projects/churn.yaml. It runs inside DSS,
where the `dataiku` package is available; dss-iac only uploads it.
"""

import dataiku
import pandas as pd

variables = dataiku.get_custom_variables()
threshold = float(variables["threshold"])
lookback_days = int(variables["lookback_days"])

customers = dataiku.Dataset("customers_raw").get_dataframe()
events = dataiku.Dataset("events_raw").get_dataframe()
events["event_date"] = pd.to_datetime(events["event_date"])

customers = customers.drop_duplicates(subset="customer_id", keep="last")
customers["email"] = customers["email"].str.strip().str.lower()

recent = events[events["event_date"] >= events["event_date"].max() - pd.Timedelta(days=lookback_days)]
counts = recent.groupby("customer_id").size().rename("events_last_period")
customers = customers.join(counts, on="customer_id").fillna({"events_last_period": 0})

# A customer with little activity relative to the most active ones is flagged as a churn risk.
activity = customers["events_last_period"] / max(customers["events_last_period"].max(), 1)
customers["churn_risk"] = activity < threshold

dataiku.Dataset("customers_clean").write_with_schema(customers)

report = dataiku.Folder("reports")
with report.get_writer("churn_summary.html") as writer:
    share = customers["churn_risk"].mean() if len(customers) else 0.0
    writer.write(f"<h1>Churn risk</h1><p>{share:.1%} of {len(customers)} customers</p>".encode())
