"""``python -m sim``: see :mod:`sim.apps.cli`."""

from sim.apps.cli import main

if __name__ == "__main__":
    main()
