"""The sandbox's hand-written /proc walk against psutil, on a live process tree, in one run.

Launch.after_call runs after every call into student code (~1,000 per submission), and where
the worker runs without cgroups (Gradescope) it walks /proc each time: the worker's descendants,
the grader's children and their owners. Each question is timed both ways, interleaved
(one hand round, one psutil round, repeated), on two trees started here:

  honest   one worker process with no children (what nearly every call sees)
  strays   one worker with 3 children of 3 children each (what a forking submission leaves)

  children     direct children of the worker     procs.children   vs Process(pid).children()
  descendants  the worker's whole tree           procs.descendants vs Process(pid).children(recursive=True)
  owner        the uid of each of our children   procs.owner      vs Process(pid).uids().real
  zombie       is a child dead and unreaped?     /proc/<pid>/stat vs Process(pid).status()
  after_call   the walk Launch._strays does at the user level, both ways

Usage: .venv/bin/python bench/procs.py   (~30 s). Writes bench/results/procs.json.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import psutil  # noqa: E402

from benchlib import ROOT, RESULTS_DIR, machine_info  # noqa: E402

sys.path.insert(0, str(ROOT))
from autograder.engine.sandbox import procs  # noqa: E402

ROUNDS = 15
CALLS = 300  # per round and side: one round's median hides a context switch or two
# A worker that forks `width` children, each forking `width` grandchildren, all then sleeping.
TREE = (
    "import os, sys, time\n"
    "width = int(sys.argv[1])\n"
    "for _ in range(width):\n"
    "    if os.fork() == 0:\n"
    "        for _ in range(width):\n"
    "            if os.fork() == 0:\n"
    "                time.sleep(600)\n"
    "        time.sleep(600)\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)


def start_tree(width: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", TREE, str(width)], stdout=subprocess.PIPE,
                               start_new_session=True, text=True)
    assert process.stdout.readline().strip() == "ready"
    expected = width + width * width
    deadline = time.monotonic() + 10
    while len(procs.descendants(process.pid)) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return process


def hand_zombie(pid: int) -> bool:
    """What procs.reap_orphans asks of each child."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def psutil_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def psutil_owner(pid: int) -> int | None:
    try:
        return psutil.Process(pid).uids().real
    except psutil.Error:
        return None


def psutil_children(pid: int, recursive: bool = False) -> list[int]:
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=recursive)]
    except psutil.Error:
        return []


def hand_after_call(worker: int, uid: int) -> list[int]:
    """Launch._strays at the user level: the worker's descendants, and our other children of its uid."""
    strays = procs.descendants(worker)
    return strays + [p for p in procs.children(os.getpid()) if p != worker and procs.owner(p) == uid]


def psutil_after_call(worker: int, uid: int) -> list[int]:
    strays = psutil_children(worker, recursive=True)
    return strays + [p for p in psutil_children(os.getpid()) if p != worker and psutil_owner(p) == uid]


def per_call_us(fn, *args) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        fn(*args)
    return (time.perf_counter() - start) / CALLS * 1e6


def compare(name: str, hand, ours, *args) -> dict:
    mine, theirs = hand(*args), ours(*args)  # both ways must give the same answer first
    assert (sorted(mine) == sorted(theirs)) if isinstance(mine, list) else mine == theirs, (name, mine, theirs)
    hands, psutils = [], []
    for _ in range(ROUNDS):
        hands.append(per_call_us(hand, *args))
        psutils.append(per_call_us(ours, *args))
    row = {"hand_us": statistics.median(hands), "psutil_us": statistics.median(psutils)}
    row["ratio"] = row["psutil_us"] / row["hand_us"]
    print(f"{name:<24} {row['hand_us']:>9.1f} {row['psutil_us']:>10.1f} {row['ratio']:>8.1f}x")
    return row


def main() -> None:
    results = {"machine": machine_info(), "processes_on_host": len(psutil.pids()), "rounds": ROUNDS,
               "calls_per_round": CALLS, "rows": {}}
    print(f"{results['processes_on_host']} processes on this host (psutil's children() reads each one's stat)")
    print(f"{'question':<24} {'hand us':>9} {'psutil us':>10} {'psutil/hand':>8}")
    trees = {"honest": start_tree(0), "strays": start_tree(3)}
    try:
        uid = os.getuid()
        for label, tree in trees.items():
            worker = tree.pid
            rows = results["rows"]
            rows[f"children ({label})"] = compare(f"children ({label})", procs.children, psutil_children, worker)
            rows[f"descendants ({label})"] = compare(f"descendants ({label})", procs.descendants,
                                                     lambda pid: psutil_children(pid, True), worker)
            rows[f"after_call ({label})"] = compare(f"after_call ({label})", hand_after_call, psutil_after_call,
                                                    worker, uid)
        worker = trees["strays"].pid
        results["rows"]["owner"] = compare("owner", procs.owner, psutil_owner, worker)
        results["rows"]["zombie"] = compare("zombie", hand_zombie, psutil_zombie, worker)
    finally:
        for tree in trees.values():
            os.killpg(tree.pid, signal.SIGKILL)
            tree.wait()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "procs.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS_DIR / 'procs.json'}")


if __name__ == "__main__":
    main()
