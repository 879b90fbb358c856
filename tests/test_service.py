"""The grading service end to end (issue 20): `serve`, `submit` and `worker` as a course runs them, on loopback.

Each test starts the real commands in processes of their own: the web service (Starlette under
uvicorn), its SQLite state and queue (Huey), and workers grading in the sandbox.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder import assignment as assignments
from autograder import build
from autograder.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
HANDOUT = ROOT / "student_template" / "cnn" / "cnn_layers.py"
FLIPPED = build.examples(assignments.load("cnn")) / "flipped_kernel.py"  # a typical mistake

pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kit(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-m", "autograder", *args], capture_output=True, text=True,
                          timeout=kwargs.pop("timeout", 180), cwd=ROOT, **kwargs)


class Running:
    """A `serve` process on a free loopback port, and what it wrote."""

    def __init__(self, data: Path, roster: Path, *args: str):
        self.data, self.port = data, _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder", "serve", "--data", str(data), "--roster", str(roster),
             "--port", str(self.port), *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                if self.process.poll() is not None:
                    raise AssertionError(f"serve exited: {self.process.stdout.read()}")
                time.sleep(0.2)
        raise AssertionError("serve did not answer within 60 s")

    def tokens(self) -> dict[str, str]:
        with open(self.data / "tokens.csv", newline="", encoding="utf-8") as f:
            return {row["student"]: row["token"] for row in csv.DictReader(f)}

    def api(self, path: str, token: str, data: bytes | None = None, headers=None) -> tuple[int, dict]:
        request = urllib.request.Request(f"{self.url}{path}", data=data, method="POST" if data is not None else "GET",
                                         headers={"Authorization": f"Bearer {token}", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def upload(self, token: str, path: Path) -> int:
        boundary = "xyzzy"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n\r\n'.encode()
                + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode())
        status, answer = self.api("/api/submissions", token, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 201, answer
        return answer["id"]

    def wait_graded(self, token: str, ids, seconds: float = 240) -> dict[int, dict]:
        deadline, seen = time.monotonic() + seconds, {}
        while time.monotonic() < deadline:
            seen = {i: self.api(f"/api/submissions/{i}", token)[1] for i in ids}
            if all(s.get("state") != "queued" for s in seen.values()):
                return seen
            time.sleep(0.5)
        raise AssertionError(f"not graded in {seconds} s: {seen}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_worker(broker: str) -> subprocess.Popen:
    """`./kit worker` on `broker`, in a process group of its own (stop_worker kills it with its gradings)."""
    return subprocess.Popen([sys.executable, "-I", "-m", "autograder", "worker", "--broker", broker], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()


@pytest.fixture
def roster(tmp_path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("student,email,canvas_id\nalice,alice@example.org,4411\nbob,bob@example.org,\ncarol,carol@example.org,\n", encoding="utf-8")
    return path


def test_submit_prints_the_feedback_and_the_score_and_refusals_say_why(tmp_path, roster, starts_workers):
    service = Running(tmp_path / "data", roster)
    try:
        tokens = service.tokens()
        assert set(tokens) == {"alice", "bob", "carol"} and len(set(tokens.values())) == 3
        assert oct((tmp_path / "data" / "tokens.csv").stat().st_mode & 0o777) == "0o600"
        assert oct((tmp_path / "data").stat().st_mode & 0o777) == "0o700"  # the databases inside hold everyone's code
        assert not any(t.startswith("-") for t in tokens.values())
        # Only hashes are kept: no token appears in the service's database.
        database = (tmp_path / "data" / "service.sqlite3").read_bytes()
        assert not any(t.encode() in database for t in tokens.values())

        done = kit("submit", str(REFERENCE), "--server", service.url, "--token", tokens["alice"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.rstrip().splitlines()[-1] == "score: 100 / 100"
        assert "Score: 100 / 100" in done.stdout

        handout = kit("submit", str(HANDOUT), "--server", service.url, "--token", tokens["bob"])
        assert handout.returncode == 0 and handout.stdout.rstrip().endswith("score: 0 / 100"), handout.stdout[-500:]

        bad = kit("submit", str(REFERENCE), "--server", service.url, "--token", "not-a-token")
        assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
            "not submitted: unknown token: use the link your instructor sent you"]
        big = tmp_path / "cnn_layers.py"
        big.write_bytes(b"#" * (6 * 1024 * 1024))
        too_big = kit("submit", str(big), "--server", service.url, "--token", tokens["alice"])
        assert too_big.returncode == 1 and "larger than 5 MB" in too_big.stderr, too_big.stderr
        # A chunked upload declares no length: it is counted as it arrives, and refused past the cap.
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=60)
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="cnn_layers.py"\r\n\r\n'
        connection.request("POST", "/api/submissions", body=iter([head] + [b"#" * (1 << 20)] * 20 + [b"\r\n--b--\r\n"]),
                           headers={"Authorization": f"Bearer {tokens['alice']}",
                                    "Content-Type": "multipart/form-data; boundary=b"}, encode_chunked=True)
        answer = connection.getresponse()
        assert answer.status == 413 and b"larger than 5 MB" in answer.read()
        connection.close()
        assert answer.getheader("Cache-Control") == "no-store" and answer.getheader("Referrer-Policy") == "no-referrer"

        # Nobody reads another student's submission: alice's first is submission 1.
        assert service.api("/api/submissions/1", tokens["bob"])[0] == 404
        assert service.api("/api/submissions/1", tokens["alice"])[1]["score"] == 100
        # The page's form needs its CSRF token.
        form = urllib.request.Request(f"{service.url}/s/{tokens['alice']}/submit", method="POST",
                                      data=b'--b\r\nContent-Disposition: form-data; name="file"; filename="cnn_layers.py"'
                                           b'\r\n\r\nx = 1\r\n--b--\r\n',
                                      headers={"Content-Type": "multipart/form-data; boundary=b"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(form, timeout=30)
        assert refused.value.code == 403
        page = urllib.request.urlopen(f"{service.url}/s/{tokens['alice']}", timeout=30).read().decode()
        assert "100 / 100" in page and "alice" in page and "bob" not in page
        copied = service.upload(tokens["carol"], REFERENCE)  # alice's file, handed in by carol
        assert service.wait_graded(tokens["carol"], [copied])[copied]["score"] == 100

        # The instructor: a link of their own, the class's latest grades, a regrade of everyone's latest.
        link = (tmp_path / "data" / "instructor.txt").read_text().strip()
        assert oct((tmp_path / "data" / "instructor.txt").stat().st_mode & 0o777) == "0o600"
        assert link.split("/i/")[1].encode() not in (tmp_path / "data" / "service.sqlite3").read_bytes()
        home = urllib.request.urlopen(link, timeout=30).read().decode()
        assert "alice" in home and "bob" in home and "100 / 100" in home and "0 / 100" in home
        rows = urllib.request.urlopen(f"{link}/grades.csv", timeout=30).read().decode().splitlines()
        assert rows[0].startswith("name,total,conv_output_size,pad,") and rows[0].endswith(",status,flags")
        assert [r.split(",")[:2] for r in rows[1:]] == [["alice", "100"], ["bob", "0"], ["carol", "100"]]
        with urllib.request.urlopen(f"{link}/canvas.csv", timeout=30) as answer:
            canvas = answer.read().decode().splitlines()
            assert answer.headers["X-Left-Out"] == "2"  # bob and carol have no canvas_id
        assert canvas[1].startswith("    Points Possible") and canvas[2:] == ["alice,4411,,,,100"]
        pairs = urllib.request.urlopen(f"{link}/similarity.csv", timeout=60).read().decode().splitlines()
        assert pairs[0].startswith("a,b,score") and pairs[1].split(",")[:2] == ["alice", "carol"], pairs
        assert float(pairs[1].split(",")[2]) > 0.9 and not any("bob" in p for p in pairs[1:]), pairs
        report = urllib.request.urlopen(f"{link}/report", timeout=30).read().decode()
        assert "Score distribution" in report and "No submissions were graded" not in report and "bob" in report
        with pytest.raises(urllib.error.HTTPError) as wrong:
            urllib.request.urlopen(f"{service.url}/i/{tokens['alice']}", timeout=30)  # a student's token is not it
        assert wrong.value.code == 404
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', home).group(1)
        regrade = urllib.request.Request(f"{link}/regrade", data=f"csrf={csrf}".encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(regrade, timeout=30) as answer:
            assert "3 submission(s) queued" in answer.read().decode()
        seen = service.wait_graded(tokens["alice"], [1])
        assert seen[1]["score"] == 100
        assert service.wait_graded(tokens["bob"], [2])[2]["score"] == 0
    finally:
        service.stop()

    # A restart keeps everything, and gives known students no new link.
    again = Running(tmp_path / "data", roster)
    try:
        assert again.api("/api/submissions/1", tokens["alice"])[1]["score"] == 100
        with open(tmp_path / "data" / "tokens.csv", encoding="utf-8") as f:
            assert len(f.read().splitlines()) == 4  # the header and the three students of the first start
    finally:
        again.stop()


@pytest.fixture(params=["sqlite", "redis"])
def broker(request, tmp_path):
    """The queue's URL: Huey on SQLite under the service's folder, or on a real Redis server (loopback)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'queue.sqlite3'}"
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; .ci/run does)")
    port = _port()
    redis = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        redis.kill()
        redis.wait()


