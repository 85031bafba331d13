"""What the Changes view hides: .git/ and what .gitignore ignores, by git's rules."""

from __future__ import annotations

from agent.conversation.ignored import ignored_changes, ignored_paths

W = "/workspace/"


def test_git_dir_and_gitignored_files_are_hidden_the_real_ones_kept():
    paths = [
        W + "app.py",
        W + "pkg/util.py",
        W + "README.md",
        W + "pkg/__pycache__/util.cpython-311.pyc",
        W + "stray.pyc",
        W + ".git/HEAD",
        W + ".git/objects/ab/cdef",
        W + "vendor/lib/.git/config",
    ]
    hidden = ignored_paths(paths, {"": "__pycache__/\n*.pyc\n"})
    assert sorted(set(paths) - hidden) == [W + "README.md", W + "app.py", W + "pkg/util.py"]


def test_nested_gitignore_overrides_and_ignored_folders_cannot_be_taken_back():
    files = {
        "": "*.log\nbuild/\n",
        "docs": "!keep.log\n",
        "build": "!wanted.txt\n",  # never read by git: its folder is ignored
    }
    paths = [W + "a.log", W + "docs/keep.log", W + "docs/other.txt", W + "build/wanted.txt"]
    assert ignored_paths(paths, files) == {W + "a.log", W + "build/wanted.txt"}


def test_without_ignore_files_only_git_is_hidden():
    assert ignored_paths([W + "x.pyc", W + ".git/index"], {}) == {W + ".git/index"}


class _Files:
    """A workspace's read_bytes over a dict, counting what is asked."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.asked: list[str] = []

    def read_bytes(self, path: str, limit: int = 0) -> bytes:
        self.asked.append(path)
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]


def test_ignore_files_are_read_from_the_workspace_but_never_inside_ignored_folders():
    workspace = _Files(
        {
            W + ".gitignore": b"__pycache__/\n",
            W + ".git/info/exclude": b"*.tmp\n",
            W + "src/.gitignore": b"*.gen.py\n",
        }
    )
    paths = [
        W + "src/a.py",
        W + "src/b.gen.py",
        W + "src/__pycache__/a.pyc",
        W + "x.tmp",
        W + ".git/HEAD",
    ]
    assert ignored_changes(workspace, paths) == sorted(
        [W + "src/b.gen.py", W + "src/__pycache__/a.pyc", W + "x.tmp", W + ".git/HEAD"]
    )
    assert W + "src/__pycache__/.gitignore" not in workspace.asked
    assert not any("/.git/" in p and "info/exclude" not in p for p in workspace.asked)
