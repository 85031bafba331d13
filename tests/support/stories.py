"""The user's story (send, pause mid-command, correct, resume, finish) as a scripted model
plays it: shared by the window's story test and the stall benchmark."""

from __future__ import annotations

from tests.support.llm_server import RecordedRequest, Reply

# Writes a file at once, then prints a line every 0.1 s for 4 s: long enough to pause in.
STREAMING = (
    "echo draft > /workspace/notes.txt; "
    "for i in $(seq 1 40); do echo line $i; sleep 0.1; done; echo loop-$((40+2))-done"
)
TASK = "Write a greeting to /workspace/hello.txt"
CORRECTION = "Actually, write the greeting in uppercase."
NEW_FILE = "/workspace/hello.txt"


def greeting_script(request: RecordedRequest) -> Reply:
    """Run STREAMING, then write NEW_FILE (in uppercase once the correction was seen), then
    finish."""
    results = request.tool_results()
    if not results:
        return Reply.call("bash", "Let me look around first.", command=STREAMING)
    if len(results) == 1:
        greeting = "HELLO\n" if CORRECTION in request.all_text() else "hello\n"
        return Reply.call("file_editor", command="create", path=NEW_FILE, file_text=greeting)
    return Reply.call("finish", message=f"Wrote {NEW_FILE} in uppercase.")
