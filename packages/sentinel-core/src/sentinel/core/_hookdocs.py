"""The hook reference, rendered as Markdown from the hook specifications."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pluggy

from sentinel.core import hookspecs

BEGIN_MARKER = "<!-- BEGIN hook reference: generated from hookspecs.py -->"
END_MARKER = "<!-- END hook reference -->"


@dataclass(frozen=True, slots=True)
class HookDoc:
    """One hook specification: its name, signature, options and docstring."""

    name: str
    signature: str
    options: tuple[str, ...]
    doc: str


def hook_docs() -> list[HookDoc]:
    """List every hook specification in the order of the specs module."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    found: list[tuple[int, HookDoc]] = []
    for name, caller in vars(manager.hook).items():
        spec = getattr(caller, "spec", None)
        if spec is None:
            continue
        function: Callable[..., Any] = spec.function
        line = inspect.getsourcelines(function)[1]
        options = tuple(key for key, value in sorted(spec.opts.items()) if value)
        doc = inspect.cleandoc(function.__doc__ or "")
        found.append((line, HookDoc(name, _signature(function), options, doc)))
    return [doc for _line, doc in sorted(found)]


def _signature(function: Callable[..., Any]) -> str:
    # The specs module postpones annotations, so they are already source text;
    # str(inspect.signature) would print them quoted.
    signature = inspect.signature(function)
    parameters = []
    for parameter in signature.parameters.values():
        annotation = parameter.annotation
        if annotation is inspect.Parameter.empty:
            parameters.append(parameter.name)
        else:
            parameters.append(f"{parameter.name}: {_annotation(annotation)}")
    text = f"({', '.join(parameters)})"
    if signature.return_annotation is not inspect.Signature.empty:
        text += f" -> {_annotation(signature.return_annotation)}"
    return text


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


def render_reference() -> str:
    """Render the hook reference: one Markdown section per hook."""
    blocks = []
    for hook in hook_docs():
        lines = [
            f"### `{hook.name}`",
            "",
            "```python",
            f"def {hook.name}{hook.signature}",
            "```",
            "",
        ]
        if hook.options:
            lines += [f"Options: {', '.join(hook.options)}.", ""]
        lines.append(hook.doc or "(no description)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def replace_reference(text: str, reference: str) -> str:
    """Return ``text`` with the part between the reference markers replaced."""
    begin = text.find(BEGIN_MARKER)
    end = text.find(END_MARKER)
    if begin < 0 or end < begin:
        raise ValueError(
            f"the document has no {BEGIN_MARKER!r} ... {END_MARKER!r} block; "
            "add both markers where the hook reference belongs"
        )
    head = text[: begin + len(BEGIN_MARKER)]
    return f"{head}\n\n{reference}\n{text[end:]}"
