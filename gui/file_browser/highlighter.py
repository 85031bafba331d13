"""Syntax highlighting for the viewer: a small QSyntaxHighlighter over per-language regexes.

Each language is one combined regular expression whose named groups are token kinds, so the
leftmost token wins (a `#` inside a string stays a string). Constructs that span lines
(block comments, triple-quoted strings, code fences) are tracked with the block state.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from PySide6.QtGui import (
    QColor,
    QFont,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)


@dataclass(frozen=True)
class MultiLine:
    """A construct that may span lines: opened by `opener` (a regex), closed by `end` (text)."""

    opener: str
    end: str
    kind: str


@dataclass(frozen=True)
class Language:
    name: str
    # (kind, regex) in priority order; one kind may appear once only.
    rules: tuple[tuple[str, str], ...]
    multiline: tuple[MultiLine, ...] = ()
    flags: int = re.MULTILINE
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = [f"(?P<open{i}>{m.opener})" for i, m in enumerate(self.multiline)]
        parts += [f"(?P<{kind}>{regex})" for kind, regex in self.rules]
        object.__setattr__(self, "pattern", re.compile("|".join(parts), self.flags))


def _words(words: str) -> str:
    return r"\b(?:" + "|".join(sorted(set(words.split()), key=len, reverse=True)) + r")\b"


_DQ = r'"(?:[^"\\\n]|\\.)*"?'
_SQ = r"'(?:[^'\\\n]|\\.)*'?"
_NUMBER = (
    r"\b(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+"
    r"|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?[jJlLuUfF]*)\b"
)

PYTHON = Language(
    "Python",
    rules=(
        ("comment", r"#.*"),
        ("string", r"\b[rRbBuUfF]{1,2}(?:" + _DQ + "|" + _SQ + ")|" + _DQ + "|" + _SQ),
        ("decorator", r"^\s*@[\w.]+"),
        ("definition", r"(?<=\bdef )\w+|(?<=\bclass )\w+"),
        (
            "keyword",
            _words(
                "and as assert async await break class continue def del elif else except "
                "finally for from global if import in is lambda match case nonlocal not or "
                "pass raise return try while with yield"
            ),
        ),
        (
            "builtin",
            _words(
                "True False None self cls print len range str int float bool list dict set "
                "tuple object type isinstance super open Exception ValueError TypeError "
                "KeyError RuntimeError enumerate zip map filter sorted any all"
            ),
        ),
        ("number", _NUMBER),
    ),
    multiline=(
        MultiLine(r'\b[rRbBuUfF]{0,2}"""|"""', '"""', "string"),
        MultiLine(r"\b[rRbBuUfF]{0,2}'''|'''", "'''", "string"),
    ),
)

SHELL = Language(
    "Shell",
    rules=(
        ("comment", r"(?:^|(?<=[\s;|&(]))#.*"),
        ("string", _DQ + "|'[^']*'?"),
        ("variable", r"\$(?:\{[^}\n]*\}?|\w+|[@*#?$!0-9-])"),
        (
            "keyword",
            _words(
                "if then else elif fi for in do done case esac while until function select "
                "return local export readonly declare unset shift break continue exit source "
                "set trap eval exec time"
            ),
        ),
        (
            "builtin",
            _words(
                "echo printf cd pwd ls cat grep sed awk test read mkdir rm cp mv chmod chown "
                "touch find xargs sort head tail wc true false apt-get apt pip python3 curl"
            ),
        ),
        ("number", r"(?<![\w.-])\d+(?![\w.])"),
    ),
)

DOCKERFILE = Language(
    "Dockerfile",
    rules=(
        ("comment", r"^\s*#.*"),
        (
            "keyword",
            r"(?i:^\s*(?:FROM|RUN|CMD|LABEL|EXPOSE|ENV|ADD|COPY|ENTRYPOINT|VOLUME|USER|WORKDIR"
            r"|ARG|ONBUILD|STOPSIGNAL|HEALTHCHECK|SHELL|MAINTAINER)\b|\bAS\b)",
        ),
        ("string", _DQ + "|'[^']*'?"),
        ("variable", r"\$(?:\{[^}\n]*\}?|\w+)"),
        ("number", r"(?<![\w.-])\d+(?![\w.])"),
    ),
)

MAKEFILE = Language(
    "Makefile",
    rules=(
        ("comment", r"#.*"),
        ("key", r"^[\w.%/$() -]+(?=\s*::?(?!=))"),
        ("variable", r"\$(?:\([^)\n]*\)?|\{[^}\n]*\}?|[@<^?*%]|\w)"),
        ("keyword", r"^\s*(?:ifeq|ifneq|ifdef|ifndef|else|endif|include|define|endef|export)\b"),
        ("string", _DQ + "|'[^']*'?"),
    ),
)

