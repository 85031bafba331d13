"""``python -m sandbox.images build-offline TAG``: make a sandbox image with no registry."""

from __future__ import annotations

import argparse
import sys

from sandbox.engine import connect
from sandbox.errors import SandboxError
from sandbox.images.berth_image import default_tag, ensure_image
from sandbox.images.offline import build_offline_image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.images")
    sub = parser.add_subparsers(dest="command", required=True)
    offline = sub.add_parser("build-offline", help="build an image with debootstrap")
    offline.add_argument("tag")
    offline.add_argument("--suite", default="bookworm")
    offline.add_argument("--include", default="", help="comma-separated extra packages")
    offline.add_argument("--force", action="store_true", help="rebuild even if present")
    sub.add_parser("default-tag", help="print the tag of Berth's own sandbox image")
    sub.add_parser("build", help="build Berth's own sandbox image from its Dockerfile")
    args = parser.parse_args(argv)
    if args.command == "default-tag":
        print(default_tag())
        return 0
    if args.command == "build":
        try:
            ensure_image(connect(), default_tag(), lambda line: print(line, flush=True))
        except SandboxError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    try:
        build_offline_image(
            args.tag,
            suite=args.suite,
            include=[p for p in args.include.split(",") if p],
            force=args.force,
            progress=lambda line: print(line, flush=True),
        )
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
