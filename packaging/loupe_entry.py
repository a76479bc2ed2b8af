"""The frozen app's entry point: the same `loupe` command as the console script.

`Loupe` with no arguments opens the window; `Loupe --self-test` runs the smoke test; `Loupe train ...`
is how the training supervisor starts its child process from the bundle (the same executable).
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # Data-loader workers in a frozen app re-run this executable; let them start as workers.
    multiprocessing.freeze_support()
    from desktop.cli import main

    sys.exit(main())
