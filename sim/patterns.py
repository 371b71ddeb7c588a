"""``python -m sim.patterns``: see :mod:`sim.experiment.patterns`."""

from sim.experiment.patterns import main

if __name__ == "__main__":
    main()
