"""The `highlights` command line."""
