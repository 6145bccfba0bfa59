"""HTTP API and results page."""
