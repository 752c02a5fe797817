"""CI/CD integration: pipeline files for GitHub Actions and GitLab CI (`dss-iac init --ci`), and the pull-request
comment that sums up validation, plans, drift and test results (`dss-iac ci comment`). See docs/ci-cd.md."""