JSON = Language(
    "JSON",
    rules=(
        ("key", r'"(?:[^"\\\n]|\\.)*"(?=\s*:)'),
        ("string", _DQ),
        ("builtin", r"\b(?:true|false|null)\b"),
        ("number", r"-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b"),
    ),
)

YAML = Language(
    "YAML",
    rules=(
        ("comment", r"(?:^|(?<=\s))#.*"),
        ("heading", r"^(?:---|\.\.\.)\s*$"),
        ("key", r"^[ \t]*(?:-[ \t]+)?[^\s#:'\"\-][^:#\n]*?(?=:(?:\s|$))"),
        ("string", _DQ + "|" + _SQ),
        ("variable", r"[&*][\w-]+|!{1,2}[\w/:-]+"),
        ("builtin", r"(?<![\w-])(?:true|false|null|yes|no|on|off|True|False|Null|~)(?![\w-])"),
        ("number", r"(?<![\w.-])-?\d+(?:\.\d+)?(?![\w.-])"),
    ),
)

TOML = Language(
    "TOML",
    rules=(
        ("comment", r"(?:^|(?<=\s))[#;].*"),
        ("heading", r"^\s*\[\[?[^\]\n]*\]\]?"),
        ("key", r"^\s*[\w.\-\"' ]+?(?=\s*=)"),
        ("string", _DQ + "|" + _SQ),
        ("builtin", r"\b(?:true|false)\b"),
        ("number", r"(?<![\w.-])[+-]?\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.-])"),
    ),
    multiline=(MultiLine('"""', '"""', "string"), MultiLine("'''", "'''", "string")),
)

MARKDOWN = Language(
    "Markdown",
    rules=(
        ("heading", r"^#{1,6}\s.*$|^(?:=+|-{2,})\s*$"),
        ("comment", r"^\s*>.*"),
        ("code", r"`[^`\n]+`"),
        (
            "emphasis",
            r"\*\*[^*\n]+\*\*|__[^_\n]+__|(?<![\w*])\*[^*\s][^*\n]*\*|(?<!\w)_[^_\s][^_\n]*_",
        ),
        ("link", r"!?\[[^\]\n]*\]\([^)\n]*\)|<https?://[^>\s]+>"),
        ("keyword", r"^\s*(?:[-*+]|\d+[.)])(?=\s)"),
    ),
    multiline=(MultiLine(r"^\s*```", "```", "code"), MultiLine(r"^\s*~~~", "~~~", "code")),
)

C_LIKE = Language(
    "C-like",
    rules=(
        ("comment", r"//.*"),
        ("string", _DQ + "|" + _SQ),
        ("decorator", r"^\s*#\s*\w+|@\w+"),
        (
            "keyword",
            _words(
                "auto break case catch char class const constexpr continue default delete do "
                "double else enum explicit export extends extern final finally float for fn "
                "func function go goto if impl implements import in instanceof int interface "
                "let long match mod module mut namespace new override package private "
                "protected pub public return short signed sizeof static struct super switch "
                "template this throw throws trait try typedef typename typeof union unsigned "
                "use using var virtual void volatile while yield async await def val defer "
                "chan select type range map where as dyn ref loop crate unsafe"
            ),
        ),
        ("builtin", _words("true false null nullptr NULL None nil undefined self Self")),
        ("number", _NUMBER),
    ),
    multiline=(MultiLine(r"/\*", "*/", "comment"), MultiLine("`", "`", "string")),
)

LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (PYTHON, SHELL, DOCKERFILE, MAKEFILE, JSON, YAML, TOML, MARKDOWN, C_LIKE)
}

_BY_EXTENSION: dict[str, Language] = {
    **dict.fromkeys((".py", ".pyi", ".pyw"), PYTHON),
    **dict.fromkeys((".sh", ".bash", ".zsh", ".ksh", ".bashrc", ".profile", ".env"), SHELL),
    **dict.fromkeys((".json", ".jsonl", ".ipynb", ".geojson", ".lock"), JSON),
    **dict.fromkeys((".yml", ".yaml"), YAML),
    **dict.fromkeys((".toml", ".ini", ".cfg", ".conf", ".properties"), TOML),
    **dict.fromkeys((".md", ".markdown", ".mdown"), MARKDOWN),
    **dict.fromkeys(
        (
            ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".java", ".js", ".mjs", ".cjs",
            ".jsx", ".ts", ".tsx", ".go", ".rs", ".cs", ".swift", ".kt", ".kts", ".scala",
            ".dart", ".php", ".m", ".css", ".scss", ".less", ".groovy", ".gradle",
        ),
        C_LIKE,
    ),
    **dict.fromkeys((".mk",), MAKEFILE),
}  # fmt: skip

