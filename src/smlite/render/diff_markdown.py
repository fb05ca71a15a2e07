"""``smlite diff --format markdown``: a pull-request comment.

GitHub-flavoured Markdown: a heading with the counts, the verdict, one
table per severity (breaking open, compatible and info folded in
``<details>``), notes.  Every name from a model is escaped twice: control
characters as with text output, then Markdown and HTML punctuation, so a
signature called ``</details>`` or ``| x |`` cannot change the comment.
"""

from __future__ import annotations

import re

from smlite.model.diff import Change, Diff, Severity
from smlite.render.diff import (
    AREA_TITLES,
    MAX_SHOWN,
    grouped,
    message_text,
    side_text,
    spell,
    summary_line,
)
from smlite.render.escape import escape

__all__ = ["diff_markdown", "md"]

# Markdown that could act in the middle of a line (every model text follows other text).
_PUNCTUATION = re.compile(r"([\\`*_\[\]#!|~])")
_ICONS = {Severity.BREAKING: "🔴", Severity.COMPATIBLE: "🟡", Severity.INFO: "🔵"}


def md(text: str) -> str:
    """``text`` safe inside Markdown prose and table cells."""
    safe = escape(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PUNCTUATION.sub(r"\\\1", safe)


def _row(c: Change) -> str:
    old = md(spell(c.old)) if c.old is not None else ""
    new = md(spell(c.new)) if c.new is not None else ""
    return f"| {md(c.kind)} | {md(c.path)} | {md(message_text(c))} | {old} | {new} |"


def diff_markdown(d: Diff, *, fail_on: str = "breaking") -> str:
    """The whole comment, ending with a newline."""
    counts = {s: len(d.of(s)) for s in Severity}
    title = (
        f"{counts[Severity.BREAKING]} breaking change(s)"
        if counts[Severity.BREAKING]
        else "no breaking changes"
    )
    lines = [
        f"### smlite diff: {title}",
        "",
        f"**Verdict:** {md(d.verdict.text)} ({md(d.verdict.basis)})",
        "",
        f"old: {md(side_text(d.old))}  ",
        f"new: {md(side_text(d.new))}",
        "",
    ]
    if not d.changes:
        lines += ["No changes.", ""]
    for severity in Severity:
        groups = [(area, changes) for s, area, changes in grouped(d) if s is severity]
        if not groups:
            continue
        heading = f"{_ICONS[severity]} {severity.value} ({counts[severity]})"
        folded = severity is not Severity.BREAKING
        if folded:
            lines += ["<details>", f"<summary>{heading}</summary>", ""]
        else:
            lines += [f"#### {heading}", ""]
        for area, changes in groups:
            lines += [
                f"**{AREA_TITLES[area]}**",
                "",
                "| kind | where | what | old | new |",
                "|---|---|---|---|---|",
            ]
            lines += [_row(c) for c in changes[:MAX_SHOWN]]
            if len(changes) > MAX_SHOWN:
                lines.append(f"| … | {len(changes) - MAX_SHOWN} more | | | |")
            lines.append("")
        if folded:
            lines += ["</details>", ""]
    for note in d.notes:
        lines.append(f"> {md(note)}  ")
    lines += ["", f"_{md(summary_line(d, fail_on))}_", ""]
    return "\n".join(lines)
