"""A known API key appears in no output, no exception text, no event and no file: checked in
process (events, exceptions) and through the real CLI (stdout, stderr, every file written),
run in this process with click's runner (a child process would add only its start-up)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from storyboard import providers
from storyboard.errors import AuthError, CreditsError, ProviderError
from storyboard.providers.base import TaskState
from storyboard.run.events import Retry
from storyboard.run.executor import generate
from tests import leaks
from tests.cli_run import FAST, Ran, invoke
from tests.providers.conftest import Sleeps, compiled, request_for, task
from tests.run.boards import Events, make_plan, three, write_board
from tests.servers import PROVIDERS as SERVED
from tests.servers import start_server
from tests.servers.echo import FORMS

KEY = "sk-KNOWN-secret-4f9a2c7e1b"
PROVIDERS = ("veo3o1", "nanophoto", "aivideoapi", "kie")


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _texts(events: Events, *more: Any) -> str:
    return repr(events.seen) + "".join(repr(m) + str(m) for m in more)


@pytest.mark.parametrize("name", ["aivideoapi", "kie"])
def test_the_key_is_never_in_events_exceptions_or_files(
    tmp_path: Path, clip: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    board = write_board(tmp_path / "film", name, three())
    with start_server(name, clip=clip, api_key=KEY, credits=10_000) as srv:
        plan = make_plan(board, srv)
        # the service fails a job twice, echoing the key in its reason; a rate limit and an
        # outage on the way; then the credits run out
        srv.fault("fail_job", times=2, reason=f"upstream refused Bearer {KEY}")
        srv.fault("429", on="submit", retry_after=0)
        srv.fault("500", on="poll")
        events = Events()
        result = generate(plan, reporter=events, concurrency=1, resubmits=1)
        assert len(srv.accepted) >= 4
        srv.credits = 0
        credits = generate(plan, force=["a"], reporter=events)
        assert isinstance(credits.fatal, CreditsError)
        auth = generate(make_plan(board, srv, api_key=KEY + "-wrong"), force=["b"], reporter=events)
        assert isinstance(auth.fatal, AuthError)

    for path, data in _files(plan.storyboard.state_dir).items():
        assert KEY.encode() not in data, path
    shown = _texts(events, result, credits, auth, credits.fatal, auth.fatal)
    assert KEY not in shown + caplog.text
    # the echoing reasons did go through: they were blotted out, not avoided
    echoed = [e.reason for e in events.all(Retry) if "upstream" in e.reason]
    assert len(echoed) == 2 and all("Bearer [redacted]" in r for r in echoed)  # one mark, everywhere


def _cli(folder: Path, srv: Any, *args: str, key: str = KEY) -> Ran:
    return invoke(folder, srv.name.upper(), srv.base_url, key, *args)


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_cli_never_shows_or_stores_the_key(tmp_path: Path, veo_clip: Path, name: str) -> None:
    folder = tmp_path / "film"
    shots = three()[:2]
    board = write_board(folder, name, shots)
    runs: list[Ran] = []
    with start_server(name, clip=veo_clip, api_key=KEY) as srv:

        def cli(*args: str, key: str = KEY) -> Ran:
            runs.append(_cli(folder, srv, *args, key=key))
            return runs[-1]

        assert cli("plan", str(board), "--json").returncode == 0
        # a job fails once, its reason echoing the key; it is resubmitted and the film made
        srv.fault("fail_job", reason=f"upstream refused Bearer {KEY}")
        made = cli("render", str(board), "--yes")
        assert made.returncode == 0, made.stderr
        assert (folder / "renders" / "board.mp4").is_file()
        assert "Bearer [redacted]" in made.stderr  # shown, blotted out
        assert cli("status", str(board)).returncode == 0

        wrong = cli("render", str(board), "--yes", "--force", "a", key=KEY + "-wrong")
        assert wrong.returncode != 0 and f"{name.upper()}_API_KEY" in wrong.stderr
        srv.credits = 0
        broke = cli("render", str(board), "--yes", "--force", "a")
        assert broke.returncode != 0 and "credits" in broke.stderr
        srv.credits = 10_000
        shots[1]["prompt"] = "a FORBIDDEN door"  # refused at submission, or its job fails
        write_board(folder, name, shots)
        srv.fault("fail_job", reason=f"content filter saw Bearer {KEY}")
        refused = cli("render", str(board), "--yes", "--retries", "0")
        assert refused.returncode != 0 and "'b'" in refused.stderr
        assert cli("status", str(board)).returncode == 0
        assert len(srv.accepted) >= 3  # the renders did reach the service

    for run in runs:
        assert KEY not in run.stdout + run.stderr, run.args
    files = _files(folder)
    assert any(".storyboard" in p for p in files)
    for path, data in files.items():
        assert KEY.encode() not in data, path


# the key echoed in pieces, and downloads -------------------------------------------------------
# The key never leaks, not even in pieces, and never travels to a file host.
#
# A proxy in front of a service may echo the request's headers (the key among them) in an
# error page, or a service may put them in a job's failure reason. Whatever the offset of the
# key in that text (0 to 400: it used to be cut at 300 characters and then redacted, so a key
# near character 252 left 48 of its 49 characters), no 8 characters of it are left in any
# error, status, event, output or file. Clips are fetched without the Authorization header.
ECHOED = "sk-Zr7Qv2Xm9Lp4Tc8Wn1Ks6Hd3Bf5Jy0Ga7Ue2Io9Rt4Yw6Pq"  # 49 characters, like the issue's
OFFSETS = range(0, 401)
assert set(SERVED) == set(PROVIDERS)


def pieces(text: str) -> list[str]:
    """Every 8-character run of the key found in `text`."""
    return [ECHOED[i : i + 8] for i in range(len(ECHOED) - 7) if ECHOED[i : i + 8] in text]


def said(exc: BaseException) -> str:
    hint = getattr(exc, "hint", None) or ""
    return "\n".join([str(exc), repr(exc), hint, *map(str, exc.args)])


def _client(name: str, srv: Any) -> Any:
    return providers.get(name)(base_url=srv.base_url, api_key=ECHOED, sleep=Sleeps(), retries=0)


@pytest.mark.parametrize("name", PROVIDERS)
def test_an_echoed_key_leaves_no_piece_at_any_offset(name: str, clip: Path) -> None:
    with start_server(name, clip=clip, api_key=ECHOED) as srv:
        p = _client(name, srv)
        shot = compiled()
        ids = p.submit(request_for(p, shot))
        done = task("s1", ids["s1"], name, **p.task_extra(shot))
        texts: list[str] = []
        for offset in OFFSETS:
            for on in ("submit", "poll"):
                srv.fault("echo", on=on, offset=offset)
                with pytest.raises(ProviderError) as info:
                    p.submit(request_for(p, shot)) if on == "submit" else p.poll([done])
                texts.append(said(info.value))
        # the job's own failure reason echoes the key, at every offset: the status is clean
        for offset in OFFSETS[::7]:
            srv.fault("fail_job", reason="x" * offset + f"Authorization: Bearer {ECHOED}")
            failing = p.submit(request_for(p, shot))["s1"]
            srv.finish()
            (status,) = p.poll([task("s1", failing, name, **p.task_extra(shot))]).values()
            assert status.state is TaskState.FAILED
            texts.append(status.reason or "")
        assert srv.pending_faults == []
    assert [(i, pieces(t)) for i, t in enumerate(texts) if pieces(t)] == []
    assert any("[redacted]" in t for t in texts)  # it was there, and blotted out


def _echo_cli(folder: Path, srv: Any, *args: str) -> Ran:
    more = {**FAST, "STORYBOARD_CONTACT_TIMEOUT": "2"}
    return invoke(folder, srv.name.upper(), srv.base_url, ECHOED, *args, **more)


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_cli_shows_and_stores_no_piece_of_an_echoed_key(name: str, tmp_path: Path, clip: Path) -> None:
    """The real CLI, on submit and on status: stdout, stderr and every file written."""
    folder = tmp_path / "film"
    board = write_board(folder, name, three())
    runs = []
    with start_server(name, clip=clip, api_key=ECHOED) as srv:
        srv.fault("echo", on="submit", offset=252)  # the classic: cut at 300 used to keep 48
        srv.fault("echo", on="poll", offset=297, times=3)
        srv.fault("fail_job", reason="x" * 260 + f"Authorization: Bearer {ECHOED}")
        runs.append(_echo_cli(folder, srv, "render", str(board), "--yes", "--quiet", "--retries", "0"))
        srv.fault("echo", on="poll", offset=5, times=2)
        runs.append(_echo_cli(folder, srv, "render", str(board), "--yes", "--quiet", "--retries", "0"))
        runs.append(_echo_cli(folder, srv, "status", str(board), "--json"))
        runs.append(_echo_cli(folder, srv, "plan", str(board)))
    shown = "".join(r.stdout + r.stderr for r in runs)
    assert "Traceback" not in shown
    assert "[redacted]" in shown  # the echo reached the user, blotted out
    assert pieces(shown) == [], shown
    written = {p: p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()}
    assert any(".storyboard" in str(p) for p in written)
    assert {str(p): pieces(t) for p, t in written.items() if pieces(t)} == {}


# the key echoed in another form -----------------------------------------------------------
# A service or proxy may echo the key escaped or encoded (PHP's `\/`, `%2F`, `&#x2F;`, base64,
# a mixture): no 8 characters of it are left in any reading of what reaches us (tests.leaks
# undoes every encoding with the standard library's decoders). Keys with `/`, `+` and `=`:
# the PHP-style one, and a base64-like one whose literal runs between escapes are short.
# gemini sends its key in x-goog-api-key, not Authorization: redaction is by key, not by header
ESCAPED_KEYS = ("sk-ab/cd/Ef7Kq/2Lm+Np9=Rs/T4uV+wX8=yZ/0aB", "q8Zk/3+Vb0xN/T4r+Hw2=Lm9/Pz+Ya1=")
ECHOING = (*PROVIDERS, "gemini")


def escaped_key(name: str) -> str:
    return ESCAPED_KEYS[ECHOING.index(name) % 2]


@pytest.mark.parametrize("name", ECHOING)
def test_a_key_echoed_in_any_form_leaves_no_piece(name: str, clip: Path) -> None:
    key = escaped_key(name)
    texts: list[tuple[str, str, str]] = []
    with start_server(name, clip=clip, api_key=key) as srv:
        p = providers.get(name)(base_url=srv.base_url, api_key=key, sleep=Sleeps(), retries=0)
        shot = compiled()
        ids = p.submit(request_for(p, shot))
        done = task("s1", ids["s1"], name, **p.task_extra(shot))
        for form, encode in FORMS.items():
            for on in ("submit", "poll"):
                srv.fault("echo", on=on, form=form)
                with pytest.raises(ProviderError) as info:
                    p.submit(request_for(p, shot)) if on == "submit" else p.poll([done])
                texts.append((form, on, said(info.value)))
            # the job's own failure reason, in the service's JSON, echoes it too
            srv.fault("fail_job", reason=f"upstream refused Authorization: {encode(f'Bearer {key}')}")
            failing = p.submit(request_for(p, shot))["s1"]
            srv.finish()
            (status,) = p.poll([task("s1", failing, name, **p.task_extra(shot))]).values()
            assert status.state is TaskState.FAILED
            texts.append((form, "reason", status.reason or ""))
        assert srv.pending_faults == []
    assert [(form, on, leaks.pieces(t, [key])) for form, on, t in texts if leaks.pieces(t, [key])] == []
    assert [(form, on) for form, on, t in texts if "[redacted]" not in t] == []  # it came, blotted out


@pytest.mark.parametrize("name", PROVIDERS)
def test_clips_are_downloaded_without_the_key(name: str, tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", name, three())
    with start_server(name, clip=clip) as srv:
        result = generate(make_plan(board, srv))
        assert result.failed == {}, result.failed
        downloads = [r for r in srv.requests if r.path.startswith("/files/")]
        assert len(downloads) == 3
        for record in downloads:
            assert "authorization" not in {k.lower() for k in record.headers}, record.headers
        # the API requests did carry it (redacted in the record): the check can see it
        assert any("Authorization" in r.headers for r in srv.requests if not r.path.startswith("/files/"))


def pieces_in_bytes(data: bytes, key: str) -> list[str]:
    return [key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8].encode() in data]


def _rotated(name: str) -> list[str]:
    """The forms, starting at a different one for each provider: each surface below meets a
    different form on each, and every form is met somewhere."""
    forms = list(FORMS)
    at = ECHOING.index(name) * 5 % len(forms)
    return forms[at:] + forms[:at]


@pytest.mark.parametrize("name", ECHOING)
def test_no_output_or_file_holds_a_piece_of_a_key_echoed_in_any_form(
    name: str, tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process (click's runner): render's stdout and stderr, `status -v`, `adopt -v`, the
    report page and every file written, with the key echoed by the service in every form."""
    from click.testing import CliRunner

    from storyboard.cli import cli

    key = escaped_key(name)
    forms = _rotated(name)
    folder = tmp_path / "film"
    board = write_board(folder, name, three())
    monkeypatch.chdir(folder)
    monkeypatch.setenv("STORYBOARD_CONTACT_TIMEOUT", "5")
    shown: dict[str, str] = {}

    def run(label: str, *args: str) -> int:
        r = CliRunner().invoke(cli, [*args[:1], str(board), *args[1:]])
        assert "Traceback" not in r.output and not isinstance(r.exception, AssertionError), r.output
        shown[label] = r.output
        return r.exit_code

    with start_server(name, clip=clip, api_key=key) as srv:
        monkeypatch.setenv(f"{name.upper()}_API_KEY", key)
        monkeypatch.setenv(f"{name.upper()}_BASE_URL", srv.base_url)
        # 1. every submission meets a proxy's page echoing the key: nothing is sent
        for form in forms[:3]:
            srv.fault("echo", on="submit", form=form)
        assert run("render: echoed submissions", "render", "--yes", "-v", "--retries", "0") == 1
        # 2. a's submission is taken and its answer lost (uncertain, to be adopted); then b's job
        # fails, its reason echoing the key in every form at once; polls meet echoes
        every_form = " | ".join(f"{f}: {FORMS[f](f'Bearer {key}')}" for f in forms)
        srv.fault("accept_drop", on="submit")

        def then_fail(_: object) -> None:  # once: c is made
            srv.on_accept = None
            srv.fault("fail_job", reason=f"upstream refused: {every_form}")

        srv.on_accept = then_fail
        for form in forms[3:6]:
            srv.fault("echo", on="poll", form=form)
        once = ("--retries", "0", "--concurrency", "1")
        assert run("render: a lost, b fails", "render", "--yes", "-v", *once) == 1
        lost = srv.accepted[0]["task_id"]
        if name == "gemini":  # its task id is the operation's name
            lost = f"models/{srv.tasks[lost].info['model']}/operations/{lost}"
        assert run("status -v", "status", "-v") == 0
        srv.fault("echo", on="poll", form=forms[6])
        assert run("adopt -v: echoed", "adopt", "-v", "a", lost) == 1
        assert run("adopt -v", "adopt", "-v", "a", lost) == 0
        assert run("report", "report") == 0
        assert srv.pending_faults == []

    page = next(folder.glob("renders/*.html")).read_text("utf-8")
    files = _files(folder)
    media = {p: data for p, data in files.items() if p.endswith((".mp4", ".png", ".jpg"))}
    written = {p: data.decode("utf-8", "replace") for p, data in files.items() if p not in media}
    assert any(p.endswith("state.json") for p in written) and media  # the clips are plain bytes
    assert [p for p, data in media.items() if pieces_in_bytes(data, key)] == []
    left = {label: leaks.pieces(text, [key]) for label, text in {**shown, **written}.items()}
    assert {label: found for label, found in left.items() if found} == {}
    # the echoes did reach each surface, blotted out
    for label in ("render: echoed submissions", "render: a lost, b fails", "status -v", "adopt -v: echoed"):
        assert "[redacted]" in shown[label], (label, shown[label])
    assert page.count("[redacted]") >= len(forms)  # a's reason, every form of it, on the page
