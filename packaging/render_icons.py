"""Render icons/app.svg to the raster formats installers need, at build time.

    python packaging/render_icons.py OUT_DIR

writes OUT_DIR/png/berth-SIZE.png (hicolor sizes), OUT_DIR/berth.ico (Windows, PNG-compressed
entries) and OUT_DIR/berth.icns (macOS, PNG entries). Both containers are written by hand:
their PNG-entry forms are a few header bytes, so the build needs nothing beyond Qt.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns types that hold PNG data, by pixel size.
ICNS_TYPES = {
    16: b"icp4",
    32: b"icp5",
    64: b"icp6",
    128: b"ic07",
    256: b"ic08",
    512: b"ic09",
    1024: b"ic10",
}
SVG = Path(__file__).resolve().parent.parent / "icons" / "app.svg"


def render_png(svg: Path, size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        # Width/height 0 means 256 in the ICO directory.
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        blobs += blob
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(
        ICNS_TYPES[size] + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
        for size in sorted(pngs)
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    (out / "png").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication([sys.argv[0]])
    wanted = set(HICOLOR_SIZES) | set(ICO_SIZES) | set(ICNS_TYPES)
    pngs = {size: render_png(SVG, size) for size in sorted(wanted)}
    for size in HICOLOR_SIZES:
        (out / "png" / f"berth-{size}.png").write_bytes(pngs[size])
    (out / "berth.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    (out / "berth.icns").write_bytes(icns_bytes({s: pngs[s] for s in ICNS_TYPES}))
    print(f"icons: {len(HICOLOR_SIZES)} PNGs, berth.ico, berth.icns in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
