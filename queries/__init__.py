"""GraphTwin queries package."""