_BY_NAME: dict[str, Language] = {
    "dockerfile": DOCKERFILE,
    "containerfile": DOCKERFILE,
    "makefile": MAKEFILE,
    "gnumakefile": MAKEFILE,
    ".bashrc": SHELL,
    ".profile": SHELL,
    ".bash_profile": SHELL,
    ".zshrc": SHELL,
}


def language_for(path: str, first_line: str = "") -> Language | None:
    """The language of a file, by name, extension, then a `#!` line; None for plain text."""
    name = posixpath.basename(path).lower()
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name.startswith("dockerfile.") or name.endswith(".dockerfile"):
        return DOCKERFILE
    _, ext = posixpath.splitext(name)
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    if first_line.startswith("#!"):
        if "python" in first_line:
            return PYTHON
        if re.search(r"\b(?:ba|z|k|da)?sh\b", first_line):
            return SHELL
        if "node" in first_line:
            return C_LIKE
    return None


# GitHub's palettes, light and dark: familiar, and readable on either background.
_LIGHT = {
    "keyword": ("#cf222e", False, False),
    "builtin": ("#0550ae", False, False),
    "string": ("#0a3069", False, False),
    "comment": ("#6e7781", False, True),
    "number": ("#0550ae", False, False),
    "decorator": ("#8250df", False, False),
    "definition": ("#8250df", True, False),
    "variable": ("#953800", False, False),
    "key": ("#116329", False, False),
    "heading": ("#0550ae", True, False),
    "emphasis": ("#24292f", True, False),
    "code": ("#953800", False, False),
    "link": ("#0969da", False, False),
}
_DARK = {
    "keyword": ("#ff7b72", False, False),
    "builtin": ("#79c0ff", False, False),
    "string": ("#a5d6ff", False, False),
    "comment": ("#8b949e", False, True),
    "number": ("#79c0ff", False, False),
    "decorator": ("#d2a8ff", False, False),
    "definition": ("#d2a8ff", True, False),
    "variable": ("#ffa657", False, False),
    "key": ("#7ee787", False, False),
    "heading": ("#79c0ff", True, False),
    "emphasis": ("#e6edf3", True, False),
    "code": ("#ffa657", False, False),
    "link": ("#58a6ff", False, False),
}


def _formats(dark: bool) -> dict[str, QTextCharFormat]:
    formats: dict[str, QTextCharFormat] = {}
    for kind, (colour, bold, italic) in (_DARK if dark else _LIGHT).items():
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(colour))
        if bold:
            fmt.setFontWeight(QFont.Weight.Bold)
        if italic:
            fmt.setFontItalic(True)
        formats[kind] = fmt
    return formats


def _utf16_offsets(text: str) -> list[int] | None:
    """Python indexes code points, Qt UTF-16 units; they differ only past the BMP."""
    if text.isascii() or max(text) <= "\uffff":
        return None
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


class CodeHighlighter(QSyntaxHighlighter):
    """Highlights keywords, strings, comments and numbers of one Language."""

    def __init__(
        self, document: QTextDocument, language: Language | None, palette: QPalette | None = None
    ) -> None:
        super().__init__(document)
        self._language = language
        dark = palette is not None and palette.color(QPalette.ColorRole.Base).lightness() < 128
        self._formats = _formats(dark)

    @property
    def language(self) -> Language | None:
        return self._language

    def highlightBlock(self, text: str) -> None:
        language = self._language
        if language is None:
            return
        offsets = _utf16_offsets(text)

        def paint(start: int, end: int, kind: str) -> None:
            fmt = self._formats.get(kind)
            if fmt is None or end <= start:
                return
            if offsets is not None:
                start, end = offsets[start], offsets[end]
            self.setFormat(start, end - start, fmt)

        self.setCurrentBlockState(0)
        pos = 0
        state = self.previousBlockState()
        if 0 < state <= len(language.multiline):
            construct = language.multiline[state - 1]
            end = text.find(construct.end)
            if end < 0:
                paint(0, len(text), construct.kind)
                self.setCurrentBlockState(state)
                return
            pos = end + len(construct.end)
            paint(0, pos, construct.kind)

        while pos < len(text):
            match = language.pattern.search(text, pos)
            if match is None:
                break
            group = match.lastgroup or ""
            if group.startswith("open"):
                number = int(group[4:])
                construct = language.multiline[number]
                end = text.find(construct.end, match.end())
                if end < 0:
                    paint(match.start(), len(text), construct.kind)
                    self.setCurrentBlockState(number + 1)
                    return
                pos = end + len(construct.end)
                paint(match.start(), pos, construct.kind)
                continue
            paint(match.start(), match.end(), group)
            pos = match.end() if match.end() > match.start() else pos + 1
