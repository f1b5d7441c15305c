"""Where output goes: the response summary, the rendered trace, files written safely."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracer.cli.errors import CLIError

if TYPE_CHECKING:
    from tracer.renderers.base import ExportFormat

MACHINE_FORMATS = frozenset({"json", "mermaid"})
_EXPORTS: dict[str, ExportFormat] = {"svg": "svg", "html": "html", "text": "txt"}
BODY_EXCERPT = 600


def resolve_format(fmt: str | None, output: Path | None) -> tuple[str, ExportFormat | None]:
    """``(renderer name, export kind)``: which view to draw, and whether to export it.

    The export kind (``svg``/``html``/``txt``) comes from ``-o``'s extension or
    from ``--format svg|html|text``; the view from ``--format`` (sequence by default).
    """
    from tracer.renderers import RENDERERS, guess_format

    if fmt is not None and fmt not in RENDERERS:
        raise CLIError(f"unknown format {fmt!r} (choose from {', '.join(RENDERERS)})")
    guessed = guess_format(output) if output is not None else None
    if output is not None and fmt is None and guessed is None:
        raise CLIError(
            f"cannot tell the format from {output.name!r}: give --format "
            f"({', '.join(RENDERERS)}) or use .json .mmd .svg .html .txt"
        )
    export: ExportFormat | None = _EXPORTS.get(guessed or "")
    if fmt in _EXPORTS:
        export, fmt = _EXPORTS[fmt], None
    if fmt is None:
        fmt = guessed if guessed in MACHINE_FORMATS else "sequence"
    if fmt in MACHINE_FORMATS:
        export = None
    return fmt, export


def check_writable(output: Path, force: bool) -> None:
    """Fail before any work if ``output`` cannot be written or would overwrite a file."""
    if output.exists() and not force:
        raise CLIError(f"{output} exists; pass --force to overwrite it")
    if output.is_symlink() and not force:  # exists() follows the link: this one dangles
        raise CLIError(f"{output} is a link to a missing file; pass --force to replace the link")
    if output.exists() and output.is_dir():
        raise CLIError(f"{output} is a directory")
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"cannot write {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise CLIError(f"cannot write {output}: directory {parent} is not writable")


def write_atomically(output: Path, text: str) -> None:
    """Write through a temporary file, so a failure never leaves half a file behind."""
    parent = output.parent if str(output.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, output)
    except OSError as exc:
        raise CLIError(f"cannot write {output}: {exc.strerror or exc}") from exc


def render(
    trace: Any,
    fmt: str,
    *,
    export: ExportFormat | None,
    width: int | None,
    ascii: bool,
    color: bool,
    explain: bool = False,
) -> tuple[Any, str | None]:
    """A Rich renderable for the terminal, or the finished text for a file/machine format."""
    from tracer.renderers import SequenceRenderer, get_renderer
    from tracer.renderers import export as export_renderable
    from tracer.renderers.chrome import outcome, outcome_text
    from tracer.renderers.labels import request_line

    renderer = (
        SequenceRenderer(width=width, ascii=ascii, color=color, explain=True)
        if explain and fmt == "sequence"
        else get_renderer(fmt)(width=width, ascii=ascii, color=color)
    )
    if export == "html":  # the interactive page: sequence diagram, waterfall, findings
        return None, get_renderer("html")(width=width, ascii=ascii, color=color).render(trace)
    renderable_of = getattr(renderer, "renderable", None)
    if export is not None and renderable_of is not None:
        title = f"{request_line(trace)} → {outcome_text(outcome(trace))}"
        return None, export_renderable(renderable_of(trace), width or 100, export, title=title)
    if fmt in MACHINE_FORMATS or renderable_of is None:
        return None, renderer.render(trace)
    return renderable_of(trace), None


def response_summary(exchange: Any) -> Any:
    """Status line, the interesting headers and a body excerpt, as a Rich renderable."""
    from rich.console import Group
    from rich.text import Text

    from tracer.redaction import redact_headers

    status = exchange.status_code
    style = "bold green" if status < 400 else "bold yellow" if status < 500 else "bold red"
    lines: list[Any] = [Text.assemble(("HTTP ", "dim"), (f"{status} {exchange.reason}", style))]
    for name, value in redact_headers(exchange.headers):
        lines.append(Text.assemble((f"{name}: ", "cyan"), value))
    body = _excerpt(exchange.body, dict(exchange.headers).get("content-type", ""))
    if body:
        lines.append(Text(body, style="default"))
    return Group(*lines, Text(""))


def _excerpt(body: bytes, content_type: str) -> str:
    if not body:
        return ""
    if "json" in content_type:
        try:
            text = json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            text = body.decode("utf-8", "replace")
    elif content_type.startswith("text/") or not content_type:
        text = body.decode("utf-8", "replace")
    else:
        return f"<{len(body)} bytes of {content_type}>"
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + f"… ({len(body)} B)"


def make_console(*, stderr: bool = False, color: bool = True, width: int | None = None) -> Any:
    """A console for our output; without ``color`` it writes no escape code at all.

    Rich's ``no_color`` drops colours only: bold, italic and reverse still go out
    to a terminal. With no colour system there are no styles to write.
    """
    from rich.console import Console

    return Console(
        stderr=stderr,
        width=width,
        color_system="auto" if color else None,
        no_color=not color or None,
        highlight=False,
        soft_wrap=False,
        file=sys.stderr if stderr else sys.stdout,
    )


def findings(trace: Any, *, width: int | None, ascii: bool) -> Any:
    """The diagnostics for ``trace`` as a renderable (empty when nothing was found)."""
    from tracer.analysis.diagnostics import diagnose
    from tracer.renderers.findings import FindingsView

    return FindingsView(diagnose(trace), width=width, ascii=ascii)


def reveal(console: Any, view: Any) -> None:
    """Print a sequence view one step group at a time; a key advances, ``q`` shows the rest.

    Without an interactive terminal there is no one to press a key: print it all.
    """
    import typer

    from tracer.renderers.chrome import Lines

    width = view.width or console.width
    pages = view.pages(width) if hasattr(view, "pages") else [[view]]
    interactive = sys.stdin.isatty() and console.is_terminal
    for index, page in enumerate(pages):
        console.print(Lines(page))
        last = index == len(pages) - 1
        if interactive and not last and index > 0:
            console.print("[dim]  … any key: next step · q: the rest[/dim]", end="\r")
            key = typer.getchar()
            console.print(" " * 40, end="\r")
            if key.lower() == "q":
                interactive = False


def app_output_lines(trace: Any) -> list[Any]:
    """The app output a trace holds (``app.output`` and ``log`` events), in time order."""
    from tracer.cli.captured import OutputLine

    found: list[tuple[int, OutputLine]] = []
    for span in trace.spans:
        for event in span.events:
            if event.name not in ("app.output", "log"):
                continue
            attrs = event.attributes
            is_log = event.name == "log"
            line = OutputLine(
                "request",
                str(attrs.get("logger" if is_log else "stream", "")),
                str(attrs.get("level", "")) if is_log else None,
                str(attrs.get("text", "")),
                event.time_ns - trace.start_ns,
                span.name if span.parent_id else "request",
            )
            found.append((event.time_ns, line))
    return [line for _, line in sorted(found, key=lambda pair: pair[0])]


def trace_output_block(trace: Any) -> Any:
    """The block for a trace drawn without running the app (``--url``, ``--load``, ``show``)."""
    dropped = int((trace.meta.get("app_output") or {}).get("dropped", 0))
    return app_output_block(app_output_lines(trace), raw=False, dropped=dropped)


def app_output_block(lines: list[Any], *, raw: bool, not_shown: int = 0, dropped: int = 0) -> Any:
    """The "app output" block: one row per line, when (or in which part of the run) it
    was written, its stream or level and logger, and the span it was written in.

    ``raw`` lines are the app's own output as it wrote it (made terminal-safe,
    never scrubbed: the person running the CLI is looking at their own app);
    otherwise they come from a trace, already scrubbed. ``None`` when there is nothing.
    """
    from rich.console import Group
    from rich.text import Text

    from tracer.renderers.terminal_safe import safe

    if not lines and not not_shown and not dropped:
        return None
    how = "as the app wrote them; the trace keeps them scrubbed" if raw else "from the trace"
    count = f"{len(lines)} line{'s' if len(lines) != 1 else ''}"
    rows: list[Any] = [Text.assemble((" app output", "bold"), (f" · {count}, {how}", "dim"))]
    sources = [safe(f"{line.level} {line.source}" if line.level else line.source) for line in lines]
    pad = min(24, max((len(source) for source in sources), default=0))
    for line, source in zip(lines, sources, strict=True):
        when = f"{line.offset_ns / 1e6:.3f}" if line.offset_ns is not None else line.section
        style = "yellow" if line.level in ("WARNING", "ERROR", "CRITICAL") else "cyan"
        row = Text.assemble(f"  {when:>9}  ", (source.ljust(pad), style), "  ", safe(line.text))
        if line.span:
            row.append(f"  (in {safe(line.span)})", style="dim")
        rows.append(row)
    if not_shown:
        rows.append(Text(f"  {not_shown} more from the warm-up and earlier requests", "dim"))
    if dropped:
        rows.append(Text(f"  {dropped} more not kept (the per-request cap)", "dim"))
    return Group(*rows, Text(""))
