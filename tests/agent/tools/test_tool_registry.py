"""Tool, register_tool, resolve_tools, the schemas the model gets, and bad arguments.

None of this needs a container: arguments are checked before the workspace is touched.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jsonschema
import pytest
from pydantic import BaseModel

from agent import Tool, register_tool
from agent.tools import (
    BashTool,
    FileEditorTool,
    FinishTool,
    ToolDefinition,
    ToolResult,
    resolve_tools,
)
from agent.tools.registry import registered_tools

ALL_TOOLS = [BashTool(), FileEditorTool(), FinishTool()]


def test_seed_style_registration_resolves_to_the_model_names() -> None:
    register_tool("BashTool", BashTool)  # again, as the seed program does: harmless
    register_tool("FileEditorTool", FileEditorTool)
    tools = resolve_tools([Tool(name="BashTool"), Tool(name="FileEditorTool")])
    assert [t.name for t in tools] == ["bash", "file_editor", "finish"]
    assert [t.name for t in resolve_tools(["bash", "finish"])] == ["bash", "finish"]


def test_unknown_tool_names_the_registered_ones() -> None:
    with pytest.raises(ValueError, match=r"Unknown tool 'Shell'.*BashTool.*FileEditorTool"):
        resolve_tools([Tool(name="Shell")])


def test_params_reach_the_tool_and_bad_params_are_reported() -> None:
    (bash, _finish) = resolve_tools([Tool(name="bash", params={"no_output_timeout": 5})])
    assert isinstance(bash, BashTool)
    assert bash.no_output_timeout == 5
    assert "nothing for 5 s" in bash.openai_schema()["function"]["description"]
    with pytest.raises(ValueError, match="rejected params"):
        resolve_tools([Tool(name="bash", params={"colour": "red"})])


def test_a_tool_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        resolve_tools(["BashTool", "bash"])


def test_custom_tools_register_and_only_definitions_are_accepted() -> None:
    class EchoArgs(BaseModel):
        text: str

    class EchoTool(ToolDefinition[EchoArgs]):
        name: ClassVar[str] = "echo"
        description: ClassVar[str] = "Echo text back."
        Arguments: ClassVar[type[BaseModel]] = EchoArgs

        def execute(self, args: EchoArgs, workspace: Any, on_output: Any = None) -> ToolResult:
            return ToolResult(content=args.text)

    register_tool("EchoTool", EchoTool)
    assert registered_tools()["EchoTool"] is EchoTool
    (echo, _finish) = resolve_tools([Tool(name="EchoTool")])
    assert echo.run({"text": "hi"}, workspace=None).content == "hi"
    with pytest.raises(TypeError, match="ToolDefinition subclass"):
        register_tool("nope", print)  # type: ignore[arg-type]


@pytest.mark.parametrize("tool", ALL_TOOLS, ids=lambda t: t.name)
def test_schemas_are_valid_flat_json_schema(tool: ToolDefinition) -> None:
    schema = tool.openai_schema()
    assert schema["type"] == "function"
    function = schema["function"]
    assert function["name"] == tool.name
    assert len(function["description"]) > 80
    params = function["parameters"]
    jsonschema.Draft202012Validator.check_schema(params)
    assert params["type"] == "object"
    text = repr(params)
    for unwanted in ("$ref", "$defs", "anyOf", "'title'", "'null'"):
        assert unwanted not in text, unwanted
    for prop in params["properties"].values():
        assert prop.get("type") and prop.get("description")


def test_required_fields_and_parameters_match_the_design() -> None:
    bash, editor, finish = (t.openai_schema()["function"]["parameters"] for t in ALL_TOOLS)
    assert bash["required"] == ["command"]
    assert set(bash["properties"]) == {"command", "is_input", "timeout"}
    assert editor["required"] == ["command", "path"]
    assert set(editor["properties"]) == {
        "command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range",
    }  # fmt: skip
    assert editor["properties"]["command"]["enum"] == [
        "view", "create", "str_replace", "insert", "undo_edit",
    ]  # fmt: skip
    assert finish["required"] == ["message"]


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        (BashTool(), {}, "command: required but missing"),
        (BashTool(), {"command": ["ls"]}, "command: Input should be a valid string"),
        (BashTool(), {"command": "sleep 9", "timeout": 0}, "timeout: Input should be greater"),
        (BashTool(), {"command": "ls", "is_input": "maybe"}, "is_input: Input should be a valid"),
        (BashTool(), {"command": "  "}, "command is empty"),
        (BashTool(), "ls -la", "must be a JSON object"),
        (FileEditorTool(), {"path": "/a"}, "command: required but missing"),
        (FileEditorTool(), {"command": "delete", "path": "/a"}, "'view', 'create'"),
        (FileEditorTool(), {"command": "view"}, "path: required but missing"),
        (FileEditorTool(), {"command": "view", "path": "src/a.py"}, "'/workspace/src/a.py'"),
        (FileEditorTool(), {"command": "view", "path": "/a", "view_range": [3]}, "view_range"),
        (FileEditorTool(), {"command": "insert", "path": "/a", "insert_line": -1}, "insert_line"),
        (FinishTool(), {"msg": "done"}, "message: required but missing"),
        (FinishTool(), None, "must be a JSON object"),
    ],
)
def test_bad_arguments_come_back_as_errors_that_say_what_is_expected(
    tool: ToolDefinition, arguments: Any, expected: str
) -> None:
    # workspace=None: validation must answer before the workspace is ever touched.
    result = tool.run(arguments, workspace=None)  # type: ignore[arg-type]
    assert result.is_error
    assert expected in result.content
    if "required but missing" in expected or "Input should" in expected:
        assert f"`{tool.name}` takes:" in result.content


def test_forgiving_about_what_models_commonly_send() -> None:
    # Strings for numbers and booleans, nulls for unused fields, and extra keys are fine.
    args = FileEditorTool.Arguments.model_validate(
        {"command": "view", "path": "/w//a/../b.py", "view_range": ["1", "-1"],
         "file_text": None, "security_risk": "LOW"}
    )  # fmt: skip
    assert args.path == "/w/b.py"
    assert args.view_range == [1, -1]
    assert (
        BashTool.Arguments.model_validate({"command": "ls", "is_input": "false"}).is_input is False
    )


def test_finish_returns_its_message() -> None:
    result = FinishTool().run({"message": "All done: wrote hello.txt"}, workspace=None)  # type: ignore[arg-type]
    assert not result.is_error
    assert result.content == "All done: wrote hello.txt"
