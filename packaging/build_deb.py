"""Wrap the PyInstaller bundle into ``dist/berth-desktop_VERSION_amd64.deb``.

    python packaging/build_deb.py [--bundle dist/berth] [--icons build/icons] [--out dist]

The package installs the bundle under /opt/berth, a /usr/bin/berth symlink, a .desktop
entry, hicolor icons (PNG sizes rendered at build time plus the scalable SVG), a man page,
the copyright file and changelog Debian asks for, and lintian overrides for what is
inherent to a self-contained bundle in /opt (each override says why). Needs dpkg-deb.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tomllib
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "packaging" / "deb"
PACKAGE = "berth-desktop"
INSTALL_DIR = "opt/berth"
MAINTAINER = "Berth maintainers <maintainers@users.noreply.r-seed-bfe1e8fb.example>"
# What the brief for the package names: Qt's xcb platform runtime. The rest of Depends is
# computed from the bundle's ELF files (see system_depends), since the spec leaves the
# distribution's libraries out of the bundle.
BASE_DEPENDS = (
    "libxcb-cursor0",
    "libegl1",
    "libxkbcommon-x11-0",
    "libfontconfig1",
    "libdbus-1-3",
)
# Packages renamed by Debian's 64-bit time_t transition (trixie, Ubuntu 24.04): either
# name satisfies the dependency.
# Libraries of Qt plugins that the build machine need not have installed (the Wayland
# platform plugin's), with the package that holds them.
KNOWN_OWNERS = {
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
T64_RENAMED = {"libssl3", "libglib2.0-0", "libcurl4", "libasound2"}
RECOMMENDS = ("docker.io | docker-ce",)
SUGGESTS = ("gnome-keyring | kwalletmanager",)


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(tree: Path) -> list[Path]:
    return sorted(p for p in tree.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))


def needed_libraries(path: Path) -> list[str]:
    out = subprocess.run(
        ["objdump", "-p", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [line.split()[1] for line in out.splitlines() if line.strip().startswith("NEEDED")]


def system_depends(bundle: Path) -> list[str]:
    """Debian packages holding every library the bundle's ELF files need and do not carry
    themselves (found with ldconfig, owned per dpkg). Fails on a library nobody provides:
    that bundle would not start on a user's machine."""
    inside = {p.name for p in bundle.rglob("*.so*")}
    wanted: set[str] = set()
    for path in elf_files(bundle):
        wanted.update(lib for lib in needed_libraries(path) if lib not in inside)
    cache: dict[str, str] = {}
    for line in subprocess.run(
        ["ldconfig", "-p"], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        name, _, rest = line.strip().partition(" (")
        if "x86-64" in rest and "=>" in rest:
            cache.setdefault(name, rest.split("=>", 1)[1].strip())
    packages = {KNOWN_OWNERS[lib] for lib in wanted if lib not in cache and lib in KNOWN_OWNERS}
    missing = sorted(lib for lib in wanted if lib not in cache and lib not in KNOWN_OWNERS)
    if missing:
        raise SystemExit(f"libraries neither bundled nor on this system: {', '.join(missing)}")
    for lib in sorted(lib for lib in wanted if lib in cache):
        path = Path(cache[lib])
        owner = None
        for candidate in (path, path.resolve()):
            # usrmerge: dpkg may know the file under /lib rather than /usr/lib.
            for spelling in {str(candidate), str(candidate).removeprefix("/usr")}:
                out = subprocess.run(
                    ["dpkg-query", "-S", spelling], capture_output=True, text=True, check=False
                )
                if out.returncode == 0:
                    owner = out.stdout.split(":", 1)[0].strip()
                    break
            if owner:
                break
        if owner is None:
            raise SystemExit(f"no Debian package owns {path} (needed as {lib})")
        packages.add(owner)
    return sorted(packages)


def depends_field(bundle: Path, glibc: str) -> str:
    names = sorted(set(system_depends(bundle)) | set(BASE_DEPENDS))
    fields = []
    for name in names:
        if name == "libc6":
            fields.append(f"libc6 (>= {glibc})")
        elif name in T64_RENAMED:
            fields.append(f"{name} | {name}t64")
        else:
            fields.append(name)
    if "libc6" not in names:
        fields.insert(0, f"libc6 (>= {glibc})")
    return ", ".join(fields)


# ELF64 little-endian constants for dropping build-machine library search paths.
PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 5, 15, 29


def drop_foreign_runpaths(path: Path) -> bool:
    """Remove RPATH/RUNPATH entries that point outside the bundle (the build machine's
    Python, for one); $ORIGIN-relative ones stay. What chrpath -d does, for x86-64 ELF.
    Returns True when the file changed."""
    data = bytearray(path.read_bytes())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, dynamic = [], None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize
        )
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return False
    entries = [
        struct.unpack_from("<qQ", data, dynamic[0] + 16 * i) for i in range(dynamic[1] // 16)
    ]
    strtab = next((val for tag, val in entries if tag == DT_STRTAB), None)
    if strtab is None:
        return False
    base = next((off + strtab - va for va, off, size in loads if va <= strtab < va + size), None)
    if base is None:
        return False
    kept, changed = [], False
    for tag, val in entries:
        if tag in (DT_RPATH, DT_RUNPATH):
            start = base + val
            end = data.index(0, start)
            paths = data[start:end].decode().split(":")
            local = [p for p in paths if p.startswith("$ORIGIN")]
            if local != paths:
                changed = True
                if not local:
                    continue
                new = ":".join(local).encode()
                data[start:end] = new + b"\0" * (end - start - len(new))
        kept.append((tag, val))
        if tag == DT_NULL:
            break
    if not changed:
        return False
    kept = [e for e in kept if e[0] != DT_NULL]
    slots = dynamic[1] // 16
    for i in range(slots):
        tag, val = kept[i] if i < len(kept) else (DT_NULL, 0)
        struct.pack_into("<qQ", data, dynamic[0] + 16 * i, tag, val)
    path.write_bytes(bytes(data))
    return True


def newest_glibc(bundle: Path) -> str:
    """The highest GLIBC_x.y any bundled ELF file needs, so Depends names a real floor."""
    newest = (2, 17)
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file() or not is_elf(path):
            continue
        out = subprocess.run(
            ["objdump", "-T", str(path)], capture_output=True, text=True, check=False
        ).stdout
        for token in out.split():
            token = token.strip("()")
            if token.startswith("GLIBC_") and token[6:7].isdigit():
                parts = tuple(int(p) for p in token[6:].split(".") if p.isdigit())
                newest = max(newest, parts)
    return ".".join(str(p) for p in newest)


def normalise_modes(tree: Path) -> None:
    """Directories 0755, programs 0755, everything else 0644: shared libraries and Python
    extension modules are loaded, not run, and Debian wants them without the x bit."""
    for path in [tree, *tree.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if is_program(path) else 0o644)


def is_program(path: Path) -> bool:
    """An ELF file named like a program (no .so): the bootloader, helper executables."""
    if ".so" in path.name or path.suffix:
        return False
    return is_elf(path)


def write_gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 and no file name in the header: the same input gives the same bytes.
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.encode())


