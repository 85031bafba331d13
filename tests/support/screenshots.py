"""What the docs/ screenshot scripts share: the window as a user launches it, waiting on
it, and saving the picture then cleaning up (the conversation's container and volume go
with it)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtTest import QTest


def open_window(server, image: str, size: tuple[int, int] = (1400, 880)):
    """The app and its main window on ``server``'s scripted model, shown and exposed."""
    import tempfile

    from pydantic import SecretStr

    from agent.llm.process import use_helper_process
    from gui.app import make_application
    from gui.main_window import MainWindow
    from gui.settings.app_settings import AppSettings

    make_application([])
    use_helper_process().start()
    settings = AppSettings(
        llm_model=server.model,
        llm_base_url=server.base_url,
        llm_api_key=SecretStr("sk-shot"),
        sandbox_image=image,
    )
    window = MainWindow(settings, persistence_dir=tempfile.mkdtemp(), preload=False)
    window.resize(*size)
    window.show()
    QTest.qWaitForWindowExposed(window)
    return window


def wait(window, predicate: Callable[[], bool], ms: int = 120_000) -> None:
    for _ in range(ms // 50):
        if predicate():
            return
        QTest.qWait(50)
    raise SystemExit(f"timed out; status={window.status_label.text()}")


def save_and_close(window, default_path: str, server=None) -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else default_path
    window.grab().save(out)
    print("saved", out)
    close_and_clean(window, server)


def close_and_clean(window, server=None) -> None:
    """Close the window; its conversation goes, with its container and volume."""
    conversation = window.session.conversation
    window.shutdown()
    window.close()
    if conversation is not None:
        conversation.delete(remove_container=True)
    if server is not None:
        server.stop()
