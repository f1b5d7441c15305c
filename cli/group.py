"""The command group: ``tour``, ``list``, ``show``, ``tail`` by name, ``trace`` by default.

``trace-request POST /users …`` has always meant "trace this request", so the
group falls back to its default command whenever the first argument is not a
command name (nor ``-h``/``--help``, which show the group's help with every
command listed). Built on Typer's own ``TyperGroup``: typer 0.29 ships its own
copy of click, so importing ``click`` here would be a second, undeclared click
whose exceptions Typer never raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.core import TyperGroup

if TYPE_CHECKING:
    # the click Typer really runs on (vendored in typer >= 0.29): for annotations only
    from typer._click import Context, HelpFormatter


class DefaultCommandGroup(TyperGroup):
    """A Typer group that runs :attr:`default_command` when no command is named."""

    default_command = "trace"

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            typo = self._misspelt_command(args[0])
            if typo is not None:
                ctx.fail(f"No such command {args[0]!r}. Did you mean {typo!r}?")
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def _misspelt_command(self, word: str) -> str | None:
        """The command ``word`` is a typo of (``tuor``), unless it is an HTTP method."""
        from difflib import get_close_matches

        close = get_close_matches(word, list(self.commands), n=1, cutoff=0.7)
        if not close:
            return None
        from tracer.cli.driving import METHODS

        return None if word.upper() in METHODS else close[0]

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Both forms: the default command's, and naming a command."""
        formatter.write_usage(ctx.command_path, f"[{self.default_command}] METHOD PATH [OPTIONS]")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")
