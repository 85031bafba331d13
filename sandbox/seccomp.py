"""The seccomp profile of a host-folder container: no set-user-ID or set-group-ID bit lands.

A file the agent marks setuid in a bind-mounted host folder is a setuid program on the host
(any local user runs it as the file's owner). ``nosuid`` would only guard the container's
side, so the kernel is told to refuse every call that sets those bits: chmod and its kin with
a mode carrying S_ISUID or S_ISGID, and the calls that create a file or folder with such a
mode (open/openat/creat with O_CREAT or O_TMPFILE, mkdir, mknod). They fail with EPERM, as
they would for a user without the right.

A custom profile replaces the engine's default one, so the calls the default profile refuses
and that matter without capabilities (new user namespaces, keyrings, bpf, userfaultfd,
perf, io_uring, another process's memory) are refused here too; everything needing a
capability the container lacks fails on that already.
"""

from __future__ import annotations

import json
from typing import Any

S_ISUID = 0o4000
S_ISGID = 0o2000
O_CREAT = 0o100
O_TMPFILE = 0o20000000  # __O_TMPFILE: the mode argument counts for it too
CLONE_NEWUSER = 0x10000000
EPERM = 1
ENOSYS = 38

# (syscall, index of its mode argument, index of its flags argument or None)
_MODE_SETTERS: tuple[tuple[str, int, int | None], ...] = (
    ("chmod", 1, None),
    ("fchmod", 1, None),
    ("fchmodat", 2, None),
    ("fchmodat2", 2, None),
    ("mkdir", 1, None),
    ("mkdirat", 2, None),
    ("mknod", 1, None),
    ("mknodat", 2, None),
    ("creat", 1, None),
    ("open", 2, 1),
    ("openat", 3, 2),
)

# Refused by the engine's default profile and reachable without a capability.
_REFUSED = [
    "add_key", "bpf", "fsconfig", "fsmount", "fsopen", "fspick", "io_uring_enter",
    "io_uring_register", "io_uring_setup", "kcmp", "keyctl", "lookup_dcookie",
    "mount_setattr", "move_mount", "name_to_handle_at", "open_tree", "perf_event_open",
    "process_vm_readv", "process_vm_writev", "request_key", "setns", "unshare", "uselib",
    "userfaultfd", "ustat", "vm86", "vm86old", "acct", "clock_adjtime", "clock_settime",
    "settimeofday", "stime", "create_module", "delete_module", "finit_module", "init_module",
    "get_kernel_syms", "query_module", "kexec_file_load", "kexec_load", "ioperm", "iopl",
    "mount", "umount", "umount2", "pivot_root", "quotactl", "quotactl_fd", "reboot",
    "swapon", "swapoff", "sysfs", "_sysctl", "nfsservctl", "open_by_handle_at",
]  # fmt: skip


def _masked(index: int, mask: int) -> dict[str, Any]:
    return {"index": index, "value": mask, "valueTwo": mask, "op": "SCMP_CMP_MASKED_EQ"}


def _setid_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for name, mode_arg, flags_arg in _MODE_SETTERS:
        for bit in (S_ISUID, S_ISGID):
            # Without O_CREAT/O_TMPFILE the mode argument of open is left over garbage.
            for creating in (O_CREAT, O_TMPFILE) if flags_arg is not None else (None,):
                args = [_masked(mode_arg, bit)]
                if flags_arg is not None and creating is not None:
                    args.append(_masked(flags_arg, creating))
                rules.append(
                    {"names": [name], "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM, "args": args}
                )
    return rules


def host_folder_profile() -> dict[str, Any]:
    """The profile as a dict (allow by default; refuse the set-id bits and _REFUSED)."""
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64",
             "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
        ],
        "syscalls": [
            {"names": _REFUSED, "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM},
            # No new user namespace (it would hand the agent every capability inside it).
            {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM,
             "args": [_masked(0, CLONE_NEWUSER)]},
            # clone3's flags sit in memory seccomp cannot read: ENOSYS makes libc use clone.
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS},
            *_setid_rules(),
        ],
    }  # fmt: skip


def security_opt() -> str:
    """The profile as the engine takes it inline: ``seccomp=<json>``."""
    return "seccomp=" + json.dumps(host_folder_profile(), separators=(",", ":"))
