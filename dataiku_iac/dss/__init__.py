"""Talking to DSS: client factory, transient-fault retries and call accounting."""
