"""The grading service under a class's load, on loopback: feedback latency, nothing lost, a worker killed.

Starts `serve` (its state and queue in SQLite under a temporary folder, `--workers 0`) and two
`worker` processes, then STUDENTS students each submit once at a moment drawn uniformly over
MINUTES (a fifth of them the untouched handout, the rest the reference). Each submission's
latency runs from its upload to the moment the API first reports it graded (polled every 0.2 s).
Halfway through, the worker grading a submission at that moment (its heartbeat names its process)
is killed with SIGKILL, with that grading; the other goes on alone. Side by side in the same run, a warm grading of the reference (`api.Warm`, median of 5)
is the yardstick. Prints p50/p99 latency, how many were lost (not graded when the run ends) or
graded twice, and the ratio of p50 to the warm grading.

    .venv/bin/python bench/service.py                          # 300 students over 10 minutes
    .venv/bin/python bench/service.py --students 60 --minutes 2
    .venv/bin/python bench/service.py --regrade 100 --students 60 --minutes 2   # live latency while staff re-run 100
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import benchlib  # noqa: F401  (pins BLAS to one thread, first)
from benchlib import REFERENCE_MODULE, ROOT, RESULTS_DIR, kit_python, machine_info, median, write_json

sys.path.insert(0, str(ROOT))
from autograder import assignment as assignments  # noqa: E402
from autograder.engine import api  # noqa: E402
from autograder.integrations.service import make_queue  # noqa: E402

HANDOUT = ROOT / "student_template" / "cnn" / "cnn_layers.py"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _call(url: str, token: str, body: bytes | None = None, content_type: str = "") -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())


def warm_grading(rounds: int = 5) -> float:
    with api.Warm(assignments.load("cnn", ROOT)) as grader:
        grader.grade(REFERENCE_MODULE)
        times = []
        for _ in range(rounds):
            time.sleep(0.3)
            started = time.perf_counter()
            grader.grade(REFERENCE_MODULE)
            times.append(time.perf_counter() - started)
    return median(times)


def _serve(data: Path, roster: Path, port: int, *options: str) -> subprocess.Popen:
    """`serve` on loopback, once it answers."""
    serve = subprocess.Popen([kit_python(), "-I", "-m", "autograder", "serve", "--data", str(data), "--roster",
                              str(roster), "--port", str(port), *options], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            return serve
        except OSError:
            time.sleep(0.1)
    os.killpg(serve.pid, signal.SIGKILL)
    raise SystemExit("serve did not answer within 30 s")


def _upload(url: str, token: str, path: Path) -> int:
    boundary = "bench"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n\r\n'
            .encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode())
    return _call(f"{url}/api/submissions", token, body, f"multipart/form-data; boundary={boundary}")["id"]


def _live_phase(url: str, tokens: list[str], span: float, rng) -> list[float]:
    """Each token submits the reference once at a moment drawn over `span` s; each one's latency (polled
    every 0.2 s by a thread of its own while the submissions go out)."""
    plan = sorted((rng.uniform(0, span), token) for token in tokens)
    sent, done, finished = {}, {}, threading.Event()

    def poll():
        deadline = None
        while True:
            for sid, (owner, at) in list(sent.items()):
                if sid not in done and _call(f"{url}/api/submissions/{sid}", owner)["state"] != "queued":
                    done[sid] = time.monotonic() - at
            if finished.is_set():
                deadline = deadline or time.monotonic() + 300
                if len(done) == len(sent) or time.monotonic() > deadline:
                    return
            time.sleep(0.2)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    start = time.monotonic()
    for moment, token in plan:
        time.sleep(max(0.0, start + moment - time.monotonic()))
        at = time.monotonic()
        sent[_upload(url, token, REFERENCE_MODULE)] = (token, at)
    finished.set()
    poller.join()
    return list(done.values()) + [float("inf")] * (len(sent) - len(done))


def regrade_bench(args) -> int:
    """Issue 23: live latency while staff re-run REGRADE submissions, beside the same load on an idle queue."""
    rng = random.Random(args.seed)
    span, live = args.minutes * 60, args.students
    with tempfile.TemporaryDirectory(prefix="bench-service-regrade-") as tmp:
        data, roster, port = Path(tmp) / "data", Path(tmp) / "roster.csv", _port()
        names = [f"r{i:04d}" for i in range(args.regrade)] + [f"a{i:04d}" for i in range(live)] + [f"b{i:04d}" for i in range(live)]
        roster.write_text("student,email\n" + "".join(f"{n},{n}@example.org\n" for n in names))
        url = f"http://127.0.0.1:{port}"
        serve = _serve(data, roster, port, "--workers", "2")
        try:
            with open(data / "tokens.csv", encoding="utf-8") as f:
                token = {line.split(",")[0]: line.split(",")[1] for line in f.read().splitlines()[1:]}
            seeded = [(_upload(url, token[n], REFERENCE_MODULE), token[n]) for n in names[:args.regrade]]
            while any(_call(f"{url}/api/submissions/{sid}", t)["state"] == "queued" for sid, t in seeded):
                time.sleep(0.5)
            idle = _live_phase(url, [token[n] for n in names[args.regrade:args.regrade + live]], span, rng)
            queued = subprocess.run([kit_python(), "-I", "-m", "autograder", "regrade", "--data", str(data), "--all"],
                                    cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
            busy = _live_phase(url, [token[n] for n in names[args.regrade + live:]], span, rng)
            backlog_left = sum(_call(f"{url}/api/submissions/{sid}", t)["state"] == "queued" for sid, t in seeded)
        finally:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
    report = {"machine": machine_info(), "regraded": args.regrade, "live_per_phase": live, "minutes_per_phase": args.minutes,
              "regrade_said": queued, "idle_p50_s": _percentile(idle, 0.5), "idle_p99_s": _percentile(idle, 0.99),
              "busy_p50_s": _percentile(busy, 0.5), "busy_p99_s": _percentile(busy, 0.99),
              "re_runs_still_queued_after": backlog_left}
    report["p99_busy_over_idle"] = report["busy_p99_s"] / report["idle_p99_s"]
    write_json(RESULTS_DIR / "service_regrade.json", report)
    print(f"{live} live submissions over {args.minutes:g} min on an idle queue, then {live} more while staff re-run "
          f"{args.regrade} ({queued})")
    print(f"idle: p50 {report['idle_p50_s']:.2f} s, p99 {report['idle_p99_s']:.2f} s; while re-running: "
          f"p50 {report['busy_p50_s']:.2f} s, p99 {report['busy_p99_s']:.2f} s; re-runs still queued at the end: {backlog_left}")
    print(f"live p99 while re-running / idle: ratio {report['p99_busy_over_idle']:.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regrade", type=int, default=0,
                        help="instead: seed this many graded submissions, then measure live latency on an idle queue "
                             "and while staff re-run them all (--students live submissions per phase)")
    args = parser.parse_args()
    if not 1 <= args.students <= 2000 or not 0 < args.minutes <= 60 or not 0 <= args.regrade <= 2000:
        raise SystemExit("--students 1..2000, --minutes up to 60 and --regrade up to 2000: the bench is bounded")
    if args.regrade:
        return regrade_bench(args)
    rng = random.Random(args.seed)
    span = args.minutes * 60
    yardstick = warm_grading()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        data, roster, port = Path(tmp) / "data", Path(tmp) / "roster.csv", _port()
        roster.write_text("student,email\n" + "".join(f"s{i:04d},s{i}@example.org\n" for i in range(args.students)))
        url = f"http://127.0.0.1:{port}"
        serve = _serve(data, roster, port, "--workers", "0", "--lease", "15")
        broker = f"sqlite:///{data / 'queue.sqlite3'}"
        workers = []
        try:
            with open(data / "tokens.csv", encoding="utf-8") as f:
                tokens = [line.split(",")[1] for line in f.read().splitlines()[1:]]
            for _ in range(2):
                workers.append(subprocess.Popen([kit_python(), "-I", "-m", "autograder", "worker", "--broker", broker],
                                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                start_new_session=True))
            plan = sorted((rng.uniform(0, span), token, HANDOUT if rng.random() < 0.2 else REFERENCE_MODULE)
                          for token in tokens)
            sent: dict[int, tuple[str, float]] = {}
            done: dict[int, float] = {}
            lock = threading.Event()  # set once everything is sent

            def poll():
                while not lock.is_set() or len(done) < len(sent):
                    for sid, (token, at) in list(sent.items()):
                        if sid not in done and _call(f"{url}/api/submissions/{sid}", token)["state"] != "queued":
                            done[sid] = time.monotonic() - at
                    if lock.is_set() and time.monotonic() > give_up:
                        return
                    time.sleep(0.2)

            give_up = float("inf")
            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            start, killed = time.monotonic(), None
            queue, _ = make_queue(broker, None)

            def kill_a_grading_worker():
                """The worker grading a submission now (its heartbeat names the process), killed with it."""
                for sid in sorted(set(sent) - set(done), reverse=True):
                    beat = queue.get(f"beat:{sid}", peek=True)
                    if beat is not None:
                        for worker in workers:
                            try:
                                if os.getpgid(beat[2]) == worker.pid:
                                    os.killpg(worker.pid, signal.SIGKILL)
                                    return sid
                            except ProcessLookupError:
                                continue
                return None

            for moment, token, path in plan:
                time.sleep(max(0.0, start + moment - time.monotonic()))
                if killed is None and time.monotonic() - start >= span / 2:
                    killed = kill_a_grading_worker()  # tried at each submission until one is in flight
                at = time.monotonic()
                sent[_upload(url, token, path)] = (token, at)
            give_up = time.monotonic() + 300
            lock.set()
            poller.join()
            with sqlite3.connect(data / "service.sqlite3") as db:
                requeued = db.execute("select count(*) from submissions where enqueued > 1").fetchone()[0]
        finally:
            for process in [*workers, serve]:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
    latencies = list(done.values())
    before = [done[s] for s, (_, at) in sent.items() if s in done and at - start < span / 2]
    after = [done[s] for s, (_, at) in sent.items() if s in done and at - start >= span / 2]
    report = {
        "machine": machine_info(), "students": args.students, "minutes": args.minutes, "workers": 2,
        "warm_grading_s": yardstick, "submitted": len(sent), "graded": len(done), "lost": len(sent) - len(done),
        "queued_again": requeued, "killed_while_grading": killed,
        "p50_s": _percentile(latencies, 0.5), "p99_s": _percentile(latencies, 0.99),
        "p50_two_workers_s": _percentile(before, 0.5) if before else None,
        "p50_one_worker_after_kill_s": _percentile(after, 0.5) if after else None,
        "p99_one_worker_after_kill_s": _percentile(after, 0.99) if after else None,
    }
    report["p50_over_warm"] = report["p50_s"] / yardstick
    write_json(RESULTS_DIR / "service.json", report)
    print(f"{len(sent)} submissions from {args.students} students over {args.minutes:g} min, 2 workers, one killed halfway")
    print(f"graded {len(done)}, lost {report['lost']}, queued again {requeued} "
          f"(the worker killed halfway was grading submission {killed})")
    print(f"feedback latency: p50 {report['p50_s']:.2f} s, p99 {report['p99_s']:.2f} s; "
          f"before the kill p50 {report['p50_two_workers_s'] or 0:.2f} s, after it p50 {report['p50_one_worker_after_kill_s'] or 0:.2f} s "
          f"p99 {report['p99_one_worker_after_kill_s'] or 0:.2f} s")
    print(f"warm grading of the reference: {yardstick:.3f} s; p50 / warm grading: ratio {report['p50_over_warm']:.2f}")
    return 0 if report["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
