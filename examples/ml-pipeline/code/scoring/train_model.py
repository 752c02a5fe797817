"""SCORING.train_model: fit a churn classifier on FEATURES.customer_features and the labels."""

import json
import pickle

import dataiku
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split

FEATURES = ["total_spend", "mean_basket", "transactions", "sessions", "mean_session_minutes"]

features = dataiku.Dataset("FEATURES.customer_features").get_dataframe()
labels = dataiku.Dataset("churn_labels").get_dataframe()
data = features.merge(labels, on="customer_id")

x_train, x_test, y_train, y_test = train_test_split(data[FEATURES], data["churned"], test_size=0.2,
                                                    random_state=0)
model = GradientBoostingClassifier(random_state=0).fit(x_train, y_train)

folder = dataiku.Folder("model_artifacts")
model_name = dataiku.get_custom_variables()["model_name"]
with folder.get_writer(f"{model_name}.pkl") as writer:
    writer.write(pickle.dumps(model))
with folder.get_writer("metrics.json") as writer:
    writer.write(json.dumps({"accuracy": model.score(x_test, y_test), "rows": len(data)}).encode())
