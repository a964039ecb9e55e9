"""Grafana dashboards as code: `python -m deploy.grafana` writes grafana/dashboards/*.json."""
