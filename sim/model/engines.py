"""Which engine runs the followers.

``engine=agents`` makes one Mesa agent per follower (about 1 KB each, a few microseconds per
hour); ``engine=vector`` keeps followers as columns (bytes per follower:
``sim.model.state.BYTES``) and runs their hour compiled. ``engine=auto`` (the default) takes
the agents for small audiences, where their per-follower records (``ties()``) are worth
having, and the arrays from ``sim.model.state.AUTO_VECTOR_FROM`` followers.
"""

from __future__ import annotations

from sim.model.state import chosen_engine


def build(cfg, strategy):
    """The model for these settings and this strategy, on the engine the settings choose."""
    if chosen_engine(cfg.engine, cfg.audience.size) == "vector":
        from sim.model.array_engine import VectorAudience  # noqa: PLC0415 - numba loads late

        return VectorAudience(cfg, strategy)
    from sim.model.agent_engine import AudienceModel  # noqa: PLC0415

    return AudienceModel(cfg, strategy)
