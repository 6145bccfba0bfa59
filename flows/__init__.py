"""Prefect flows: the lecture pipeline and the maintenance flows deployments run."""
