"""FEATURES.build_features: one row per customer, read by SCORING as FEATURES.customer_features."""

import dataiku

customers = dataiku.Dataset("customers_raw").get_dataframe()
tx = dataiku.Dataset("transactions_clean").get_dataframe()
sessions = dataiku.Dataset("web_sessions").get_dataframe()

spend = tx.groupby("customer_id")["amount"].agg(total_spend="sum", mean_basket="mean", transactions="count")
web = sessions.groupby("customer_id")["duration_minutes"].agg(sessions="count", mean_session_minutes="mean")

features = customers.set_index("customer_id").join(spend, how="inner").join(web).fillna(
    {"sessions": 0, "mean_session_minutes": 0.0})
features = features.reset_index()

dataiku.Dataset("customer_features").write_with_schema(features)
