"""``python -m sim.collect``: see :mod:`sim.experiment.collect`."""

from sim.experiment.collect import main

if __name__ == "__main__":
    main()
