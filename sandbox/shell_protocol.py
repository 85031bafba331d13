"""What goes over the shell's tty: named keys, and a command as one logical line.

The reading side (markers found in the stream as it comes) lives with the shell's state in
``sandbox.shell``; this module holds the encodings, which need no state.
"""

from __future__ import annotations

# Canonical tty input keeps at most 4095 bytes per physical line: long commands are cut
# into short lines joined by backslash-newline continuations (one logical line).
_PHYSICAL_LINE = 1024

KEYS = {
    "C-c": b"\x03",
    "C-d": b"\x04",
    "C-z": b"\x1a",
    "C-\\": b"\x1c",
    "C-l": b"\x0c",
    "C-u": b"\x15",
    "Enter": b"\n",
    "Tab": b"\t",
    "Escape": b"\x1b",
    "Up": b"\x1b[A",
    "Down": b"\x1b[B",
    "Right": b"\x1b[C",
    "Left": b"\x1b[D",
}


def key_bytes(text: str) -> bytes | None:
    """The bytes of a named key ("C-c", "Enter"...), or None when ``text`` is not one."""
    if text in KEYS:
        return KEYS[text]
    if len(text) == 3 and text[:2].lower() == "c-" and text[2].isalpha():
        return bytes([ord(text[2].upper()) - 64])
    return None


def command_line(command: str, nonce: str) -> bytes:
    """``printf <start>; eval $'...'`` as printable ASCII in short continued lines."""
    parts: list[str] = []
    for byte in command.encode("utf-8", "surrogateescape"):
        if byte == 0x27:
            parts.append("\\'")
        elif byte == 0x5C:
            parts.append("\\\\")
        elif 0x20 <= byte < 0x7F:
            parts.append(chr(byte))
        elif byte == 0x0A:
            parts.append("\\n")
        elif byte == 0x09:
            parts.append("\\t")
        else:
            parts.append(f"\\x{byte:02x}")
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for part in parts:
        if size + len(part) > _PHYSICAL_LINE:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(part)
        size += len(part)
    chunks.append("".join(current))
    quoted = "\\\n".join(f"$'{chunk}'" for chunk in chunks)
    return f"builtin printf '\\036S%s\\037' {nonce}; eval {quoted}\n".encode("ascii")


def partial_suffix(buf: bytearray, marker: bytes) -> int:
    """Length of the longest tail of ``buf`` that is a proper prefix of ``marker``."""
    for size in range(min(len(marker) - 1, len(buf)), 0, -1):
        if buf.endswith(marker[:size]):
            return size
    return 0
