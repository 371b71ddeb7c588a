"""``python -m sim.sensitivity``: see :mod:`sim.apps.sensitivity` (the command line) and
:mod:`sim.experiment.sensitivity` (designs, runs and analysis)."""

from sim.apps.sensitivity import main

if __name__ == "__main__":
    main()
