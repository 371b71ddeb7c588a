"""Output: a run's tables, its figure, and writing files whole (temporary name, then rename)."""
