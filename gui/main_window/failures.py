"""Failures a user can act on, wired into the main window.

- An LLM error the engine calls retryable ends the run in ERROR: a banner above the
  composer says so, with Retry (which runs again through the worker).
- The sandbox image is missing: a dialog offers to build it (gui/settings/image_build.py), then the
  conversation starts with the message the user typed.
- The agent finished, failed or waits for approval while the window is not active: a window
  alert, and a tray message where there is a tray (gui/sessions/notify.py).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QBoxLayout, QWidget

from agent.events import AgentErrorEvent, Event
from agent.status import AgentStatus
from gui.main_window.composer import Composer
from gui.main_window.error_banner import ErrorBanner
from gui.main_window.status_bar import StatusBar
from gui.sessions.notify import Notifier
from gui.sessions.open_conversations import OpenConversations
from gui.settings.image_build import ImageBuilder


class FailureHandling(QObject):
    """Owns the LLM error banner, the image builder and the notifier of one window.

    It is handed the parts it works with, not the window, so the window's module and this
    one do not import each other: the banner goes right above ``banner_above`` (in its
    layout); ``on_start_failed`` shows a start failure as the window does any other."""

    def __init__(
        self,
        window: QWidget,
        conversations: OpenConversations,
        status_bar: StatusBar,
        *,
        banner_above: QWidget,
        on_start_failed: Callable[[str], None],
        on_open_settings: Callable[[], None],
        composer: Composer,
    ) -> None:
        super().__init__(window)
        self._conversations = conversations
        self._status_bar = status_bar
        self._on_start_failed = on_start_failed
        self._composer = composer
        self._llm_error: AgentErrorEvent | None = None
        self.banner = ErrorBanner(window)
        # Under the stream, above the confirmation bar and the composer.
        area = banner_above.parentWidget()
        layout = area.layout() if area is not None else None
        if isinstance(layout, QBoxLayout):
            layout.insertWidget(layout.indexOf(banner_above), self.banner)
        self.image_builder = ImageBuilder(window)
        self.notifier = Notifier(window, window.windowTitle() or "Berth")

        s = conversations  # the shown conversation's signals
        s.event_recorded.connect(self._on_event)
        s.status_changed.connect(self._on_status)
        s.run_ended.connect(self._on_run_finished)
        self.banner.retry_clicked.connect(self.retry)
        self.banner.settings_clicked.connect(on_open_settings)
        self.image_builder.built.connect(self._on_image_built)
        self.image_builder.cancelled.connect(self._on_build_stopped)
        self.image_builder.failed.connect(self._on_build_failed)

    # --- LLM errors -------------------------------------------------------------------------

    def retry(self) -> None:
        """Run again from where the failed call stopped (the engine retries after ERROR)."""
        self.banner.retry_button.setEnabled(False)
        self._conversations.current.resume()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, AgentErrorEvent):
            # Retryable, or with a fix the user can make (the key, the model): a banner.
            shown = event.source == "llm" and (event.retryable or event.in_settings)
            self._llm_error = event if shown else None

    def _on_status(self, status: AgentStatus, _detail: str) -> None:
        if status is AgentStatus.RUNNING and not self.banner.isHidden():
            self.banner.hide()
            self._llm_error = None
            self._composer.error_hint = ""
        if status is AgentStatus.WAITING_FOR_CONFIRMATION:
            self.notifier.maybe_notify(status)

    def _on_run_finished(self, status: AgentStatus) -> None:
        error = self._llm_error
        if status is AgentStatus.ERROR and error is not None:
            self.banner.show_error(error.message, error.hint, in_settings=error.in_settings)
            self._composer.error_hint = error.hint
            self._composer.hint.setText(error.hint or self._composer.hint.text())
        if status is not AgentStatus.WAITING_FOR_CONFIRMATION:  # said when it began waiting
            self.notifier.maybe_notify(status)

    def reset(self) -> None:
        """Another conversation is shown: the banner was about the one before."""
        self._llm_error = None
        self._composer.error_hint = ""
        self.banner.hide()

    # --- the image --------------------------------------------------------------------------

    def on_image_missing(self, image: str, message: str) -> None:
        # In the stream and the status bar like any start failure, plus the way out.
        self._on_start_failed(message)
        self.image_builder.offer(image, message)

    def _on_image_built(self, image: str) -> None:
        self._conversations.current.start()

    def _on_build_stopped(self, message: str) -> None:
        self._status_bar.show_error(message)

    def _on_build_failed(self, message: str) -> None:
        self._status_bar.show_error("Building the sandbox image failed")
        self.image_builder.offer_failed(message)
