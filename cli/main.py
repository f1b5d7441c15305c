"""``trace-request METHOD PATH``: trace one request and draw it.

Only argument parsing and orchestration live here; tracing is ``tracer``,
drawing is ``tracer.renderers``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracer.cli.commands import INTERRUPTED, list_command, show_command, tail_command, tour_command
from tracer.cli.errors import CLIError
from tracer.cli.group import DefaultCommandGroup
from tracer.cli.options import AsciiOption, FormatOption, NoColorOption, WidthOption

if TYPE_CHECKING:
    from tracer.cli.captured import AppOutput

app = typer.Typer(
    cls=DefaultCommandGroup,
    name="trace-request",
    help=(
        "Trace one request through a FastAPI app and draw every phase of it.\n\n"
        "\b\n"  # keep these lines as they are: no rewrapping
        "With no command name, trace is run (the demo app unless --app):\n"
        "  trace-request GET /users/1\n"
        "  trace-request trace --help     its options\n"
        "  trace-request tour             a guided tour of the ten steps"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


@app.command("trace")
def trace(
    method: Annotated[
        str | None, typer.Argument(metavar="METHOD", help="HTTP method, e.g. GET or POST.")
    ] = None,
    path: Annotated[
        str | None,
        typer.Argument(metavar="PATH", help="Path with optional query, e.g. '/search?q=ada'."),
    ] = None,
    json_body: Annotated[
        str | None,
        typer.Option("--json", metavar="BODY", help="JSON request body (sets content-type)."),
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", metavar="BODY", help="Raw request body.")
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("-H", "--header", metavar="'NAME: VALUE'", help="'Name: value', repeatable."),
    ] = None,
    app_spec: Annotated[
        str | None,
        typer.Option(
            "--app",
            metavar="MODULE:ATTR",
            help="module:attr of a FastAPI/Starlette app or factory.",
        ),
    ] = None,
    fmt: FormatOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Write to FILE (.json .mmd .svg .html .txt); '-' for stdout.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing -o FILE.")] = False,
    width: WidthOption = None,
    ascii_only: AsciiOption = False,
    no_color: NoColorOption = False,
    repeat: Annotated[
        int,
        typer.Option(
            "--repeat",
            "-n",
            min=1,
            max=1000,
            metavar="N",
            help="Send N times, show the last (warm) trace (--compare: the first and last).",
        ),
    ] = 1,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Teach: what each of the ten steps did in this request."),
    ] = False,
    step: Annotated[
        int | None,
        typer.Option(
            "--step",
            min=1,
            max=10,
            metavar="N",
            help="Focus on step N (1-10): the request small, step N large, what can go wrong.",
        ),
    ] = None,
    steps: Annotated[
        bool,
        typer.Option("--steps", help="Each step's focus in turn (n/p/q in a terminal)."),
    ] = False,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="With --repeat N: the first (cold) and the last (warm) request, step by step.",
        ),
    ] = False,
    cold: Annotated[
        bool,
        typer.Option(
            "--cold",
            help="Skip the untraced warm-up request, to see the app's first-request costs.",
        ),
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            metavar="URL",
            help="Send the request to a running server (tracer embedded) and show its trace.",
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option("--store", metavar="PATH", help="Trace store the server writes (with --url)."),
    ] = None,
    load: Annotated[
        Path | None,
        typer.Option(
            "--load",
            metavar="FILE",
            help="Re-render a saved trace (ours or OTLP JSON); no request.",
        ),
    ] = None,
    lifespan: Annotated[
        bool,
        typer.Option(
            "--lifespan",
            help="Trace the app's startup and shutdown instead of a request (no METHOD/PATH).",
        ),
    ] = False,
) -> None:
    """Trace one request through a FastAPI app and draw every phase of it.

    With no --app, the bundled demo API runs in-process (nothing to start):

      trace-request POST /users --json '{"email": "ada@example.com", "password": "s3cret-pass"}'
    """
    from tracer.cli import output as out
    from tracer.cli.teaching_views import check_options

    repeat = check_options(step, steps, compare, repeat, fmt, output, url, load)
    to_stdout = output is not None and str(output) == "-"
    if to_stdout:  # `-o -`: what a file would hold, on stdout (the JSON document by default)
        output, fmt = None, fmt or "json"
    if output is not None:
        out.check_writable(output, force)
    renderer, export = out.resolve_format(fmt, output)
    if to_stdout and export is None and renderer not in out.MACHINE_FORMATS:
        export = "txt"
    color = not no_color and output is None and not to_stdout
    stdout_is_document = to_stdout or (output is None and renderer in out.MACHINE_FORMATS)
    console = out.make_console(color=color, width=width)
    notes = out.make_console(stderr=True, color=color)
    if lifespan:  # startup and shutdown traces only (tracer.cli.lifespan)
        from tracer.cli.lifespan import lifespan_only

        given: dict[str, object] = {"METHOD": method, "PATH": path, "--url": url, "--load": load}
        given |= {"--json": json_body, "--data": data, "-H": header, "--step": step}
        given |= {"--steps": steps, "--compare": compare}
        options = (width, ascii_only, color, explain)
        lifespan_only(app_spec, renderer, export, output, force, console, notes, *options, given)
        return

    captured: AppOutput | None = None
    exchanges: list[Any] = []
    teaching = step is not None or steps or compare
    if load is not None:
        if method or path:
            raise CLIError("--load re-renders a saved trace: give no METHOD or PATH with it")
        trace_ = _load_trace(load)
    else:
        if not method or not path:
            raise CLIError("give METHOD and PATH, e.g.: trace-request GET /users/1")
        from tracer.cli.driving import drive_many, parse_request
        from tracer.cli.loading import load_app

        spec = parse_request(method, path, json_body, data, header or [])
        if url is not None:
            from tracer.cli.live import send_live

            if app_spec is not None:
                raise CLIError("give either --url (a running server) or --app, not both")
            exchange = send_live(url, spec, store, timeout=10.0)
        else:
            from tracer.cli import startup
            from tracer.cli.captured import AppOutput

            captured = AppOutput()
            startup.pause()  # until the traced requests (the console script only)
            try:
                with captured:  # the app's prints and logs never reach our stdout
                    exchanges = drive_many(
                        load_app(app_spec), [spec] * repeat, warm=not cold, output=captured
                    )
                exchange = exchanges[-1]
            except CLIError:  # what the app said before it failed helps more than ever
                block = out.app_output_block(captured.lines, raw=True, dropped=captured.dropped)
                if block is not None:
                    notes.print(block, soft_wrap=True)
                raise
            finally:
                startup.resume()
        trace_ = exchange.trace
        summary = out.response_summary(exchange)
        if not teaching:  # the focus and compare views carry the status: one screen
            (notes if stdout_is_document or output is not None else console).print(
                summary, soft_wrap=True
            )

    if teaching:
        from tracer.cli import teaching_views as views

        if compare:
            views.show_compare(
                console, exchanges[0], exchange, repeat, width=width, ascii=ascii_only
            )
        else:
            views.show_focus(console, trace_, step, width=width, ascii=ascii_only, color=color)
        return
    renderable, text = out.render(
        trace_,
        renderer,
        export=export,
        width=width,
        ascii=ascii_only,
        color=color,
        explain=explain,
    )
    if output is not None:
        out.write_atomically(output, text if text is not None else "")
        notes.print(f"wrote {renderer}{f' ({export})' if export else ''} to {output}")
    elif renderable is not None:
        console.print(renderable)
        console.print(out.findings(trace_, width=width, ascii=ascii_only))
    else:
        sys.stdout.write(text if text is not None and text.endswith("\n") else f"{text}\n")
    block = _app_output(trace_, captured, repeat)
    if block is not None:  # under the diagram; on stderr when stdout is a document
        (console if renderable is not None and output is None else notes).print(
            block, soft_wrap=True
        )


def _app_output(trace: Any, captured: AppOutput | None, repeat: int) -> Any:
    """The "app output" block: lines captured live (raw), else those the trace holds."""
    from tracer.cli import output as out

    if captured is not None:
        shown = captured.of("import", "startup", f"request {repeat}", "shutdown")
        return out.app_output_block(
            shown,
            raw=True,
            not_shown=len(captured.lines) - len(shown),
            dropped=captured.dropped,
        )
    return out.trace_output_block(trace)


def _load_trace(path: Path) -> object:
    """A trace-request JSON document, or an OTLP JSON file (one object or JSON lines)."""
    import json

    from tracer.model import Trace

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    document: object = None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.lstrip().startswith("{"):  # JSON lines start with an object too
            raise CLIError(f"{path} is not JSON ({exc.msg}, line {exc.lineno})") from exc
    try:
        if document is None or (
            isinstance(document, dict)
            and ("resourceSpans" in document or "resource_spans" in document)
        ):
            from tracer.sinks.exporters.otlp_json import from_otlp_json

            traces = from_otlp_json(text)
            if not traces:
                raise CLIError(f"{path} holds no spans")
            return traces[-1]
        if not isinstance(document, dict):
            raise CLIError(f"{path} is not a trace: expected a JSON object")
        return Trace.from_dict(document)
    except (ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"{path} is not a trace: {exc}") from exc


app.command("tour")(tour_command)
app.command("list")(list_command)
app.command("show")(show_command)
app.command("tail")(tail_command)


def run() -> None:
    """Console-script entry point: Typer's usage errors (exit 2), one-line errors, no tracebacks.

    Typer handles usage errors (printed with the usage line, exit 2) and Ctrl-C
    (exit 130) itself; a :class:`CLIError` is the user's mistake found later,
    printed as one line. Anything else is a bug in trace-request.
    """
    from tracer.cli import startup

    startup.console_script(True)  # one command, then exit (tracer.cli.startup)
    try:
        app(prog_name="trace-request")
    except CLIError as exc:
        print(f"trace-request: error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:  # before or after Typer's own handler (start-up, teardown)
        raise SystemExit(INTERRUPTED) from None
    except Exception as exc:
        print(
            f"trace-request: internal error: {type(exc).__name__}: {exc} "
            "(please report it with the command you ran)",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    finally:
        startup.console_script(False)


if __name__ == "__main__":
    run()
