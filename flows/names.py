"""Names other processes use to reach the lecture flow (the API, the S3 bridge, the
maintenance flows and `prefect.yaml` must agree; tests/test_deployments.py checks the
YAML against these)."""

PROCESS_FLOW = "process-lecture"
PROCESS_DEPLOYMENT = f"{PROCESS_FLOW}/process-lecture"
