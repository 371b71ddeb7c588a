"""``python -m sim.calibrate``: see :mod:`sim.experiment.calibrate`."""

from sim.experiment.calibrate import main

if __name__ == "__main__":
    main()
