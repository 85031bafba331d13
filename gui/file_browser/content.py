"""Deciding what a file's bytes are, off the GUI thread: text, an image, or other binary data."""

from __future__ import annotations

import mimetypes
import posixpath
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtGui import QImage

VIEW_LIMIT = 2 * 1024 * 1024  # past this the viewer offers a download instead of reading
_SNIFF = 8192

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"BM", "BMP image"),
    (b"\x00\x00\x01\x00", "Windows icon"),
)

_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "ELF executable or library"),
    (b"\x1f\x8b", "gzip archive"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"%PDF", "PDF document"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd archive"),
    (b"\xca\xfe\xba\xbe", "Java class or Mach-O binary"),
    (b"\x00asm", "WebAssembly module"),
    (b"MZ", "Windows executable"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"fLaC", "FLAC audio"),
)


class ContentKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    BINARY = "binary"


@dataclass
class FileContent:
    path: str
    size: int
    kind: ContentKind
    description: str  # "Python source", "PNG image, 64 x 48 px", "ELF executable or library"
    text: str = ""
    image: QImage | None = None


def describe_binary(path: str, head: bytes) -> str:
    for magic, description in _BINARY_MAGIC + _IMAGE_MAGIC:
        if head.startswith(magic):
            return description
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar archive"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP image"
    guessed, _ = mimetypes.guess_type(posixpath.basename(path))
    if guessed is None or guessed == "application/octet-stream":
        return "Binary data"
    return guessed


def _image_description(path: str, head: bytes) -> str | None:
    for magic, description in _IMAGE_MAGIC:
        if head.startswith(magic):
            return description
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP image"
    guessed, _ = mimetypes.guess_type(posixpath.basename(path))
    if guessed and guessed.startswith("image/") and guessed != "image/svg+xml":
        return f"{guessed.split('/', 1)[1].upper()} image"
    return None


def _decode_text(data: bytes) -> str | None:
    if b"\x00" in data[:_SNIFF]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Mostly printable bytes in a legacy encoding still read better as text than as "binary".
    head = data[:_SNIFF]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    if controls > len(head) // 50:
        return None
    return data.decode("utf-8", errors="replace")


def text_description(path: str, language_name: str | None, text: str) -> str:
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    what = f"{language_name} text" if language_name else "Plain text"
    return f"{what} · {lines:,} line{'s' if lines != 1 else ''}"


def classify(path: str, data: bytes) -> FileContent:
    """Runs on a pool thread: decode text or an image here so the GUI thread only displays."""
    from gui.file_browser.highlighter import language_for

    head = data[:_SNIFF]
    image_kind = _image_description(path, head)
    if image_kind is not None:
        image = QImage.fromData(data)
        if not image.isNull():
            return FileContent(
                path,
                len(data),
                ContentKind.IMAGE,
                f"{image_kind} · {image.width()} \u00d7 {image.height()} px",
                image=image,
            )
    text = _decode_text(data)
    if text is not None:
        language = language_for(path, text[:200].split("\n", 1)[0])
        description = text_description(path, language.name if language else None, text)
        return FileContent(path, len(data), ContentKind.TEXT, description, text=text)
    return FileContent(path, len(data), ContentKind.BINARY, describe_binary(path, head))
