"""Logs (key=value, secrets redacted) and Prometheus metrics."""
