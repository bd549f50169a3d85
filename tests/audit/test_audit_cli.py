"""`hearing audit ...` and `hearing keys rotate-kek`, as an operator runs them."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from hearing.audit.keys import KEK_FILE, VERIFIER_FILE
from hearing.cli import main
from hearing.config import Settings, load_settings
from hearing.db.models import AuditEntry, AuditKey, Hearing
from hearing.docket.lifecycle import HearingState
from hearing.services import Services
from tests.audit.conducted import CONDUCTED_ACTIONS, conduct, said
from tests.conftest import CliRun, Court_, logged


def book(cli: CliRun) -> int:
    code, out, _ = cli(
        "schedule", "--case", "SS 1-9/2026", "--courtroom", "Retssal 3", "--facility", "Arresthuset",
        "--start", f"{date.today() + timedelta(days=7)}T09:30", "--detainee-name", "Jens", "--detainee-ref", "R-1",
    )  # fmt: skip
    assert code == 0
    return int(out.split()[1])


def services() -> Services:
    return Services.from_settings(load_settings())


def change(work: Callable[[Session], object]) -> None:
    svc = services()
    try:
        svc.unit_of_work(work)
    finally:
        svc.close()


def test_verify_reports_ok_then_the_first_bad_entry(cli: CliRun) -> None:
    book(cli)
    code, out, _ = cli("audit", "verify")
    assert code == 0 and out.startswith("verified 4 entries against")
    change(lambda db: db.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor_role="judge")))
    code, out, _ = cli("audit", "verify")
    assert code == 1
    assert "first bad entry: 3" in out


def test_verify_reports_a_ciphertext_rewritten_as_text(cli: CliRun) -> None:
    book(cli)
    # On SQLite a text value in the blob column; PostgreSQL coerces the
    # literal to bytes, which is just a changed entry.
    change(lambda db: db.execute(text("UPDATE audit_entry SET ciphertext = 'x' WHERE seq = 3")))
    code, out, err = cli("audit", "verify")
    assert code == 1 and "Traceback" not in out + err
    assert "first bad entry: 3" in out


def test_verify_needs_no_secret_key(cli: CliRun, tmp_path: Path) -> None:
    book(cli)
    keys = Path(load_settings().key_dir)
    public = tmp_path / "court-copy.pub"
    public.write_text((keys / VERIFIER_FILE).read_text())
    for name in ("app.key", KEK_FILE, "audit-signing.key", VERIFIER_FILE):
        (keys / name).unlink()
    code, out, err = cli("audit", "verify", "--public-key", str(public))
    assert code == 0, err


def test_exported_checkpoint_catches_truncation(cli: CliRun, tmp_path: Path) -> None:
    book(cli)
    out_file = tmp_path / "checkpoint.txt"
    code, out, _ = cli("audit", "checkpoint", "--out", str(out_file))
    assert code == 0 and "checkpoint of size 4" in out
    assert out_file.read_text().splitlines()[1] == "4"
    # The export itself is logged (entry 5), after the exported tree head.
    change(lambda db: db.execute(AuditEntry.__table__.delete().where(AuditEntry.seq >= 4)))
    change(lambda db: db.execute(text("DELETE FROM audit_checkpoint WHERE size >= 4")))
    assert cli("audit", "verify")[0] == 0
    code, out, _ = cli("audit", "verify", "--checkpoint", str(out_file))
    assert code == 1 and "first bad entry: 4" in out and "truncated" in out


def test_show_reads_in_plain_words_and_is_audited(cli: CliRun) -> None:
    hearing = book(cli)
    code, out, _ = cli("audit", "show", "--hearing", str(hearing))
    assert code == 0
    assert "The system (operator) booked case SS 1-9/2026" in out
    code, out, _ = cli("audit", "show", "--hearing", str(hearing))
    assert "read the audit log of hearing" in out


def rows(db: Session) -> tuple[int | None, int | None]:
    """(audit entries, data keys)."""
    count = select(func.count())
    return db.scalar(count.select_from(AuditEntry)), db.scalar(count.select_from(AuditKey))


def test_show_refuses_an_unknown_hearing_before_writing_anything(cli: CliRun) -> None:
    book(cli)
    svc = services()
    try:
        before = svc.unit_of_work(rows)
        for hearing in ("999", str(2**31), str(2**63), str(2**70), "-1", "0"):
            code, out, err = cli("audit", "show", "--hearing", hearing)
            assert code == 2 and err.startswith("error: hearing_not_found"), (hearing, out, err)
        # No entry and no data key for a hearing that does not exist.
        after = svc.unit_of_work(rows)
    finally:
        svc.close()
    assert after == before


def test_show_system_reads_the_systems_events_with_filters_and_pages(cli: CliRun) -> None:
    book(cli)  # a hearing's entries: not among the system's
    code, out, _ = cli("audit", "show", "--system")
    assert code == 0
    lines = [LINE.match(line) for line in out.splitlines()]
    assert all(lines), out
    said = [m.group(3) for m in lines if m]
    assert said == [
        "The system (operator) added the custody facility Arresthuset",
        "The system (operator) added the courtroom Retssal 3",
        "The system (operator) added the court Byret",
    ]
    code, out, _ = cli("audit", "show", "--system", "--action", "site.added", "--actor", "system", "--lang", "da")
    assert code == 0 and "Systemet (operatør) tilføjede retssalen Retssal 3" in out
    # One at a time, newest first, each page saying how to turn to the next.
    seqs = []
    args = ["audit", "show", "--system", "--action", "site.added", "--limit", "1"]
    while True:
        code, out, _ = cli(*args)
        assert code == 0
        first = LINE.match(out.splitlines()[0])
        assert first, out
        seqs.append(int(first.group(1)))
        older = re.search(r"older events: add --before (\d+)", out)
        if older is None:
            break
        args = [*args[:7], "--before", older.group(1)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 3
    # Every reading is itself a system event.
    code, out, _ = cli("audit", "show", "--system", "--action", "audit.system_read", "--until", "9998-12-31")
    assert out.count("read the system events of the audit log") == 5


@pytest.mark.parametrize(
    "args",
    [
        ["--system", "--since", "2026-13-01"],
        ["--system", "--since", "٢٠٢٦-01-01"],
        ["--system", "--until", "2026-12-01", "--since", "2026-12-02"],
        ["--system", "--action", "nope"],
        ["--system", "--actor", "device:abc"],
        ["--system", "--actor", "nobody"],
        ["--system", "--limit", "100000"],
        ["--system", "--before", "0"],
        ["--hearing", "1", "--action", "access.denied"],
    ],
)
def test_show_system_refuses_bad_filters_and_writes_nothing(cli: CliRun, args: list[str]) -> None:
    svc = services()
    try:
        before = svc.unit_of_work(rows)
        code, _, err = cli("audit", "show", *args)
        after = svc.unit_of_work(rows)
    finally:
        svc.close()
    assert code == 2 and err.startswith("error: invalid_input"), err
    assert after == before


def test_show_needs_a_hearing_or_the_system(cli: CliRun) -> None:
    for args in ([], ["--hearing", "1", "--system"]):
        with pytest.raises(SystemExit) as exit_:
            cli("audit", "show", *args)
        assert exit_.value.code == 2


def test_shred_after_the_hearing_ends(cli: CliRun) -> None:
    hearing = book(cli)
    code, _, err = cli("audit", "shred", "--hearing", str(hearing))
    assert code == 2 and "conflict" in err
    change(lambda db: db.get_one(Hearing, hearing).__setattr__("state", HearingState.CLOSED))
    assert cli("audit", "shred", "--hearing", str(hearing))[0] == 0
    code, out, _ = cli("audit", "show", "--hearing", str(hearing))
    assert "payload destroyed" in out
    assert cli("audit", "verify")[0] == 0
    assert cli("audit", "shred", "--hearing", str(hearing))[0] == 2
    assert cli("audit", "shred", "--hearing", "999")[0] == 2


def test_rotate_kek(cli: CliRun) -> None:
    hearing = book(cli)
    key_file = Path(load_settings().key_dir) / KEK_FILE
    old = key_file.read_bytes()
    code, out, _ = cli("keys", "rotate-kek")
    assert code == 0 and "re-wrapped" in out
    assert key_file.read_bytes() != old and key_file.stat().st_mode & 0o777 == 0o600
    svc = services()
    try:
        wrapped = svc.unit_of_work(lambda db: list(db.scalars(select(AuditKey.wrapped))))
    finally:
        svc.close()
    for blob in wrapped:
        with pytest.raises(InvalidUnwrap):
            aes_key_unwrap(old, blob)
    code, out, _ = cli("audit", "show", "--hearing", str(hearing))
    assert "booked case SS 1-9/2026" in out
    assert cli("audit", "verify")[0] == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["audit", "verify", "--checkpoint", "/nonexistent/cp.txt"], "invalid_input"),
        (["audit", "verify", "--public-key", "/nonexistent/key.pub"], "configuration_error"),
        (["audit", "checkpoint", "--out", "/nonexistent/dir/cp.txt"], "invalid_input"),
    ],
)
def test_bad_arguments_get_a_clear_error(cli: CliRun, args: list[str], error: str) -> None:
    code, _, err = cli(*args)
    assert code == 2 and err.startswith(f"error: {error}")


def test_garbage_checkpoint_and_key_files(cli: CliRun, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(b"\xff\xfe not a checkpoint")
    code, _, err = cli("audit", "verify", "--checkpoint", str(garbage))
    assert code == 2 and "invalid_input" in err
    garbage.write_text("hearing-audit\n1\nAAAA\n\n\u2014 hearing-audit AAAA\n")
    code, out, _ = cli("audit", "verify", "--checkpoint", str(garbage))
    assert code == 1 and "exported checkpoint 1" in out
    code, _, err = cli("audit", "verify", "--public-key", str(garbage))
    assert code == 2 and "configuration_error" in err


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = main(list(args))
    finally:
        # main() points the root logger at this test's captured stderr.
        root.handlers[:], root.level = handlers, level
    out, err = capsys.readouterr()
    return code, out, err


LINE = re.compile(r"^\s*(\d+)  (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  (.+)$")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_show_says_a_conducted_hearing_in_words(
    services: Services,
    court: Court_,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lang: str,
) -> None:
    """Lobby, floor and private consultation: every entry is a sentence in
    the chosen language, at the court's local time, and nothing breaks."""
    hearing = conduct(services, court)
    monkeypatch.setenv("HEARING_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HEARING_DATABASE_URL", settings.database_url)
    logged_before = logged(services)
    code, out, err = run_cli(capsys, "audit", "show", "--hearing", str(hearing.hearing_id), "--lang", lang)
    assert code == 0, err
    assert "Traceback" not in out + err
    entries = [e for e in logged_before if e.hearing_id == hearing.hearing_id]
    assert {e.action for e in entries} == {a.value for a in CONDUCTED_ACTIONS}
    lines = out.splitlines()
    assert len(lines) == len(entries)
    tz = settings.timezone
    for line, entry in zip(lines, entries, strict=True):
        found = LINE.match(line)
        assert found, line
        assert int(found.group(1)) == entry.seq
        sentence = found.group(3)
        # In words: no entry falls back to its raw action name.
        assert entry.action not in sentence and not re.search(r"\b(floor|lobby|hearing|participant)\.", sentence), line
    sentences = [LINE.sub(r"\3", line) for line in lines]
    for sentence in said(hearing, lang, tz):
        assert sentence in sentences
    # The reading is audited like every other.
    last = logged(services)[-1]
    assert (last.action, last.hearing_id, last.actor_role) == ("audit.read", hearing.hearing_id, "operator")


@pytest.mark.parametrize("lang", ["xx", ""])
def test_show_refuses_an_unknown_language(cli: CliRun, lang: str) -> None:
    hearing = book(cli)
    with pytest.raises(SystemExit) as exit_:
        cli("audit", "show", "--hearing", str(hearing), "--lang", lang)
    assert exit_.value.code == 2
