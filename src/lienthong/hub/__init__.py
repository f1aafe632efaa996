"""The exchange hub: directory, intake, delivery, audit, national-platform API, REST API."""
