"""The sandbox image is missing: offer to build it, off the GUI thread, with progress.

Cancel stops the window waiting at once; the build gives up at its next progress line (a
build step the Docker engine already runs may still finish there), and whatever it reports
later is ignored. The build can take minutes, so it runs as long-running background work
(gui.background): a daemon thread of its own that never keeps the app from quitting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from gui.background import Background, Job

log = logging.getLogger(__name__)


def build_image(tag: str, progress: Callable[[str], None] | None = None) -> None:
    """Get ``tag`` onto the engine: Berth's Dockerfile (or a pull), else from Debian's packages.

    Runs on a background thread; raises a sandbox error with what to do when both fail.
    ``progress`` gets each line of output; an exception it raises (gui.background's
    ``Cancelled``) stops the build there.
    """
    from sandbox.engine import connect
    from sandbox.errors import ImageBuildError, ImageMissingError
    from sandbox.images.berth_image import default_tag, ensure_image
    from sandbox.images.offline import build_offline_image

    def report(line: str) -> None:
        if progress is not None:
            progress(line)

    client = connect()
    try:
        ensure_image(client, tag, report)
        return
    except (ImageBuildError, ImageMissingError) as exc:
        # No registry reachable: build a stand-in from Debian's packages under that tag.
        report(f"{exc}\nBuilding {tag} from Debian's packages instead…")
    include = ("python3", "python3-pip", "git", "curl", "ca-certificates")
    build_offline_image(
        tag, client=client, include=include if tag == default_tag() else (), progress=report
    )


class ImageBuilder(QObject):
    """Asks, builds with a cancellable progress dialog, and says how it went.

    ``built`` fires once the image is on the engine (the caller starts the conversation).
    """

    built = Signal(str)
    cancelled = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._background = Background(self)
        self._job: Job | None = None
        self._tag = ""
        self.dialog: QMessageBox | None = None
        self.progress: QProgressDialog | None = None

    def offer(self, tag: str, message: str) -> None:
        """Show the non-blocking "image missing" dialog for ``tag``."""
        if self.dialog is not None:
            self.dialog.close()
        box = QMessageBox(self._parent)
        box.setObjectName("image_missing_dialog")
        box.setWindowTitle("Sandbox image missing")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(f"The sandbox image {tag} is not on the Docker engine.")
        box.setInformativeText(
            f"{message}\n\nBuild it now? It can take a few minutes; your message is kept and "
            "sent once the container starts."
        )
        build = box.addButton("Build image", QMessageBox.ButtonRole.AcceptRole)
        build.setObjectName("image_build_button")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(build)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: object) -> None:
            if button is build:
                self.start(tag)

        box.buttonClicked.connect(answered)
        box.finished.connect(lambda _r: self._forget_dialog(box))
        self.dialog = box
        box.open()

    def start(self, tag: str) -> None:
        """Build ``tag`` on a background thread, with a progress dialog fed by its lines."""
        if self._job is not None:
            self._job.cancel()  # one build at a time: the newest is the one shown
        self._tag = tag
        progress = QProgressDialog(f"Building the sandbox image {tag}…", "Cancel", 0, 0)
        progress.setParent(self._parent, progress.windowFlags())
        progress.setObjectName("image_build_progress")
        progress.setWindowTitle("Building the sandbox image")
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        self.progress = progress
        self._job = job = self._background.run(
            lambda report: build_image(tag, report),
            lambda _none: self._on_done(job, ""),
            lambda error: self._on_done(job, error),
            on_progress=self._on_line,
            long_running=True,
            name="image-build",
        )
        progress.canceled.connect(lambda: self._on_cancel(job))
        progress.open()

    def offer_failed(self, message: str) -> None:
        """Say why the build failed, without blocking the window."""
        box = QMessageBox(self._parent)
        box.setObjectName("image_build_failed_dialog")
        box.setWindowTitle("Building the sandbox image failed")
        box.setIcon(QMessageBox.Icon.Critical)
        box.setText(f"The sandbox image {self._tag} could not be built.")
        box.setInformativeText(message)
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    @property
    def building(self) -> bool:
        return self.progress is not None

    def _on_line(self, line: str) -> None:
        if self.progress is not None:
            last = line.strip().splitlines()[-1] if line.strip() else ""
            self.progress.setLabelText(f"Building the sandbox image {self._tag}…\n{last[:160]}")

    def _on_cancel(self, job: Job) -> None:
        if job is not self._job or self.progress is None:
            return
        self._job = None
        job.cancel()  # its result, when it comes, is ignored; it gives up at its next step
        self._close_progress()
        self.cancelled.emit(
            f"Stopped waiting for the image {self._tag}; a build already under way may "
            "still finish in the background."
        )

    def _on_done(self, job: Job, error: str) -> None:
        if job is not self._job:
            return
        self._job = None
        self._close_progress()
        if error:
            log.warning("building %s failed: %s", self._tag, error)
            self.failed.emit(error)
        else:
            self.built.emit(self._tag)

    def _close_progress(self) -> None:
        progress, self.progress = self.progress, None
        if progress is not None:
            progress.blockSignals(True)  # closing is not a cancel
            progress.close()
            progress.deleteLater()

    def _forget_dialog(self, box: QMessageBox) -> None:
        if self.dialog is box:
            self.dialog = None
