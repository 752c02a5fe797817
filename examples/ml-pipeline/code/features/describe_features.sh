#!/bin/sh
# FEATURES.describe_features: row count and column list of the feature table, into feature_reports.
# DSS runs shell recipes with the input dataset's files and the output folder path in variables.
set -eu

out="$DKU_OUTPUT_0_FOLDER_PATH"
in="$DKU_INPUT_0_DATASET_PATH"

{
  echo "generated: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "files: $(find "$in" -type f | wc -l)"
  echo "bytes: $(du -sb "$in" | cut -f1)"
} > "$out/feature_stats.txt"
