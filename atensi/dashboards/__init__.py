"""Dashboards of an organisation, a region and Indonesia, composed from every app's figures."""