def test_a_worker_killed_mid_grading_loses_nothing_and_each_submission_is_graded_once(tmp_path, roster, broker,
                                                                                      starts_workers):
    from autograder.integrations.service import make_queue

    data = tmp_path / "data"
    args = ["--workers", "0", "--lease", "10"] + ([] if broker.startswith("sqlite") else ["--broker", broker])
    service = Running(data, roster, *args)
    queue, _ = make_queue(broker, None)
    workers = []

    def worker():
        workers.append(start_worker(broker))
        return workers[-1]

    try:
        token = service.tokens()["alice"]
        ids = [service.upload(token, path) for path in (REFERENCE, FLIPPED, REFERENCE)]  # at most 3 wait at once
        first = worker()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until it has taken one: its heartbeat is in the queue's store
            if any(queue.get(f"beat:{i}", peek=True) is not None for i in ids):
                break
            time.sleep(0.05)
        stop_worker(first)  # the worker and the grading it was doing
        worker(), worker()  # two more join, as on other machines
        seen = service.wait_graded(token, ids)
        assert [s["state"] for s in seen.values()] == ["graded"] * 3, seen
        assert [seen[i]["score"] for i in (ids[0], ids[2])] == [100, 100]
        # The grade the CLI gives the same file, to the same student.
        (tmp_path / "cli").mkdir()
        shutil.copy(FLIPPED, tmp_path / "cli" / "alice.py")
        graded = kit("grade", str(tmp_path / "cli" / "alice.py"), "--out", str(tmp_path / "out"), "--quiet")
        assert graded.returncode == 0, graded.stderr
        cli = json.loads((tmp_path / "out" / "alice" / "grade.json").read_text())
        assert seen[ids[1]]["score"] == cli["score"] < 100
        failing = [line for line in seen[ids[1]]["feedback"].splitlines() if line.startswith("| ")]
        assert failing and all(line in (tmp_path / "out" / "alice" / "feedback.md").read_text() for line in failing)
        with sqlite3.connect(data / "service.sqlite3") as db:
            rows = db.execute("select id, state, enqueued from submissions order by id").fetchall()
        assert [r[:2] for r in rows] == [(i, "graded") for i in ids]
        assert any(r[2] == 2 for r in rows), rows  # the one the killed worker held was queued again
    finally:
        for started in workers:
            stop_worker(started)
        service.stop()


