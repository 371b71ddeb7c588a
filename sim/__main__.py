"""``python -m sim``: see :mod:`sim.cli`."""

from sim.cli import main

if __name__ == "__main__":
    main()
