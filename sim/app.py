"""``python -m sim.app``: the classroom page, see :mod:`sim.apps.page`;
``python -m sim.app --class``: class mode, a live tournament, see :mod:`sim.apps.class_mode.server`."""

import sys

from sim.apps import page
from sim.apps.class_mode import server as class_mode

CLASS_HELP = ("\nClass mode: python -m sim.app --class [--host HOST] [--port PORT] [--seeds N] "
              "[SETTING=VALUE ...]\nserves the teacher's page and a page where students design "
              "and submit strategies, then runs\nthem all in a live tournament "
              "(python -m sim.app --class --help).")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if "--class" in args:
        args.remove("--class")
        class_mode.main(args)
        return
    sys.argv[1:] = args  # the page reads its options from the command line
    page.main()
    if "-h" in args or "--help" in args:
        print(CLASS_HELP)


if __name__ == "__main__":
    main()
