"""The pagers driven as a person would: a real terminal (tmux, 100 × 40), keys, the screen.

``send-keys`` presses n / p / → / q; ``capture-pane`` reads what is on the
screen. A screen that did not fit would have scrolled its ``Stop N/M`` header
off the top, so the header on the first row is the fit check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import fastapi
import pytest

from tests.cli.test_cli import SIGNUP, _console_script

#: The lesson's demo runs on the FastAPI the project installs: a yield dependency's
#: teardown after the response (0.118+) and FastAPI's own layers change the screens on
#: the oldest versions the tracer supports (scripts/matrix.sh runs tests/cli there too).
LESSON_FASTAPI = pytest.mark.skipif(
    tuple(int(part) for part in fastapi.__version__.split(".")[:2]) < (0, 121),
    reason="the lesson's screens are written for FastAPI 0.121+",
)


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("tmux") is None,
        reason="tmux is not installed (apt-get install -y tmux): the pagers need a real terminal",
    ),
]


class Terminal:
    """One tmux session of 100 × 40 running one command."""

    def __init__(self, name: str) -> None:
        self.name = name

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> list[str]:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.splitlines()

    def wait_for(self, text: str, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if any(text in line for line in screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n" + "\n".join(self.screen()))

    def page(self, header: str) -> list[str]:
        """Wait for a pager screen: ``header`` on the first row, the key hint at the bottom.

        Then a moment more: the pager puts the terminal in raw mode to read a key,
        which discards what was typed before (a person never types that fast).
        """
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen and screen[0].startswith(header) and any("q quit" in s for s in screen):
                time.sleep(0.3)
                return screen
            time.sleep(0.1)
        raise AssertionError(f"no screen {header!r}; the screen:\n" + "\n".join(self.screen()))


@pytest.fixture
def terminal(request: pytest.FixtureRequest) -> Iterator[Terminal]:
    name = f"trace-request-test-{os.getpid()}-{request.node.name}"[:60]
    term = Terminal(name)
    yield term
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def start(terminal: Terminal, *args: str) -> None:
    script = _console_script()
    command = " ".join([script, *(f"'{a}'" for a in args)]) + "; echo COMMAND-ENDED; sleep 60"
    env = ["-e", "TERM=xterm-256color", "-e", "COLUMNS=100", "-e", "LINES=40"]
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", terminal.name, "-x", "100", "-y", "40", *env, command],
        check=True,
    )


def test_tour_pages_forward_and_back_one_screen_at_a_time(terminal: Terminal) -> None:
    start(terminal, "tour")
    terminal.page("Stop 1/15 · 201")
    terminal.keys("n")
    terminal.page("Stop 2/15 · 422")  # cleared, and it fits: its header is on the first row
    terminal.keys("Right")
    terminal.page("Stop 3/15")
    terminal.keys("p")
    terminal.page("Stop 2/15")
    for number in range(3, 16):  # every stop fits the 40 rows
        terminal.keys("n")
        terminal.page(f"Stop {number}/15")
    terminal.keys("q")
    terminal.wait_for("COMMAND-ENDED")


@LESSON_FASTAPI
def test_steps_pager_in_a_terminal(terminal: Terminal) -> None:
    start(terminal, "POST", "/users", "--json", SIGNUP, "--steps")
    terminal.page("Step 1/10 · ASGI hand-off")
    for number in (2, 3, 4):
        terminal.keys("n")
        screen = terminal.page(f"Step {number}/10")
    assert any("└ get_sessionmaker()" in line for line in screen)
    terminal.keys("Left")
    terminal.page("Step 3/10")
    terminal.keys("q")
    terminal.wait_for("COMMAND-ENDED")


def test_no_color_in_a_terminal_sends_no_escape_codes(terminal: Terminal) -> None:
    start(terminal, "GET", "/users/me", "--step", "4", "--no-color")
    terminal.wait_for("COMMAND-ENDED")
    done = subprocess.run(
        ["tmux", "capture-pane", "-p", "-e", "-t", terminal.name],  # -e: keep escape codes
        check=True,
        capture_output=True,
        text=True,
    )
    assert "\x1b[" not in done.stdout
