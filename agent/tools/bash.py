"""The `bash` tool: commands in the workspace's one persistent shell."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from agent.tools.base import OutputCallback, ToolDefinition, ToolResult

if TYPE_CHECKING:
    from sandbox import CommandResult, DockerWorkspace

DEFAULT_NO_OUTPUT_TIMEOUT = 30.0
# How the sandbox answers input sent while no command runs.
NOT_SENT = "[No command is running"


class BashArguments(BaseModel):
    model_config = ConfigDict(extra="ignore")

    command: str = Field(
        description="The bash command to run. With is_input=true: text to send to the "
        "running process, a key such as C-c, C-d or C-z, or an empty string to wait for "
        "more output."
    )
    is_input: bool = Field(
        default=False,
        description="true sends command to the process that is still running instead of "
        "starting a new command.",
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="Hard timeout in seconds: the command is killed when it runs longer. "
        "Set it for long commands that print little; without it, a command that prints "
        "nothing for a while returns early and keeps running.",
    )


class BashTool(ToolDefinition[BashArguments]):
    name: ClassVar[str] = "bash"
    Arguments: ClassVar[type[BaseModel]] = BashArguments
    description: ClassVar[str] = ""  # set below from the template

    _template: ClassVar[str] = (
        "Run a bash command in the sandbox container (Debian Linux). The shell is persistent: "
        "the working directory, environment variables and background jobs carry over from "
        "one call to the next. Each result ends with the exit code and working directory.\n"
        "* One command per call; chain steps with && or ;. Avoid interactive programs: pass "
        "flags such as -y, and set PAGER=cat or use --no-pager.\n"
        "* If a command prints nothing for {no_output} s, you get the output so far and it "
        'keeps running. Then call bash with is_input=true and command "" to wait for '
        'more, with text to send it input, or with command "C-c" to interrupt it.\n'
        "* For long, quiet commands set timeout (seconds); the command is killed when it "
        "expires. Run servers in the background: `cmd > /tmp/server.log 2>&1 &`.\n"
        "* Output over 30,000 characters is cut in the middle: redirect it to a file and "
        "use head, tail or grep.\n"
        "* To read and edit files, prefer the file_editor tool."
    )

    def __init__(self, no_output_timeout: float = DEFAULT_NO_OUTPUT_TIMEOUT) -> None:
        self.no_output_timeout = no_output_timeout
        # The last call returned with its command still running.
        self._left_running = False

    def model_description(self) -> str:
        return self._template.format(no_output=f"{self.no_output_timeout:g}")

    def execute(
        self,
        args: BashArguments,
        workspace: DockerWorkspace,
        on_output: OutputCallback | None = None,
    ) -> ToolResult:
        command = args.command
        if not args.is_input and not command.strip():
            return ToolResult.error(
                "command is empty. Give a bash command to run, or set is_input=true with an "
                "empty command to wait for more output from a command that is still running."
            )
        if args.is_input:
            command = _key_alias(command)
        # An explicit timeout means the model expects a long, possibly quiet command: wait
        # for it rather than returning early on silence.
        no_output = None if args.timeout is not None else self.no_output_timeout
        from sandbox import ShellBusyError

        try:
            result = workspace.execute(
                command,
                timeout=args.timeout,
                no_output_timeout=no_output,
                is_input=args.is_input,
                on_output=on_output,
            )
        except ShellBusyError:
            return ToolResult.error(
                "The previous command is still running, so this one was not started. Call "
                'bash with is_input=true and command "" to wait for it, with text to send '
                'it input, or with command "C-c" to interrupt it; then run this command.'
            )
        left_running, self._left_running = self._left_running, result.still_running
        if args.is_input and not result.still_running and result.output.startswith(NOT_SENT):
            if left_running:
                # The command ended between two calls and the shell kept no result for it.
                return ToolResult(
                    content="The previous command has finished since its last output, so "
                    "nothing was sent; its exit code is unknown. Check its effects with a "
                    "new command (is_input=false).",
                    is_error=True,
                    cwd=result.cwd or None,
                )
            return ToolResult(
                content="No command is running, so nothing was sent. is_input=true only "
                "talks to a command that is still running; run new commands with "
                "is_input=false.",
                is_error=True,
                cwd=result.cwd or None,
            )
        sent_ctrl_c = args.is_input and command == "C-c"
        return observation(result, args.timeout, no_output, sent_ctrl_c=sent_ctrl_c)


BashTool.description = BashTool._template.format(no_output=f"{DEFAULT_NO_OUTPUT_TIMEOUT:g}")


def _key_alias(command: str) -> str:
    """Accept the spellings of control keys models commonly use, e.g. "ctrl+c", "^C"."""
    text = command.strip()
    lowered = text.lower().replace(" ", "")
    for prefix in ("ctrl+", "ctrl-", "control+", "control-", "^", "c-"):
        if lowered.startswith(prefix) and len(lowered) == len(prefix) + 1:
            return "C-" + lowered[-1]
    return command


def observation(
    result: CommandResult,
    timeout: float | None,
    no_output_timeout: float | None,
    *,
    sent_ctrl_c: bool = False,
) -> ToolResult:
    """The model's view of a command result: output, then a bracketed status line."""
    output = result.output.rstrip("\n")
    notes: list[str] = []
    ended: str | None = None
    if result.truncated:
        notes.append(
            "The output was too long and its middle was cut; redirect it to a file and use "
            "head, tail or grep to see the rest."
        )
    if result.still_running:
        wait = f"{no_output_timeout:g} s" if no_output_timeout else "a while"
        notes.append(
            f"The command printed nothing new for {wait} and is still running. Call bash "
            'with is_input=true and command "" to wait for more output, with text to send '
            'it input, or with command "C-c" to interrupt it. A new command cannot run '
            "until it ends."
        )
    elif result.timed_out:
        ended = "timeout"
        limit = f" after {timeout:g} s" if timeout else ""
        notes.append(
            f"The command was killed: it hit its timeout{limit}. Run long jobs in the "
            "background, or give a larger timeout."
        )
    elif result.interrupted and sent_ctrl_c:
        # The model's own C-c: the call did what it asked; nothing ended early.
        notes.append("The command was interrupted with C-c.")
    elif result.interrupted:
        ended = "interrupted"
        notes.append("The command was interrupted by the user.")
    status = []
    if result.exit_code is not None:
        status.append(f"exit code {result.exit_code}")
    if result.cwd:
        status.append(f"cwd {result.cwd}")
    lines = [output if output else "(no output)"]
    lines.extend(f"[{note}]" for note in notes)
    if status:
        lines.append(f"[{', '.join(status)}]")
    return ToolResult(
        content="\n".join(lines),
        exit_code=result.exit_code,
        cwd=result.cwd or None,
        ended=ended,
        still_running=result.still_running,
    )