def test_the_pages_in_a_real_browser(tmp_path, roster, starts_workers):
    """Chromium (Debian's, headless, driven by Playwright): a student uploads on their page and reads
    the feedback; the instructor sees the class and grades everyone again."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run does)")
    service = Running(tmp_path / "data", roster)
    try:
        tokens = service.tokens()
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"{service.url}/s/{tokens['alice']}")
            assert "Signed in as alice" in page.inner_text("body")
            page.set_input_files("input[type=file]", str(REFERENCE))
            page.click("button[type=submit]")
            page.wait_for_url(f"{service.url}/s/{tokens['alice']}/1")
            page.wait_for_selector("pre", timeout=120_000)  # the page refreshes itself until the feedback is in
            assert "Score: 100 / 100" in page.inner_text("pre")
            page.goto(f"{service.url}/s/{tokens['alice']}")
            assert "100 / 100" in page.inner_text("table")

            page.goto((tmp_path / "data" / "instructor.txt").read_text().strip())
            assert "alice" in page.inner_text("table") and "bob" in page.inner_text("table")
            page.click("text=Grade every student's latest submission again")
            assert "1 submission(s) queued" in page.inner_text("body")
            page.click("text=alice")
            assert "Submission 1" in page.inner_text("body")
            # A TA's adjustment from the page: a question, points and a comment; a bad one says why.
            page.select_option("select[name=question]", "conv2d_forward")
            page.fill("input[name=points]", "lots")
            page.fill("input[name=comment]", "loops over the batch")
            with page.expect_navigation():
                page.click("button:has-text('Add adjustment')")
            assert "Not added: give the points as a number" in page.inner_text("body")
            page.select_option("select[name=question]", "conv2d_forward")
            page.fill("input[name=points]", "-5")
            page.fill("input[name=comment]", "loops over the batch")
            page.fill("input[name=by]", "ta-jo")
            with page.expect_navigation():
                page.click("button:has-text('Add adjustment')")
            assert "conv2d_forward\t-5\tloops over the batch\tta-jo" in page.inner_text("table")

            page.goto((tmp_path / "data" / "instructor.txt").read_text().strip())
            page.click("text=Calendar")  # the calendar editor: a mistake is refused in one line, the file kept
            page.fill("textarea", "[assignments.cnn]\ndue = 2026-12-10T23:59:00\n")
            with page.expect_navigation():
                page.click("button:has-text('Save')")
            assert "Not saved: course.toml [assignments.cnn] due = 2026-12-10 23:59:00: give the time zone too" \
                in page.inner_text("body")
            assert not (tmp_path / "data" / "course.toml").exists()
            good = '[assignments.cnn]\ndue = 2026-12-10T23:59:00-05:00\nlate_penalty_per_day = 0.2\n[extensions.cnn]\nbob = "+48h"\n'
            page.fill("textarea", good)
            with page.expect_navigation():
                page.click("button:has-text('Save')")
            assert "Saved." in page.inner_text("body")
            assert (tmp_path / "data" / "course.toml").read_text() == good
            browser.close()
        seen = service.wait_graded(tokens["alice"], [1])[1]  # graded again, the TA's adjustment kept
        assert seen["score"] == 95 and "Adjusted by ta-jo: conv2d_forward -5 (loops over the batch)" in seen["feedback"]
    finally:
        service.stop()


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL cluster on loopback (Debian's server, run as its postgres user), or skip."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    runuser = shutil.which("runuser")
    if not found or runuser is None or os.geteuid() != 0:
        pytest.skip("PostgreSQL's server (apt-get install postgresql) and root to run it as its own user are needed")
    bin_dir, port = found[-1].parent, _port()
    folder = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    os.chmod(folder, 0o755)
    shutil.chown(folder, "postgres", "postgres")
    as_postgres = [runuser, "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(bin_dir / "initdb"), "-D", str(folder / "db"), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True, timeout=120)
    server = subprocess.Popen([*as_postgres, str(bin_dir / "postgres"), "-D", str(folder / "db"), "-p", str(port),
                               "-h", "127.0.0.1", "-k", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)  # accepting connections a moment after the port opens
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def test_state_in_postgresql(tmp_path, roster, postgres_url, starts_workers):
    service = Running(tmp_path / "data", roster, "--db", postgres_url)
    try:
        token = service.tokens()["alice"]
        done = kit("submit", str(REFERENCE), "--server", service.url, "--token", token)
        assert done.returncode == 0 and done.stdout.rstrip().endswith("score: 100 / 100"), done.stderr
        assert not (tmp_path / "data" / "service.sqlite3").exists()
    finally:
        service.stop()
    again = Running(tmp_path / "data", roster, "--db", postgres_url)
    try:
        assert again.api("/api/submissions/1", token)[1]["score"] == 100
    finally:
        again.stop()


def test_manual_release_shows_the_public_checks_only_until_the_instructor_releases(tmp_path, roster, starts_workers):
    """assignment.toml [service] release = "manual": before release a student sees which public checks
    passed and that hidden ones ran, no score; after it, everything (the pages read the same view)."""
    import dataclasses

    from autograder import assignment as assignments
    from autograder.engine import api
    from autograder.integrations import service as service_module

    a = assignments.load("cnn")
    a = dataclasses.replace(a, extra={**a.extra, "service": {"release": "manual"}})
    service = service_module.Service(a, tmp_path, None, f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    service.enrol(roster, "http://x")
    alice = next(iter(service.engine.connect().execute(service_module.students.select())))
    sid = service.submit(alice, "cnn_layers.py", HANDOUT.read_bytes())["id"]
    grade = api.grade_one(a, HANDOUT, name="alice")
    service._store(sid, {"submission": sid, "grade": grade.to_dict()})

    before = service.view(alice, sid)
    assert before["withheld"] and "score" not in before
    public = [t for t in grade.tests if t.visibility == "visible"]
    listed = [line for line in before["feedback"].splitlines() if line.startswith("- ")]
    assert public and listed == [f"- {'passed' if t.status == 'passed' else 'FAILED'}: {t.name}" for t in public]
    assert f"The {len(grade.tests) - len(public)} hidden checks ran too" in before["feedback"]
    assert service.history(alice)[0]["score"] == ""

    service.release()
    after = service.view(alice, sid)
    assert "withheld" not in after and after["score"] == grade.score == 0
    assert "Score: 0 / 100" in after["feedback"]

    wrong = dataclasses.replace(a, extra={**a.extra, "service": {"release": "later"}})
    with pytest.raises(UsageError, match='give "immediately" or "manual"'):
        service_module.Service(wrong, tmp_path, None, f"sqlite:///{tmp_path / 'q2.sqlite3'}").manual_release


def test_late_work_extensions_groups_adjustments_and_the_close(tmp_path, broker, starts_workers):
    """Issue 23, as a course drives it: course.toml in the service's folder, then submit, adjust, regrade, export
    (with the default store, on the SQLite queue and on Redis)."""
    from datetime import datetime, timedelta, timezone

    data = tmp_path / "data"
    data.mkdir()
    roster = tmp_path / "roster.csv"
    roster.write_text("student,email,group\nalice,a@x.org,\nbob,b@x.org,\ncarol,c@x.org,team1\ndave,d@x.org,team1\n")
    now = datetime.now(timezone.utc)
    stamp = lambda moment: moment.isoformat(timespec="seconds")  # noqa: E731
    (data / "course.toml").write_text(f'[assignments.cnn]\ndue = {stamp(now - timedelta(hours=2))}\n'
                                      f'late_penalty_per_day = 0.2\n[extensions.cnn]\nbob = "+48h"\n')
    redis = broker.startswith("redis")
    service = Running(data, roster, *(["--broker", broker] if redis else []))
    worker = start_worker(broker) if redis else None
    try:
        tokens = service.tokens()

        def submit(who):
            return kit("submit", str(REFERENCE), "--server", service.url, "--token", tokens[who])

        late = submit("alice")  # two hours late: a started day at 20%
        assert late.returncode == 0 and late.stdout.rstrip().endswith("score: 80 / 100"), late.stdout[-800:]
        assert "Late: late by 2.0 h after the deadline" in late.stdout and "before it: 100 / 100" in late.stdout
        extended = submit("bob")
        assert extended.stdout.rstrip().endswith("score: 100 / 100") and "Late:" not in extended.stdout
        assert submit("carol").stdout.rstrip().endswith("score: 80 / 100")

        adjusted = kit("adjust", "--data", str(data), "alice", "conv2d_forward", "-5", "--comment", "loops over the batch")
        assert adjusted.returncode == 0, adjusted.stderr
        bad = kit("adjust", "--data", str(data), "alice", "no_such_question", "1", "--comment", "x")
        assert bad.returncode == 2 and bad.stderr.startswith("error: no question 'no_such_question'")

        def export():
            done = kit("export", "--data", str(data))
            assert done.returncode == 0, done.stderr
            return {row["name"]: row for row in csv.DictReader(done.stdout.splitlines())}

        rows = export()
        assert list(rows) == ["alice", "bob", "carol", "dave"]
        assert rows["alice"]["total"] == "76" and rows["alice"]["conv2d_forward"] == "15"  # (100 - 5) x 0.8
        assert "adjusted: conv2d_forward -5 (loops over the batch)" in rows["alice"]["status"]
        assert rows["bob"]["total"] == "100"
        assert rows["dave"]["total"] == rows["carol"]["total"] == "80"  # a group's grade on every member's row

        again = kit("regrade", "--data", str(data), "--all")
        assert again.returncode == 0 and "queued 3 submissions" in again.stdout, again.stdout
        service.wait_graded(tokens["alice"], [1, 2])
        service.wait_graded(tokens["carol"], [3])
        after = export()
        assert after["alice"]["total"] == "76" and after["dave"]["total"] == "80"  # the adjustment stays
        with sqlite3.connect(data / "service.sqlite3") as db:  # the score history: each re-run keeps the grade before
            assert db.execute("select submission_id, score from earlier_grades order by submission_id").fetchall() == [
                (1, 100.0), (2, 100.0), (3, 100.0)]

        (data / "course.toml").write_text(f'[assignments.cnn]\ndue = {stamp(now - timedelta(hours=2))}\n'
                                          f'late_until = {stamp(now - timedelta(hours=1))}\n')
        closed = submit("alice")
        assert closed.returncode == 1 and closed.stderr.strip().splitlines() == [
            f"not submitted: not accepted: submissions closed at {(now - timedelta(hours=1)).isoformat(timespec='minutes')}"]
    finally:
        if worker is not None:
            stop_worker(worker)
        service.stop()


def test_staff_see_the_queue_cancel_a_stuck_grading_and_a_lost_one_is_retried_a_bounded_number_of_times(
        tmp_path, roster, starts_workers):
    from autograder.integrations.service import MAX_ATTEMPTS, make_queue

    data = tmp_path / "data"
    service = Running(data, roster, "--workers", "0")  # nobody grades: what is queued stays queued
    try:
        tokens = service.tokens()
        link = (data / "instructor.txt").read_text().strip()
        stuck = service.upload(tokens["alice"], REFERENCE)
        page = urllib.request.urlopen(f"{link}/queue", timeout=30).read().decode()
        assert "1 submission(s) waiting" in page and ">alice<" in page and "waiting" in page
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
        cancel = urllib.request.Request(f"{link}/cancel", data=f"csrf={csrf}&submission={stuck}".encode(), method="POST",
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        urllib.request.urlopen(cancel, timeout=30).close()
        seen = service.api(f"/api/submissions/{stuck}", tokens["alice"])[1]
        assert seen["state"] == "failed" and "cancelled" in seen["message"] and "none of your budget" in seen["message"]

        # A grading lost with its worker again and again (here: taken off the queue by hand) is queued
        # again MAX_ATTEMPTS times in all, then becomes a system error.
        queue, _ = make_queue(f"sqlite:///{data / 'queue.sqlite3'}", None)
        lost = service.upload(tokens["bob"], REFERENCE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            seen = service.api(f"/api/submissions/{lost}", tokens["bob"])[1]
            if seen["state"] != "queued":
                break
            queue.storage.flush_queue()
            time.sleep(0.5)
        assert seen["state"] == "failed" and f"lost {MAX_ATTEMPTS} times" in seen["message"], seen
        with sqlite3.connect(data / "service.sqlite3") as db:
            assert db.execute("select enqueued from submissions where id = ?", (lost,)).fetchone()[0] == MAX_ATTEMPTS
    finally:
        service.stop()


def test_a_group_shares_one_rate_limit_budget_and_its_history(tmp_path):
    """Two graded submissions every hour for alice's group (alice and carol): carol's third is refused,
    bob's own budget is untouched, and each member sees the group's submissions, nobody else's."""
    import dataclasses

    from autograder import assignment as assignments
    from autograder.integrations import service as service_module

    roster = tmp_path / "roster.csv"
    roster.write_text("student,email,group\nalice,a@x.org,g\nbob,b@x.org,\ncarol,c@x.org,g\neve,e@x.org,#2\n")
    a = assignments.load("cnn")
    a = dataclasses.replace(a, extra={**a.extra, "rate_limit": {"burst": 2, "refill_minutes": 60}})
    service = service_module.Service(a, tmp_path, None, f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    service.enrol(roster, "http://x")
    with service.engine.connect() as c:
        people = {r.student: r for r in c.execute(service_module.students.select())}
    body = REFERENCE.read_bytes()
    assert service.budget(people["carol"]) == "Graded submissions left now: 2 of 2."
    first = service.submit(people["alice"], "cnn_layers.py", body)["id"]
    service.submit(people["carol"], "cnn_layers.py", body)
    refused = service.submit(people["carol"], "cnn_layers.py", body)
    assert refused["status"] == 429 and refused["refused"].startswith("Rate limit: this submission was not graded")
    assert service.budget(people["alice"]).startswith("No graded submission left now; the next one is available from")
    assert "id" in service.submit(people["bob"], "cnn_layers.py", body)
    assert [h["id"] for h in service.history(people["carol"])] == [2, 1]
    assert service.view(people["carol"], first)["state"] == "queued"  # her group's: she may see it
    assert service.view(people["bob"], first) is None  # not his
    assert service.view(people["bob"], 10**30) is None  # past the database's integers: none, not an error

    # A group's grade is on its members' rows, and only theirs: eve's group is named like bob's id (2).
    graded = {"origin": "cnn_layers.py", "seed": 1, "score": 50, "max_score": 100, "tests": [], "by_item": {"pad": 5}}
    service._store(first, {"grade": {**graded, "name": "alice"}})
    bobs = service.submit(people["bob"], "cnn_layers.py", body)["id"]
    service._store(bobs, {"grade": {**graded, "name": "bob", "score": 70}})
    totals = {row["student"]: row.get("total") for row in service.gradebook()}
    assert totals == {"alice": 50, "bob": 70, "carol": 50, "eve": None}
