"""``python -m sim.tournament``: see :mod:`sim.apps.tournament`."""

from sim.apps.tournament import main

if __name__ == "__main__":
    main()
