"""The agent's tools on a host folder owned by an ordinary user (uid 1000): bash and
file_editor work as that user, and what they make belongs to them on the host."""

from __future__ import annotations

import os
from pathlib import Path

from agent import AgentStatus
from tests.agent.helpers import make_conversation, observations
from tests.support.llm_server import Reply, replies_in_order


def test_bash_and_file_editor_work_as_the_folders_owner(
    llm_server, sandbox_image, tmp_path: Path
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "app.py").write_text("return 1\n")
    for path in (folder, folder / "app.py"):
        os.chown(path, 1000, 1000)
    llm_server.script = replies_in_order(
        [
            Reply.call("bash", command="echo made > made.txt && id -u"),
            Reply.call(
                "file_editor", command="str_replace", path="/workspace/app.py",
                old_str="return 1", new_str="return 42",
            ),
            Reply.call("file_editor", command="create", path="/workspace/pkg/new.py",
                       file_text="print('hi')\n"),
            Reply.call("bash", command="echo more >> pkg/new.py && cat app.py pkg/new.py"),
            Reply.say("Done."),
        ]
    )  # fmt: skip
    conversation = make_conversation(llm_server, str(folder), tmp_path / "data")
    try:
        conversation.send_message("work on my folder")
        assert conversation.run() == AgentStatus.FINISHED

        outputs = [o.content for o in observations(conversation)]
        assert outputs[0].startswith("1000")
        assert "return 42\nprint('hi')\nmore" in outputs[3]
        owners = {
            str(path.relative_to(folder)): (path.stat().st_uid, path.stat().st_gid)
            for path in folder.rglob("*")
        }
        assert owners == {p: (1000, 1000) for p in ("app.py", "made.txt", "pkg", "pkg/new.py")}
    finally:
        conversation.delete()
