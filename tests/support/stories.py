"""The user's story (send, pause mid-command, correct, resume, finish) as a scripted model
plays it: shared by the window's story test and the stall and heartbeat benchmarks."""

from __future__ import annotations

import re

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


# A run that streams thousands of lines: the window test's and the heartbeat bench's.
STREAMING_ROWS_STEPS = 5


def streaming_rows_script(request: RecordedRequest) -> Reply:
    """STREAMING_ROWS_STEPS commands of 20 bursts of 300 rows, 50 ms apart (output streams
    for about a second each), then finish."""
    # The step the last result printed: older results may have been condensed away
    # (each is 30,000 characters, and the window is the 32k default).
    printed = re.findall(r"^step (\d+) row", request.last_tool_result() or "", re.M)
    done = int(printed[-1]) + 1 if printed else 0
    if done < STREAMING_ROWS_STEPS:
        return Reply.call(
            "bash",
            command=f"for b in $(seq 1 20); do for i in $(seq 1 300); do "
            f"echo step {done} row $b.$i; done; sleep 0.05; done",
        )
    return Reply.say("All rows printed.")
