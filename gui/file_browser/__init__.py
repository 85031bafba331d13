"""The container's file browser: a lazily loaded tree, a viewer, upload and download.

Every Docker call runs on a thread pool; the GUI thread only ever sees finished results.
"""

from gui.file_browser.browser import FileBrowser
from gui.file_browser.highlighter import CodeHighlighter, language_for
from gui.file_browser.tree_model import RemoteTreeModel
from gui.file_browser.viewer import FileViewer

__all__ = ["CodeHighlighter", "FileBrowser", "FileViewer", "RemoteTreeModel", "language_for"]
