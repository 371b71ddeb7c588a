"""sim: an agent-based model of how a social-media audience answers a posting strategy."""

__version__ = "0.1.0"

from sim.strategies import AccountView, Plan, Strategy  # noqa: E402

__all__ = ["AccountView", "Plan", "Strategy", "__version__"]
