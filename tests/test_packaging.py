"""The icons, the installers' icon files and `berth --self-test` in a checkout.

The packaged app itself is checked by `make package-test` (packaging/package_test.sh):
building a bundle takes minutes, too long for the default test run.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from icons import ICON_NAMES, icon_path

ROOT = Path(__file__).resolve().parent.parent
NAMES = list(ICON_NAMES)


def _render(name: str, size: int, background: str) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(QColor(background))
    painter = QPainter(image)
    QSvgRenderer(str(icon_path(name))).render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def _distinct_pixels(image: QImage, background: str) -> int:
    bg = QColor(background).rgb()
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if abs(QColor(image.pixel(x, y)).lightness() - QColor(bg).lightness()) > 40
    )


@pytest.mark.parametrize("name", NAMES)
def test_icon_stands_out_on_light_and_dark_toolbars(qapp, name: str) -> None:
    assert QSvgRenderer(str(icon_path(name))).isValid()
    for background in ("#ffffff", "#1e1e1e"):
        image = _render(name, 24, background)
        # A legible glyph: a good share of its pixels differ clearly from the toolbar.
        assert _distinct_pixels(image, background) > 24 * 24 * 0.08, (name, background)


def test_action_icons_share_one_grid(qapp) -> None:
    for name in NAMES[1:]:
        renderer = QSvgRenderer(str(icon_path(name)))
        assert renderer.viewBoxF() == QRectF(0, 0, 24, 24), name


def test_unknown_icon_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        icon_path("no-such-icon")


def test_installer_icon_files(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "render_icons.py"), str(tmp_path)],
        check=True,
        env=env,
        capture_output=True,
    )
    for size in (16, 48, 256, 512):
        image = QImage(str(tmp_path / "png" / f"berth-{size}.png"))
        assert (image.width(), image.height()) == (size, size)
        # The rounded square's corner is transparent, its centre is not.
        assert image.pixelColor(0, 0).alpha() == 0
        assert image.pixelColor(size // 2, size // 2).alpha() == 255
    ico = (tmp_path / "berth.ico").read_bytes()
    _, kind, count = struct.unpack_from("<HHH", ico)
    assert (kind, count) == (1, 7)
    for i in range(count):
        _, _, _, _, _, _, length, offset = struct.unpack_from("<BBBBHHII", ico, 6 + 16 * i)
        assert ico[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(ico)
    icns = (tmp_path / "berth.icns").read_bytes()
    assert icns[:4] == b"icns"
    assert struct.unpack_from(">I", icns, 4)[0] == len(icns)


def _self_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "gui.cli", "--self-test"],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _levels(output: str) -> dict[str, str]:
    return {
        line.split()[1]: line.split()[0]
        for line in output.splitlines()
        if line.split()[:1] in (["ok"], ["warn"], ["FAIL"])
    }


def test_self_test_passes_in_a_checkout(tmp_path: Path, sandbox_image: str) -> None:
    # sandbox_image points BERTH_CHECKPOINT_IMAGE at the session's helper image.
    proc = _self_test(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    levels = _levels(proc.stdout)
    assert levels == {
        name: "ok"
        for name in (
            "install",
            "modules",
            "window",
            "icons",
            "display",
            "litellm",
            "llm",
            "helper",
            "bedrock",
            "image",
            "docker",
            "checkpoints",
        )
    }, proc.stdout
    assert "MainWindow built" in proc.stdout
    assert proc.stdout.strip().endswith("self-test passed")


def test_self_test_warns_on_an_unreachable_engine_and_fails_on_a_broken_install(
    tmp_path: Path,
) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    proc = _self_test(tmp_path, DOCKER_HOST="tcp://127.0.0.1:1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    levels = _levels(proc.stdout)
    assert levels["docker"] == "warn"
    assert levels["checkpoints"] == "warn"  # not checked: there is no engine to ask
    assert "2 warnings" in proc.stdout

    # A litellm that cannot be imported, as in a bundle that lost it.
    broken = tmp_path / "shadow" / "litellm"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('litellm went missing')\n")
    proc = _self_test(tmp_path, PYTHONPATH=str(broken.parent), DOCKER_HOST="tcp://127.0.0.1:1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    levels = _levels(proc.stdout)
    assert levels["litellm"] == "FAIL"
    assert levels["window"] == "ok"
    assert "litellm went missing" in proc.stdout
    assert "self-test FAILED" in proc.stdout


def test_the_bundle_ships_the_checkpoint_helpers_sources_as_files() -> None:
    """The helper container runs these as source: a bundle that kept them only compiled in
    its archive would start a helper that cannot import its own modules."""
    from sandbox.checkpoints.store import SERVER_FILES

    spec = (ROOT / "packaging" / "berth.spec").read_text(encoding="utf-8")
    missing = [name for name in SERVER_FILES if f'"{name}"' not in spec]
    assert missing == []
    # The network proxy's addon and relay, too: the proxy container runs them as source.
    assert '"network_door" / name' in spec
    assert '"addon.py", "tunnel_relay.py"' in spec


def test_the_bundle_keeps_what_the_mcp_client_imports() -> None:
    """The MCP client (agent/mcp/servers.py) pulls in the mcp SDK's server modules and
    their web stack: a bundle that excluded one would fail at the first MCP server."""
    code = "import sys, agent.mcp.servers; print(chr(10).join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)  # fmt: skip
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    spec = (ROOT / "packaging" / "berth.spec").read_text(encoding="utf-8")
    start = spec.index("excludes = [")
    block = spec[start : spec.index("\n]", start)]
    excluded = re.findall(r'^\s+"([\w.]+)",', block, re.MULTILINE)
    assert "PySide6.QtQml" in excluded  # the list was read
    assert [name for name in excluded if name in loaded] == []


def test_self_test_says_how_to_build_a_missing_checkpoint_helper_image(
    tmp_path: Path, docker_client
) -> None:
    tag = f"berth-test-no-such-helper:{uuid.uuid4().hex[:8]}"
    proc = _self_test(tmp_path, BERTH_CHECKPOINT_IMAGE=tag)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a warning, not a broken install
    assert _levels(proc.stdout)["checkpoints"] == "warn", proc.stdout
    line = next(line for line in proc.stdout.splitlines() if " checkpoints " in line)
    assert "checkpoints are off" in line
    assert f"python -m sandbox.images build-offline {tag} --include python3,iproute2" in line
