"""Reports that compose several apps: the monthly report of an organisation."""