def render_template(name: str, **values: str) -> str:
    text = (HERE / name).read_text()
    for key, value in values.items():
        text = text.replace("@" + key + "@", value)
    return text


def stage(bundle: Path, icons: Path, staging: Path, version: str) -> None:
    if staging.exists():
        shutil.rmtree(staging)
    target = staging / INSTALL_DIR
    target.parent.mkdir(parents=True)
    shutil.copytree(bundle, target, symlinks=True)

    bin_dir = staging / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    # Across top-level directories Debian wants an absolute link.
    (bin_dir / "berth").symlink_to("/" + INSTALL_DIR + "/berth")

    share = staging / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy(HERE / "berth.desktop", share / "applications" / "berth.desktop")

    hicolor = share / "icons" / "hicolor"
    pngs = sorted((icons / "png").glob("berth-*.png"))
    if not pngs:
        raise SystemExit(f"no rendered icons in {icons}/png (run packaging/render_icons.py)")
    for png in pngs:
        size = png.stem.split("-")[1]
        dest = hicolor / f"{size}x{size}" / "apps"
        dest.mkdir(parents=True)
        shutil.copy(png, dest / "berth.png")
    (hicolor / "scalable" / "apps").mkdir(parents=True)
    shutil.copy(ROOT / "icons" / "app.svg", hicolor / "scalable" / "apps" / "berth.svg")

    doc = share / "doc" / PACKAGE
    doc.mkdir(parents=True)
    shutil.copy(HERE / "copyright", doc / "copyright")
    date = formatdate(float(os.environ.get("SOURCE_DATE_EPOCH", "1763942400")), localtime=False)
    write_gz(
        doc / "changelog.gz",
        render_template("changelog", VERSION=version, MAINTAINER=MAINTAINER, DATE=date),
    )
    write_gz(share / "man" / "man1" / "berth.1.gz", render_template("berth.1", VERSION=version))

    overrides = share / "lintian" / "overrides"
    overrides.mkdir(parents=True)
    shutil.copy(HERE / "lintian-overrides", overrides / PACKAGE)
    normalise_modes(staging)


