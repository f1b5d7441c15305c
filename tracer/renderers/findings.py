"""What went wrong and where: the diagnostics, printed under any terminal view."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from tracer.analysis.diagnostics import Finding
from tracer.renderers import theme
from tracer.renderers.chrome import MIN_WIDTH, note_lines
from tracer.renderers.glyphs import glyphs_for

_STYLE = {"error": theme.ERROR, "warning": theme.WARN, "info": "bold cyan"}
#: Enough for any detector's evidence at 60 columns; past it the note says where the rest is.
DETAIL_LINES = 16


class FindingsView:
    """A Rich renderable listing findings: severity, title, evidence, where to look."""

    def __init__(
        self, findings: Sequence[Finding], *, width: int | None = None, ascii: bool = False
    ) -> None:
        self.findings = list(findings)
        self.width = width
        self.ascii = ascii

    def lines(self, width: int) -> list[Text]:
        if not self.findings:
            return []
        g = glyphs_for(self.ascii)
        mark = {"error": g.error, "warning": g.warn, "info": "i"}
        head = "findings" if len(self.findings) > 1 else "finding"
        out = [Text(f" {len(self.findings)} {head}", "bold", end="\n")]
        for finding in self.findings:
            style = _STYLE.get(finding.severity, theme.MUTED)
            out.extend(
                _restyle(
                    note_lines(
                        f"{mark.get(finding.severity, '-')} {finding.title}", width, "", self.ascii
                    ),
                    style,
                )
            )
            # a finding's evidence is what the reader came for: wrapped whole, not cut
            out.extend(note_lines(f"  {finding.detail}", width, "", self.ascii, DETAIL_LINES))
            out.extend(note_lines(f"  look at: {finding.layer}", width, theme.MUTED, self.ascii))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(max(MIN_WIDTH, self.width or options.max_width))


def _restyle(lines: list[Text], style: str) -> list[Text]:
    for line in lines:
        line.stylize(style)
    return lines
