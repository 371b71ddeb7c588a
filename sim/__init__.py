"""sim: an agent-based model of how a social-media audience answers a posting strategy.

``from sim import Strategy, Plan, AccountView`` is all a strategy needs; it loads neither
Hydra nor Mesa.
"""

from sim.model.strategies import AccountView, Plan, Strategy
from sim.version import __version__

__all__ = ["AccountView", "Plan", "Strategy", "__version__"]
