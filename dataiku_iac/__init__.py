"""dataiku-iac: Git-native, declarative infrastructure-as-code for Dataiku DSS."""

__version__ = "0.1.0"
