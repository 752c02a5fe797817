"""SCORING.prepare_scoring_input: the population to score, with its features from FEATURES."""

import dataiku

population = dataiku.Dataset("scoring_population").get_dataframe()
features = dataiku.Dataset("FEATURES.customer_features").get_dataframe()

scoring_input = population.merge(features, on="customer_id", how="left")
missing = scoring_input["transactions"].isna().sum()
print(f"{missing} customers of the population have no features and get default values")
scoring_input = scoring_input.fillna(0)

dataiku.Dataset("scoring_input").write_with_schema(scoring_input)
