"""SCORING.score_customers: the churn probability of every customer of the scoring input."""

import datetime
import pickle

import dataiku

FEATURES = ["total_spend", "mean_basket", "transactions", "sessions", "mean_session_minutes"]

variables = dataiku.get_custom_variables()
scoring_date = variables["scoring_date"] or datetime.date.today().isoformat()

with dataiku.Folder("model_artifacts").get_download_stream(f"{variables['model_name']}.pkl") as stream:
    model = pickle.loads(stream.read())

data = dataiku.Dataset("scoring_input").get_dataframe()
scores = data[["customer_id", "campaign"]].copy()
scores["churn_probability"] = model.predict_proba(data[FEATURES])[:, 1]
scores["scoring_date"] = scoring_date

dataiku.Dataset("scores").write_with_schema(scores)
