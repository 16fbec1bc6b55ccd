"""GraphTwin server package."""