def installed_size_kib(staging: Path) -> int:
    total = 0
    for path in staging.rglob("*"):
        if path.is_symlink():
            total += 1
        elif path.is_file():
            total += (path.stat().st_size + 1023) // 1024
    return total


def write_control(staging: Path, version: str, depends: str) -> None:
    debian = staging / "DEBIAN"
    debian.mkdir(mode=0o755)
    control = (
        f"Package: {PACKAGE}\n"
        f"Version: {version}\n"
        "Section: devel\n"
        "Priority: optional\n"
        "Architecture: amd64\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_size_kib(staging)}\n"
        f"Depends: {depends}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        f"Suggests: {', '.join(SUGGESTS)}\n"
        "Homepage: https://github.com/berth-desktop/berth\n"
        "Description: desktop app for an LLM coding agent confined to a container\n"
        " Berth drives a conversation with an LLM coding agent in a Qt window. Every\n"
        " command the agent runs and every file it edits lives inside a Docker\n"
        " container: the agent never touches the host. The agent can be paused at\n"
        " any moment (the container is frozen), its files browsed, uploaded and\n"
        " downloaded, a correction typed, and the run resumed.\n"
        " .\n"
        " The package holds a self-contained bundle (Python, Qt, litellm) in\n"
        " /opt/berth. It needs a Docker engine, local or remote through DOCKER_HOST.\n"
    )
    (debian / "control").write_text(control)
    (debian / "control").chmod(0o644)
    sums = []
    for path in sorted(staging.rglob("*")):
        if path.is_file() and not path.is_symlink() and "DEBIAN" not in path.parts:
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            sums.append(f"{digest}  {path.relative_to(staging).as_posix()}\n")
    (debian / "md5sums").write_text("".join(sums))
    (debian / "md5sums").chmod(0o644)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "berth")
    parser.add_argument("--icons", type=Path, default=ROOT / "build" / "icons")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--staging", type=Path, default=ROOT / "build" / "deb-root")
    args = parser.parse_args(argv)

    executable = args.bundle / "berth"
    if not executable.is_file():
        raise SystemExit(f"no bundle at {args.bundle} (build it with PyInstaller first)")
    version = project_version()
    glibc = newest_glibc(args.bundle)
    depends = depends_field(args.bundle, glibc)
    stage(args.bundle, args.icons, args.staging, version)
    cleaned = [p for p in elf_files(args.staging / INSTALL_DIR) if drop_foreign_runpaths(p)]
    print(f"dropped the build machine's library paths from {len(cleaned)} ELF files")
    write_control(args.staging, version, depends)
    args.out.mkdir(parents=True, exist_ok=True)
    deb = args.out / f"{PACKAGE}_{version}_amd64.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "-z9", "--build", str(args.staging), str(deb)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    installed_mib = installed_size_kib(args.staging) / 1024
    print(f"{deb}: {deb.stat().st_size / 1e6:.1f} MB, installs {installed_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
