"""The HTTP API data plane."""
