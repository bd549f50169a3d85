"""The code base holds to its own style rules: ruff and mypy --strict, the
benchmarks included (a bench that no longer type-checks against the code
it measures is caught here, before its --quick run in tests/test_bench.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "hearing", "tests", "migrations", "bench"],
        ["ruff", "format", "--check", "hearing", "tests", "migrations", "bench"],
        ["mypy", "hearing", "bench"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_static_checks(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the import rules of docs/architecture.md ---------------------------------------

FRAMEWORKS = ("starlette", "aiortc", "aioice", "av", "sqlalchemy", "uvicorn", "websockets", "alembic", "psycopg")
# Pure: no framework, no I/O. The routing vocabulary, the floor, the lifecycle
# and the arithmetic of the media and the audit log.
PURE = (
    "hearing/routing/",
    "hearing/speaker_order/floor.py",
    "hearing/speaker_order/commands.py",
    "hearing/docket/lifecycle.py",
    "hearing/docket/parties.py",
    "hearing/docket/opening.py",
    "hearing/auth/roles.py",
    "hearing/auth/permissions.py",
    "hearing/actors.py",
    "hearing/errors.py",
    "hearing/clock.py",
    "hearing/fields.py",
    "hearing/strict_json.py",
    "hearing/audit/actions.py",
    "hearing/audit/entry.py",
    "hearing/audit/merkle.py",
    "hearing/media/arrival.py",
    "hearing/media/mixer.py",
    "hearing/media/health.py",
    "hearing/media/stats.py",
    "hearing/media/signaling.py",
    "hearing/media/switchboard.py",
    "hearing/media/vp8.py",
    "hearing/custody/checkin.py",
    "hearing/custody/planb.py",
    "hearing/custody/testcall.py",  # issue 11: the test call's grading
    "hearing/custody/kiosk.py",
    # issue 12, codes
    "hearing/interpreter/otp.py",
    "hearing/interpreter/codes.py",
    "hearing/interpreter/invitation.py",
    # issue 12, gateway: the count of attempts against unknown invitations
    "hearing/interpreter/attempts.py",
    # issue 13, sources: the rig configuration and the synthetic sources
    "hearing/courtroom/config.py",
    "hearing/courtroom/synthetic.py",
    "hearing/courtroom/compositor.py",  # issue 13: the program's picture, no I/O
    "hearing/courtroom/switcher.py",  # issue 13: the camera switcher
    "hearing/media/rig_report.py",  # issue 13: what the rig reports, read strictly
    "hearing/courtroom/backoff.py",  # issue 13, sources: the retry delays
    "hearing/recording/manifest.py",  # issue 14, seal: what sealing hashes
    "hearing/recording/layout.py",  # issue 14, recorder: segments, slots, layout and clock
    # issue 14, timeline: the hearing's record from its audit entries
    "hearing/recording/timeline.py",
)
# (importer, what it may not import, why)
LAYERS = [
    (
        "hearing/media/",
        (
            "hearing.web",
            "hearing.live",
            "hearing.speaker_order",
            "hearing.docket.booking",
            "hearing.docket.proceedings",
            "hearing.db",
            "hearing.services",
        ),
        "media takes routes, nothing more",
    ),
    ("hearing/live/", ("hearing.web", "hearing.app", "hearing.db", "hearing.services"), "live is driven after commits"),
    ("hearing/speaker_order/", ("hearing.media", "hearing.live", "hearing.web"), "the floor knows no transport"),
    ("hearing/routing/", ("hearing.media", "hearing.live", "hearing.web", "hearing.speaker_order"), "routing is pure"),
    ("hearing/docket/", ("hearing.web", "hearing.live", "hearing.media"), "the docket knows no transport"),
    ("hearing/audit/", ("hearing.web", "hearing.live", "hearing.media"), "the log knows no transport"),
    ("hearing/auth/", ("hearing.web", "hearing.live", "hearing.media"), "identity knows no transport"),
    ("hearing/cli/", ("hearing.web",), "the CLI does not load the web stack (serve imports the app lazily)"),
    # issue 13, split: the feeds are read through their contracts, never a reader
    (
        "hearing/courtroom/sources.py",
        ("hearing.courtroom.cameras", "hearing.courtroom.microphones", "hearing.courtroom.synthetic", "av"),
        "the feeds know no reader",
    ),
]


def imports_of(path: Path) -> list[str]:
    """Every module a file imports, at any depth (lazy imports count too)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources() -> list[tuple[str, Path]]:
    return sorted((path.relative_to(REPO).as_posix(), path) for path in (REPO / "hearing").rglob("*.py"))


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_pure_modules_import_no_framework() -> None:
    offences = [
        (name, module)
        for name, path in sources()
        if name.startswith(PURE)
        for module in imports_of(path)
        if any(within(module, framework) for framework in FRAMEWORKS)
    ]
    assert offences == []


def test_dependencies_point_one_way() -> None:
    offences = [
        (name, module, why)
        for name, path in sources()
        for importer, forbidden, why in LAYERS
        if name.startswith(importer)
        for module in imports_of(path)
        if any(within(module, f) for f in forbidden)
    ]
    assert offences == []


def test_nothing_but_the_application_factory_imports_the_web_layer() -> None:
    offences = [
        (name, module)
        for name, path in sources()
        if not name.startswith(("hearing/web/", "hearing/app.py"))
        for module in imports_of(path)
        if within(module, "hearing.web")
    ]
    assert offences == []
    # Web handlers never import one another to reach shared state: only the
    # web layer's own plumbing is shared between them.
    plumbing = {"csrf", "errors", "language", "middleware", "pages", "paths", "ratelimit", "routing", "sockets"}
    plumbing |= {"remote_view", "shown_once"}  # issue 12, pages: the clerk's remote parties
    # issue 12, gateway: a seat's media session, shared by web/media.py and web/remote.py.
    plumbing |= {"seat"}
    # issue 14: a page as a PDF/A (the hearing's record), for any handler that prints one.
    plumbing |= {"printed"}
    for name, path in sources():
        if name.startswith("hearing/web/"):
            for module in imports_of(path):
                parts = module.split(".")
                if within(module, "hearing.web") and len(parts) > 2 and parts[2] not in plumbing:
                    raise AssertionError(f"{name} imports the handler module {module}")


def test_the_media_state_is_composed_in_exactly_one_place() -> None:
    calls = [
        (name, node.lineno)
        for name, path in sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "MediaState")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "MediaState")
        )
    ]
    assert [name for name, _ in calls] == ["hearing/live/hearing.py"], calls
