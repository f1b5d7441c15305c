"""``trace-request --lifespan``: run the app's startup and shutdown only, and draw both traces.

The lifespan is driven through the app's ASGI interface, as a server drives
it (not by entering ``router.lifespan_context`` directly), so the tracer's edge
probe records it: one trace for startup, one for shutdown, drawn in that
order. A failed startup is drawn too (it is what the user wants to see) and
then exits 1, as the failed request of a plain run would not.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracer.cli.errors import CLIError

if TYPE_CHECKING:
    from tracer.cli.captured import AppOutput

PHASES = ("startup", "shutdown")
#: An answer from the app the CLI stops waiting for: it returned or raised instead.
_ENDED = {"type": "app ended"}


def drive_lifespan(app: Any, output: AppOutput | None = None) -> tuple[list[Any], str | None]:
    """Start and shut down ``app``; ``(traces, failure)`` — the lifespan traces in order, and
    a message when a phase failed (``None`` when both completed)."""
    return asyncio.run(_drive(app, output))


async def _drive(app: Any, output: AppOutput | None) -> tuple[list[Any], str | None]:
    import tracer

    if not tracer.is_instrumented(app):
        tracer.instrument(app, store=False, record_url_values=True)
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await to_app.get()

    async def send(message: dict[str, Any]) -> None:
        await from_app.put(message)

    raised: BaseException | None = None
    with tracer.capture(app, lifespan=True) as traces:
        if output is not None:
            output.start("startup")
        task = asyncio.ensure_future(app(scope, receive, send))
        await to_app.put({"type": "lifespan.startup"})
        answer = await _answer(from_app, task)
        phase = "startup"
        if answer["type"] == "lifespan.startup.complete":
            phase = "shutdown"
            if output is not None:
                output.start("shutdown")
            await to_app.put({"type": "lifespan.shutdown"})
            answer = await _answer(from_app, task)
        try:
            await task
        except Exception as exc:  # the app's own failure: reported below, as a server would
            raised = exc
    failure = None
    if raised is not None or answer["type"] != f"lifespan.{phase}.complete":
        if raised is not None:
            reason = f"{type(raised).__name__}: {raised}"
        else:  # the ASGI message carries the traceback: its last line names the exception
            lines = str(answer.get("message") or "").strip().splitlines()
            reason = lines[-1] if lines else "the app ended without answering"
        failure = f"the app's {phase} (lifespan) failed: {reason}"
    lifespan = [t for t in traces.traces if t.meta.get("kind") == "lifespan"]
    return lifespan, failure


async def _answer(from_app: asyncio.Queue[dict[str, Any]], task: Any) -> dict[str, Any]:
    """The app's next message, or :data:`_ENDED` if it returned (or raised) without one."""
    getter = asyncio.ensure_future(from_app.get())
    done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()
    return _ENDED


def lifespan_targets(output: Path, renderer: str) -> list[Path]:
    """The files ``-o`` writes: one JSON array, or one document per phase."""
    if renderer == "json":
        return [output]
    return [output.with_name(f"{output.stem}.{phase}{output.suffix}") for phase in PHASES]


def render_lifespan(
    traces: list[Any],
    *,
    renderer: str,
    export: Any,
    output: Path | None,
    console: Any,
    notes: Any,
    width: int | None,
    ascii_only: bool,
    color: bool,
    explain: bool,
) -> None:
    """Draw the startup trace, then the shutdown trace: on the terminal, as one JSON array,
    or in ``-o FILE`` (JSON: one file; other formats: ``NAME.startup.EXT`` and
    ``NAME.shutdown.EXT``, each a complete document)."""
    from tracer.cli import output as out

    if renderer == "json":
        document = "[\n" + ",\n".join(_json(trace) for trace in traces) + "\n]\n"
        if output is not None:
            out.write_atomically(output, document)
            notes.print(f"wrote json (both lifespan traces) to {output}")
        else:
            console.file.write(document)
        return
    for number, trace in enumerate(traces):
        renderable, text = out.render(
            trace, renderer, export=export, width=width, ascii=ascii_only, color=color,
            explain=explain,
        )  # fmt: skip
        if output is not None:
            phase = str(trace.meta.get("lifespan", number))
            target = output.with_name(f"{output.stem}.{phase}{output.suffix}")
            out.write_atomically(target, text if text is not None else "")
            notes.print(f"wrote {renderer}{f' ({export})' if export else ''} to {target}")
        elif renderable is not None:
            if number:
                console.print()
            console.print(renderable)
            console.print(out.findings(trace, width=width, ascii=ascii_only))
        else:
            console.file.write(text if text is not None and text.endswith("\n") else f"{text}\n")


def _json(trace: Any) -> str:
    """The JSON renderer's document for one trace, indented inside the array."""
    from tracer.renderers import get_renderer

    document = json.loads(get_renderer("json")().render(trace))
    return "\n".join(f"  {line}" for line in json.dumps(document, indent=2).splitlines())


def lifespan_only(
    app_spec: str | None,
    renderer: str,
    export: Any,
    output: Path | None,
    force: bool,
    console: Any,
    notes: Any,
    width: int | None,
    ascii_only: bool,
    color: bool,
    explain: bool,
    given: dict[str, object],
) -> None:
    """``trace-request --lifespan``: refuse request options (exit 2), run, draw, then exit 1
    if a phase failed (docs/cli.md)."""
    from tracer.cli import output as out
    from tracer.cli.captured import AppOutput
    from tracer.cli.loading import load_app

    clashing = [name for name, value in given.items() if value]
    if clashing:
        raise CLIError(f"--lifespan traces no request: give no {', '.join(clashing)} with it")
    if output is not None:
        for target in lifespan_targets(output, renderer):
            out.check_writable(target, force)
    captured = AppOutput()
    with captured:  # the app's prints and logs never reach our stdout
        traces, failure = drive_lifespan(load_app(app_spec), output=captured)
    render_lifespan(
        traces, renderer=renderer, export=export, output=output, console=console, notes=notes,
        width=width, ascii_only=ascii_only, color=color, explain=explain,
    )  # fmt: skip
    shown = captured.of("import", "startup", "shutdown")
    block = out.app_output_block(shown, raw=True, dropped=captured.dropped)
    if block is not None:
        notes.print(block, soft_wrap=True)
    if failure is not None:
        raise CLIError(failure, exit_code=1)
