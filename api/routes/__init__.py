"""The API's routers: jobs, files, the results page and server info."""
