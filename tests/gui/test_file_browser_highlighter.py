"""The viewer's highlighter and file classification: what colours a user sees, per language.

No Docker here: these check the pure parts, under a QApplication (`qapp`) for fonts.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage, QTextDocument
from PySide6.QtWidgets import QPlainTextDocumentLayout

from gui.file_browser.content import ContentKind, classify
from gui.file_browser.highlighter import CodeHighlighter, language_for


def _formats_by_text(language_path: str, text: str) -> dict[str, QColor]:
    """Highlight `text` and map each coloured fragment's text to its colour."""
    document = QTextDocument()
    document.setDocumentLayout(QPlainTextDocumentLayout(document))
    highlighter = CodeHighlighter(document, language_for(language_path))
    document.setPlainText(text)
    highlighter.rehighlight()
    found: dict[str, QColor] = {}
    block = document.begin()
    while block.isValid():
        for fmt_range in block.layout().formats():
            fragment = block.text()[fmt_range.start : fmt_range.start + fmt_range.length]
            found[fragment] = fmt_range.format.foreground().color()
        block = block.next()
    return found


def test_language_is_picked_by_extension_name_and_shebang(qapp) -> None:
    assert language_for("/w/a.py").name == "Python"
    assert language_for("/w/run.sh").name == "Shell"
    assert language_for("/w/data.json").name == "JSON"
    assert language_for("/w/ci.yaml").name == "YAML"
    assert language_for("/w/README.md").name == "Markdown"
    assert language_for("/w/main.c").name == "C-like"
    assert language_for("/w/Dockerfile").name == "Dockerfile"
    assert language_for("/w/Makefile").name == "Makefile"
    assert language_for("/w/tool", "#!/usr/bin/env python3").name == "Python"
    assert language_for("/w/tool", "#!/bin/bash").name == "Shell"
    assert language_for("/w/notes.txt") is None


def test_python_keywords_strings_comments_and_numbers_are_coloured(qapp) -> None:
    found = _formats_by_text(
        "x.py", 'def f(x):\n    return "a # not a comment" + 42  # real comment\n'
    )
    assert "def" in found and "return" in found
    assert '"a # not a comment"' in found  # the # inside the string stays string-coloured
    assert "# real comment" in found
    assert "42" in found
    assert len({found["def"].name(), found['"a # not a comment"'].name(), found["42"].name()}) == 3


def test_multiline_constructs_carry_across_lines(qapp) -> None:
    found = _formats_by_text("x.py", 'x = """first\nsecond line\nend""" + 1\n')
    assert "second line" in found  # the middle line of a triple-quoted string
    found = _formats_by_text("x.c", "int a; /* one\ntwo */ return 0;\n")
    assert "two */" in found and "return" in found


def test_json_keys_and_values_differ(qapp) -> None:
    found = _formats_by_text("x.json", '{"name": "berth", "n": 3, "ok": true}')
    assert found['"name"'] != found['"berth"']
    assert "3" in found and "true" in found


def test_markdown_headings_code_and_fences(qapp) -> None:
    found = _formats_by_text("x.md", "# Title\n\nSome `code`.\n```\nraw line\n```\n")
    assert "# Title" in found and "`code`" in found and "raw line" in found


def test_classify_tells_text_images_and_binaries_apart(qapp) -> None:
    text = classify("/w/a.py", b"print('hi')\n")
    assert text.kind is ContentKind.TEXT and text.text == "print('hi')\n"
    assert "Python" in text.description

    image = QImage(7, 5, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    raw = QByteArray()
    buffer = QBuffer(raw)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    shown = classify("/w/pic.png", bytes(raw.data()))
    assert shown.kind is ContentKind.IMAGE and shown.image is not None
    assert (shown.image.width(), shown.image.height()) == (7, 5)

    elf = classify("/w/tool", b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4)
    assert elf.kind is ContentKind.BINARY and "ELF" in elf.description
