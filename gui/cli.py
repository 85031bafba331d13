"""The ``berth`` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    print("berth: the app is not built yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
