"""What a user would compare to tell two states of /workspace apart: every path with its
type, mode, owner, link target and mtime, and every file's content hash. Needs only bash
and coreutils in the container."""

from __future__ import annotations

from typing import Any

FINGERPRINT = (
    "cd /workspace && LC_ALL=C find . -mindepth 1 -printf '%p|%y|%m|%U:%G|%l|%T@\\n' "
    "| LC_ALL=C sort && LC_ALL=C find . -type f -print0 | LC_ALL=C sort -z "
    "| xargs -0 -r md5sum"
)


def fingerprint(workspace: Any) -> str:
    result = workspace.execute(FINGERPRINT, timeout=60)
    assert result.exit_code == 0, result.output
    return result.output


# A workspace with what a rewind must get right: a git repository's .git, a symlink, an
# executable, a read-only file, an empty directory, a binary file.
SEED = r"""(
set -e
cd /workspace && rm -rf ./* ./.[!.]* 2>/dev/null || true
mkdir -p src/.git/refs empty docs
printf 'ref: refs/heads/main\n' > src/.git/HEAD
printf 'def main():\n    return 1\n' > src/app.py
printf 'notes\nline two\n' > docs/notes.txt
printf '#!/bin/bash\necho run\n' > run.sh && chmod 755 run.sh
printf 'keep me\n' > readonly.txt && chmod 444 readonly.txt
ln -s src/app.py link.py
head -c 3000 /dev/urandom > blob.bin
)"""

# The damage: deletions (a .git included), an edit by sed, a new file, a changed mode, a
# link pointed elsewhere, a file where a directory was.
DAMAGE = r"""
cd /workspace
rm -rf src/.git docs
sed -i 's/return 1/return 2/' src/app.py
echo new > added.txt
chmod 600 run.sh
ln -sfn /etc/passwd link.py
rmdir empty && echo file > empty
"""
