"""``python -m sim.compare``: see :mod:`sim.experiment.compare`."""

from sim.experiment.compare import main

if __name__ == "__main__":
    main()
