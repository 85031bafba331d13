"""The container file browser against a real container: what a user sees in the tree and viewer.

One container serves the module (tests that change files work in their own folders); each
test builds its own FileBrowser.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from gui.background import background_pool
from gui.file_browser import FileBrowser
from gui.file_browser.viewer import ViewerMode

PYTHON_SOURCE = 'def greet(name):\n    # say hello\n    return "hello " + name * 2\n'
BLOB = bytes(range(256)) * 20  # 5,120 bytes with NULs: binary by any measure


def _png(width: int, height: int) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#2e86de"))
    raw = QByteArray()
    buffer = QBuffer(raw)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(raw.data())


@pytest.fixture(scope="module")
def workspace(sandbox_image: str, qapp) -> Iterator[object]:
    from sandbox import DockerWorkspace

    ws = DockerWorkspace(image=sandbox_image, conversation_id=f"fb-{uuid.uuid4().hex[:10]}")
    ws.start()
    ws.write_bytes("/workspace/src/app.py", PYTHON_SOURCE.encode())
    ws.write_bytes("/workspace/src/lib/util.sh", b"echo $HOME\n")
    ws.write_bytes("/workspace/docs/logo.png", _png(40, 30))
    ws.write_bytes("/workspace/data/blob.bin", BLOB)
    ws.write_bytes("/workspace/data/huge.log", b"x" * (3 * 1024 * 1024))
    ws.write_bytes("/workspace/README.md", b"# Demo\n")
    ws.write_bytes("/workspace/Zeta.txt", b"last\n")
    ws.write_bytes("/workspace/alpha.txt", b"first\n")
    yield ws
    try:
        ws.thaw()
    finally:
        ws.remove(volume=True)


@pytest.fixture
def browser(qtbot, workspace) -> FileBrowser:
    widget = FileBrowser()
    qtbot.addWidget(widget)
    widget.resize(520, 700)
    widget.show()
    widget.set_workspace(workspace)
    _settle(qtbot, widget)
    return widget


def _settle(qtbot, browser: FileBrowser) -> None:
    qtbot.waitUntil(lambda: not browser.is_busy(), timeout=20_000)


def _names(browser: FileBrowser, folder: str | None = None) -> list[str]:
    model = browser.model
    parent = model.index_for_path(folder) if folder else model.index(-1, -1)
    return [model.index(row, 0, parent).data() for row in range(model.rowCount(parent))]


def _expand(qtbot, browser: FileBrowser, folder: str) -> None:
    browser.file_tree.expand(browser.model.index_for_path(folder))
    _settle(qtbot, browser)


def _open(qtbot, browser: FileBrowser, path: str) -> None:
    with qtbot.waitSignal(browser.file_opened, timeout=20_000) as opened:
        browser.open_path(path)
    assert opened.args == [path]


def test_tree_lists_workspace_folders_first_then_files_by_name(browser: FileBrowser) -> None:
    assert _names(browser) == ["data", "docs", "src", "alpha.txt", "README.md", "Zeta.txt"]
    readme = browser.model.index_for_path("/workspace/README.md")
    assert readme.siblingAtColumn(1).data() == "7 B"
    assert readme.siblingAtColumn(2).data()  # a modification time is shown
    assert not browser.action_download.isEnabled()  # nothing selected yet
    browser.open_path("/workspace/README.md")
    assert browser.action_download.isEnabled()
    assert browser.file_tree.objectName() == "file_tree"
    assert browser.file_viewer.objectName() == "file_viewer"


def test_expanding_a_folder_shows_loading_then_its_children(qtbot, browser: FileBrowser) -> None:
    src = browser.model.index_for_path("/workspace/src")
    assert browser.model.hasChildren(src)  # unlisted folders offer an expander
    browser.file_tree.expand(src)
    # The listing runs on the pool; until its result is delivered the folder says so.
    assert _names(browser, "/workspace/src") == ["Loading…"]
    _settle(qtbot, browser)
    assert _names(browser, "/workspace/src") == ["lib", "app.py"]
    _expand(qtbot, browser, "/workspace/src/lib")
    assert _names(browser, "/workspace/src/lib") == ["util.sh"]


def test_text_file_opens_read_only_with_highlighting(qtbot, browser: FileBrowser) -> None:
    _expand(qtbot, browser, "/workspace/src")
    _open(qtbot, browser, "/workspace/src/app.py")
    viewer = browser.file_viewer
    assert viewer.mode is ViewerMode.TEXT
    assert viewer.text_view.toPlainText() == PYTHON_SOURCE
    assert viewer.text_view.isReadOnly()
    assert viewer.highlighter is not None and viewer.highlighter.language.name == "Python"
    coloured = set()
    block = viewer.text_view.document().begin()
    while block.isValid():
        for fmt in block.layout().formats():
            coloured.add(block.text()[fmt.start : fmt.start + fmt.length])
        block = block.next()
    assert {"def", "# say hello", '"hello "', "return", "2"} <= coloured
    assert "Python" in viewer.meta_text()


def test_image_shows(qtbot, browser: FileBrowser) -> None:
    _expand(qtbot, browser, "/workspace/docs")
    _open(qtbot, browser, "/workspace/docs/logo.png")
    viewer = browser.file_viewer
    assert viewer.mode is ViewerMode.IMAGE
    pixmap = viewer.image_label.pixmap()
    assert (pixmap.width(), pixmap.height()) == (40, 30)
    assert "40 \u00d7 30" in viewer.meta_text()


def test_binary_shows_its_size_and_big_file_offers_download(qtbot, browser: FileBrowser) -> None:
    _expand(qtbot, browser, "/workspace/data")
    _open(qtbot, browser, "/workspace/data/blob.bin")
    viewer = browser.file_viewer
    assert viewer.mode is ViewerMode.BINARY
    assert "5,120 bytes" in viewer.message_text()

    _open(qtbot, browser, "/workspace/data/huge.log")
    assert viewer.mode is ViewerMode.TOO_BIG
    assert "3.0 MB" in viewer.message_text() and "Download" in viewer.message_text()


def test_a_link_to_a_2gb_sparse_file_offers_download_without_reading_it(
    qtbot, browser: FileBrowser, workspace
) -> None:
    from tests.support.memory import MB, peak_growth

    made = workspace.execute(
        "mkdir -p /workspace/sparse && truncate -s 2G /workspace/sparse/disk.img "
        "&& ln -s disk.img /workspace/sparse/link.txt"
    )
    assert made.exit_code == 0, made.output
    try:
        browser.refresh()
        _settle(qtbot, browser)
        _expand(qtbot, browser, "/workspace/sparse")
        with peak_growth() as growth:
            _open(qtbot, browser, "/workspace/sparse/link.txt")
        viewer = browser.file_viewer
        assert viewer.mode is ViewerMode.TOO_BIG, viewer.message_text()
        assert "2.0 GB" in viewer.message_text() and "Download" in viewer.message_text()
        assert growth.bytes < 50 * MB, f"the app grew by {growth.bytes / MB:.0f} MB"
    finally:
        workspace.execute("rm -rf /workspace/sparse")


def test_everything_works_while_the_container_is_frozen(qtbot, workspace) -> None:
    workspace.freeze()
    try:
        frozen = FileBrowser()
        qtbot.addWidget(frozen)
        frozen.set_workspace(workspace)
        _settle(qtbot, frozen)
        assert "src" in _names(frozen)
        _expand(qtbot, frozen, "/workspace/src")
        _open(qtbot, frozen, "/workspace/src/app.py")
        assert frozen.file_viewer.text_view.toPlainText() == PYTHON_SOURCE
        _expand(qtbot, frozen, "/workspace/docs")
        _open(qtbot, frozen, "/workspace/docs/logo.png")
        assert frozen.file_viewer.mode is ViewerMode.IMAGE
        assert frozen.message_text() == ""  # no error was shown
    finally:
        workspace.thaw()


def test_refresh_picks_up_new_files_and_keeps_expansion_and_selection(
    qtbot, browser: FileBrowser, workspace
) -> None:
    workspace.write_bytes("/workspace/fresh/one.txt", b"1\n")
    browser.refresh()
    _settle(qtbot, browser)
    _expand(qtbot, browser, "/workspace/fresh")
    _open(qtbot, browser, "/workspace/fresh/one.txt")

    workspace.write_bytes("/workspace/fresh/a-new.txt", b"new\n")
    workspace.write_bytes("/workspace/fresh/one.txt", b"1, edited by the agent\n")
    for _ in range(5):  # a burst of tool results: one listing serves them all
        browser.refresh()
    qtbot.mouseClick(browser.refresh_button, Qt.MouseButton.LeftButton)  # and the user's click
    _settle(qtbot, browser)

    assert _names(browser, "/workspace/fresh") == ["a-new.txt", "one.txt"]
    browser.set_workspace(workspace)  # the same workspace again: a refresh, not a reset
    _settle(qtbot, browser)
    assert browser.file_tree.isExpanded(browser.model.index_for_path("/workspace/fresh"))
    assert browser.selected_path() == "/workspace/fresh/one.txt"
    # The open file was changed under the viewer: it shows the new content.
    qtbot.waitUntil(
        lambda: browser.file_viewer.text_view.toPlainText() == "1, edited by the agent\n",
        timeout=20_000,
    )


def test_replacing_the_workspace_drops_stale_results(qtbot, workspace, sandbox_image: str) -> None:
    from sandbox import DockerWorkspace

    other = DockerWorkspace(image=sandbox_image, conversation_id=f"fb-{uuid.uuid4().hex[:10]}")
    other.start()
    try:
        other.write_bytes("/workspace/only-in-other.txt", b"other\n")
        widget = FileBrowser()
        qtbot.addWidget(widget)
        widget.set_workspace(workspace)  # the first workspace's root listing is in flight...
        widget.set_workspace(other)  # ...and is replaced before it lands
        _settle(qtbot, widget)
        background_pool().waitForDone(20_000)
        qtbot.wait(100)  # let any late result arrive: it must be dropped
        assert _names(widget) == ["only-in-other.txt"]

        widget.set_workspace(workspace)
        _expand(qtbot, widget, "/workspace/src")
        widget.open_path("/workspace/src/app.py")  # a read now in flight, then no workspace
        widget.set_workspace(None)
        background_pool().waitForDone(20_000)
        qtbot.wait(100)
        assert widget.model.rowCount() == 0
        assert widget.file_viewer.mode is ViewerMode.EMPTY
        assert not widget.action_refresh.isEnabled()
    finally:
        other.remove(volume=True)


def test_listing_errors_show_inline_and_never_crash(qtbot, browser: FileBrowser, workspace) -> None:
    workspace.write_bytes("/workspace/doomed/x.txt", b"x\n")
    browser.refresh_now()
    _settle(qtbot, browser)
    result = workspace.execute("rm -rf /workspace/doomed")
    assert result.exit_code == 0
    with qtbot.waitSignal(browser.error, timeout=20_000):
        browser.file_tree.expand(browser.model.index_for_path("/workspace/doomed"))
    assert "/workspace/doomed" in browser.message_text()
    _settle(qtbot, browser)
    assert _names(browser, "/workspace/doomed") == ["Could not list this folder"]

    # Expanding it again retries.
    workspace.write_bytes("/workspace/doomed/back.txt", b"back\n")
    doomed = browser.model.index_for_path("/workspace/doomed")
    browser.file_tree.collapse(doomed)
    browser.file_tree.expand(doomed)
    _settle(qtbot, browser)
    assert _names(browser, "/workspace/doomed") == ["back.txt"]


def test_upload_by_drop_and_download_round_trip(
    qtbot, browser: FileBrowser, workspace, tmp_path: Path
) -> None:
    source = tmp_path / "project"
    (source / "nested").mkdir(parents=True)
    (source / "nested" / "data.bin").write_bytes(BLOB * 40)
    (source / "notes.md").write_text("# notes\n")
    workspace.write_bytes("/workspace/inbox/.keep", b"")
    browser.refresh_now()
    _settle(qtbot, browser)

    # While the agent is paused (container frozen), dropping host files onto a folder in
    # the tree uploads them there, and Download brings them back byte for byte.
    target = tmp_path / "back"
    target.mkdir()
    workspace.freeze()
    try:
        inbox = browser.model.index_for_path("/workspace/inbox")
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(source))])
        assert browser.model.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, inbox)
        # A drag as the window system delivers it: enter, move onto the "inbox" row, drop.
        viewport = browser.file_tree.viewport()
        where = browser.file_tree.visualRect(inbox).center()
        copy, left, none = (
            Qt.DropAction.CopyAction,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        enter = QDragEnterEvent(where, copy, mime, left, none)
        QApplication.sendEvent(viewport, enter)
        assert enter.isAccepted()
        QApplication.sendEvent(viewport, QDragMoveEvent(where, copy, mime, left, none))
        with qtbot.waitSignal(browser.transfer_finished, timeout=60_000):
            QApplication.sendEvent(viewport, QDropEvent(QPointF(where), copy, mime, left, none))
        _settle(qtbot, browser)
        assert "project" in _names(browser, "/workspace/inbox")
        assert browser.file_tree.isExpanded(browser.model.index_for_path("/workspace/inbox"))

        with qtbot.waitSignal(browser.transfer_finished, timeout=60_000):
            browser.download_path("/workspace/inbox/project", str(target))
    finally:
        workspace.thaw()
    assert (target / "project" / "nested" / "data.bin").read_bytes() == BLOB * 40
    assert (target / "project" / "notes.md").read_text() == "# notes\n"
    assert "Downloaded project" in browser.message_text()


def test_downloading_a_hostile_link_says_what_it_did_and_spares_the_users_file(
    qtbot, browser: FileBrowser, workspace, tmp_path: Path
) -> None:
    # The agent planted a link to its own .bashrc under the name of a file the user has.
    workspace.execute(
        "mkdir -p /workspace/trap && echo 'echo PWNED' > /workspace/trap/.bashrc && "
        "ln -sf /workspace/trap/.bashrc /workspace/trap/report.txt",
        timeout=30,
    )
    target = tmp_path / "mine"
    target.mkdir()
    (target / ".bashrc").write_text("# mine\n")
    (target / "report.txt").write_text("my report\n")
    browser.refresh_now()
    _settle(qtbot, browser)
    _expand(qtbot, browser, "/workspace/trap")

    assert "numbered copy" in browser.action_download.toolTip()
    with qtbot.waitSignal(browser.transfer_finished, timeout=30_000) as finished:
        browser.download_path("/workspace/trap/report.txt", str(target))

    sentence = finished.args[0]
    assert str(target / "report (1).txt") in sentence
    assert "a link" in sentence and "numbered copy" in sentence
    assert browser.message_text() == sentence
    assert (target / ".bashrc").read_text() == "# mine\n"
    assert (target / "report.txt").read_text() == "my report\n"
    assert (target / "report (1).txt").read_text() == "echo PWNED\n"
    assert sorted(p.name for p in target.iterdir()) == [".bashrc", "report (1).txt", "report.txt"]
