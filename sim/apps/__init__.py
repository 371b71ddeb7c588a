"""The faces: the command line (``python -m sim``), the classroom page (``python -m sim.app``),
class mode (``python -m sim.app --class``) and the tournament (``python -m sim.tournament``).
Nothing imports this floor."""
