"""A tar archive of a few small files, as the engine's put_archive takes them (the proxy's
addon, policy, secrets and CA; the agent's CA certificate)."""

from __future__ import annotations

import io
import tarfile
import time


def tar_files(files: dict[str, bytes], mode: int = 0o644) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = int(time.time())
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = mode
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
