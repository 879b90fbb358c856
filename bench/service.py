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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.students <= 2000 or not 0 < args.minutes <= 60:
        raise SystemExit("--students 1..2000 and --minutes up to 60: the bench is bounded")
    rng = random.Random(args.seed)
    span = args.minutes * 60
    yardstick = warm_grading()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        data, roster, port = Path(tmp) / "data", Path(tmp) / "roster.csv", _port()
        roster.write_text("student,email\n" + "".join(f"s{i:04d},s{i}@example.org\n" for i in range(args.students)))
        url = f"http://127.0.0.1:{port}"
        serve = subprocess.Popen([kit_python(), "-I", "-m", "autograder", "serve", "--data", str(data), "--roster",
                                  str(roster), "--port", str(port), "--workers", "0", "--lease", "15"], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        broker = f"sqlite:///{data / 'queue.sqlite3'}"
        workers = []
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
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
                boundary = "bench"
                body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n\r\n'
                        .encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode())
                at = time.monotonic()
                answer = _call(f"{url}/api/submissions", token, body, f"multipart/form-data; boundary={boundary}")
                sent[answer["id"]] = (token, at)
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
