"""The ``berth`` command: the app, ``berth run TASK`` in a terminal, ``--self-test``, or
``build-proxy-image`` (the network door's proxy, built once per engine).

Heavy imports (Qt, litellm, docker) happen only in the branch that needs them.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        from agent.cli.main import main as run_in_terminal

        return run_in_terminal(argv[1:])
    if argv[:1] == ["--llm-helper"]:  # the app's own helper process (agent/llm_process.py)
        from agent.llm.helper import serve

        return serve()
    if "--self-test" in argv:
        from gui.self_test import run_self_test

        return run_self_test()
    if argv[:1] == ["build-proxy-image"]:
        return _build_proxy_image()
    if argv[:1] in (["-h"], ["--help"]):
        print(
            "usage: berth                 start the app\n"
            "       berth run TASK [--workspace DIR] [--image IMAGE]\n"
            "                             run the agent in this terminal\n"
            "       berth --self-test     check this installation and exit\n"
            "       berth build-proxy-image\n"
            "                             build the network proxy's image (needs pip)"
        )
        return 0
    from gui.app import run_app

    return run_app(argv)


def _build_proxy_image() -> int:
    from sandbox import SandboxError
    from sandbox.network_door.image import build

    try:
        tag = build(lambda line: print(line, flush=True))
    except SandboxError as exc:
        print(f"berth: {exc}", file=sys.stderr)
        return 1
    print(f"The network proxy's image is ready: {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
