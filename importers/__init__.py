"""GraphTwin importers package."""
