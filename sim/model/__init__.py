"""The model: what a follower does in an hour (:mod:`sim.model.rules`), who the followers are
(:mod:`~sim.model.traits`, :mod:`~sim.model.state`), what the account posts
(:mod:`~sim.model.strategies`), and the two engines that schedule the rules
(:mod:`~sim.model.agent_engine`, :mod:`~sim.model.array_engine`). Nothing here reads Hydra,
OmegaConf or matplotlib: the model takes settings as plain attribute trees."""
