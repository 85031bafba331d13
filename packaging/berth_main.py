"""The bundle's entry point: the same ``berth`` command the wheel installs."""

import sys

from gui.cli import main

if __name__ == "__main__":
    sys.exit(main())
