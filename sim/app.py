"""``python -m sim.app``: the classroom page, see :mod:`sim.apps.page`."""

from sim.apps.page import main

if __name__ == "__main__":
    main()
