"""``trace-request --lifespan``: the app's startup and shutdown, drawn in order."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import invoke

FAILING = "tests.cli.lifespan_apps:failing"


def test_the_demo_startup_then_shutdown() -> None:
    code, out, _ = invoke("--lifespan", "--no-color", "--width", "120")
    assert code == 0
    startup, shutdown = out.index("lifespan startup"), out.index("lifespan shutdown")
    assert startup < shutdown
    assert "startup complete" in out and "shutdown complete" in out
    assert "CREATE TABLE users" in out[:shutdown]  # the demo's schema and seed
    assert "engine dispose" in out[shutdown:]
    assert "no response" not in out and "not reached" not in out


def test_json_is_one_array_of_both_traces() -> None:
    code, out, _ = invoke("--lifespan", "--format", "json")
    assert code == 0
    documents = json.loads(out)
    assert [d["meta"]["lifespan"] for d in documents] == ["startup", "shutdown"]
    assert all(d["meta"]["kind"] == "lifespan" for d in documents)
    assert documents[0]["spans"][0]["phase"] == "lifespan"


def test_other_formats_draw_both(tmp_path: Path) -> None:
    for fmt in ("waterfall", "tree", "mermaid"):
        code, out, _ = invoke("--lifespan", "--format", fmt, "--no-color")
        assert code == 0, fmt
        assert out.index("lifespan startup") < out.index("lifespan shutdown"), fmt
    code, _, _ = invoke("--lifespan", "-o", str(tmp_path / "boot.html"))
    assert code == 0
    pages = sorted(p.name for p in tmp_path.iterdir())
    assert pages == ["boot.shutdown.html", "boot.startup.html"]
    assert "lifespan startup" in (tmp_path / "boot.startup.html").read_text()


def test_a_failed_startup_is_drawn_then_exits_1() -> None:
    code, out, err = invoke("--lifespan", "--app", FAILING, "--no-color", "--width", "120")
    assert code == 1
    assert "startup failed" in out and "BootError" in out
    assert "lifespan shutdown" not in out
    assert "the app's startup (lifespan) failed: BootError: the config service is down" in err


def test_a_request_with_lifespan_is_a_usage_error() -> None:
    code, _, err = invoke("--lifespan", "GET", "/users")
    assert code == 2
    assert "--lifespan traces no request: give no METHOD, PATH with it" in err
    code, _, err = invoke("--lifespan", "--json", "{}")
    assert code == 2 and "--json" in err
