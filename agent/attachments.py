"""Images a tool returned: kept in the ObservationEvent (so the log is the conversation, and
a reopen sends the model the same request) and sent to the model as data URIs."""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel, ConfigDict

# One image may be this big (decoded). Providers refuse larger ones (Anthropic: 5 MB), and
# each one is kept whole in events.jsonl.
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class Attachment(BaseModel):
    """An image: its type, its bytes in base64, and how many bytes they are."""

    model_config = ConfigDict(frozen=True)

    mime_type: str
    data: str
    size: int

    def data_uri(self) -> str:
        return f"data:{self.mime_type};base64,{self.data}"

    def image_bytes(self) -> bytes:
        return base64.b64decode(self.data)


def image_attachment(mime_type: str, data: str, what: str = "an image") -> Attachment | str:
    """The attachment for a base64 image, or a line saying why it was left out (too big, a
    type the models do not read, not base64)."""
    mime_type = (mime_type or "").strip().lower()
    try:
        size = len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        kind = mime_type or "no type"
        return f"[The tool returned {what} ({kind}) that is not valid base64; left out.]"
    if mime_type not in IMAGE_TYPES:
        return (
            f"[The tool returned {what} of type {mime_type or 'unknown'} ({size:,} bytes); "
            f"left out: the model reads {', '.join(IMAGE_TYPES)}.]"
        )
    if size > MAX_ATTACHMENT_BYTES:
        return (
            f"[The tool returned {what} ({mime_type}, {size / 1024 / 1024:.1f} MB); left out: "
            f"over the {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB an image may be.]"
        )
    return Attachment(mime_type=mime_type, data=data, size=size)
