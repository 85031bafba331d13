"""JSON schemas for tool calling, derived from the tools' pydantic argument models.

Pydantic's schemas carry `$defs`/`$ref`, `title`s and `anyOf: [X, null]` for optional
fields. OpenAI-style tool calling takes plain JSON Schema, but several providers behind
litellm reject refs, null unions or titles, so the schema the model sees is flattened to
the common subset: objects, properties, required, types, enums, items, descriptions.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

# Keys kept on a property; anything else pydantic emits is dropped. (exclusiveMinimum is
# left out: its form differs between drafts and some providers reject it; pydantic still
# enforces the bound.)
_KEPT_KEYS = {
    "type",
    "description",
    "enum",
    "items",
    "properties",
    "required",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "default",
}


def tool_parameters_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The `parameters` object of a function tool for ``model``."""
    raw = model.model_json_schema()
    defs = raw.get("$defs", {})
    cleaned = _clean(raw, defs)
    cleaned["type"] = "object"
    cleaned.setdefault("properties", {})
    cleaned.setdefault("required", [])
    return cleaned


def _clean(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_clean(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "$ref" in node:
        target = copy.deepcopy(defs[node.pop("$ref").rsplit("/", 1)[-1]])
        # Sibling keys (a field's description) win over the referenced definition's.
        node = {**target, **node}
    for union_key in ("anyOf", "oneOf"):
        if union_key in node:
            options = [opt for opt in node.pop(union_key) if opt != {"type": "null"}]
            if len(options) == 1:
                node = {**_clean(options[0], defs), **node}
            else:
                node[union_key] = [_clean(opt, defs) for opt in options]
    if node.get("default", 0) is None:
        del node["default"]
    if "const" in node:
        node["enum"] = [node.pop("const")]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _clean(prop, defs) for name, prop in value.items()}
        elif key == "items":
            out[key] = _clean(value, defs)
        elif key in _KEPT_KEYS or key in ("anyOf", "oneOf"):
            out[key] = value
    return out
