"""``python -m sim.app``: the classroom page, see :mod:`sim.apps.page`;
``python -m sim.app --class``: class mode, a live tournament, see :mod:`sim.apps.class_mode.server`."""

import importlib.util
import sys

CLASS_HELP = ("\nClass mode: python -m sim.app --class [--host HOST] [--port PORT] [--seeds N] "
              "[SETTING=VALUE ...]\nserves the teacher's page and a page where students design "
              "and submit strategies, then runs\nthem all in a live tournament "
              "(python -m sim.app --class --help).")
PAGE_NEEDS = ("solara", "uvicorn", "starlette")  # the app extra's server and front end


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    missing = [m for m in PAGE_NEEDS if importlib.util.find_spec(m) is None]
    if missing:  # a user's installation, not a fault of sim: one paragraph, no traceback
        sys.stderr.write(f"sim.app: the classroom page needs {', '.join(missing)}, which "
                         f"{'is' if len(missing) == 1 else 'are'} not installed. Install the "
                         f"page's extra: python -m pip install 'sim[app]' (from a checkout: "
                         f"python -m pip install '.[app]').\n")
        sys.exit(2)
    from sim.apps import page  # noqa: PLC0415 - only once its libraries are known to be there
    from sim.apps.class_mode import server as class_mode  # noqa: PLC0415
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
