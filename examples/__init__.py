"""The example workspaces, shipped as `dataiku_iac.examples` so that `dss-iac init` can copy them."""
