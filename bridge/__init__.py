"""S3 event notifications into Prefect."""
