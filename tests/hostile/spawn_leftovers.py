"""The reference, plus processes meant to outlive the call that starts them.

On its first call of pad it starts `sleep 1000.<mark>` with subprocess,
forks a child that detaches with setsid and loops forever (renamed so the
test can find it, then exec'd into a marked Python loop where it can be),
forks a double-forked orphan the same way, and starts a daemon thread.
pad still returns the right answer.
"""
# ==== HOSTILE ====
import os
import subprocess
import sys
import threading
import time

_MARK = "@MARK@"
_started = []


def _name_me(prefix):
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(prefix + _MARK[:13])
    except OSError:
        pass


def _loop_forever(prefix):
    _name_me(prefix)
    try:
        os.execv(sys.executable, [sys.executable, "-c", "import time\nwhile True: time.sleep(0.2)", "orphan-" + _MARK])
    except OSError:
        pass
    while True:
        time.sleep(0.2)


def _start():
    try:
        subprocess.Popen(["sleep", "1000." + _MARK], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    except OSError:
        pass
    try:
        if os.fork() == 0:  # a detached child that loops
            try:
                os.setsid()
                _loop_forever("s")
            finally:
                os._exit(0)
    except OSError:
        pass
    try:
        child = os.fork()
        if child == 0:  # a double-forked orphan: its parent exits at once
            try:
                os.setsid()
                if os.fork() == 0:
                    _loop_forever("d")
            finally:
                os._exit(0)
        os.waitpid(child, 0)
    except OSError:
        pass

    def spin():
        while True:
            time.sleep(0.01)

    threading.Thread(target=spin, daemon=True).start()


_reference_pad = pad


def pad(x, padding, value=0):
    if not _started:
        _started.append(True)
        _start()
    return _reference_pad(x, padding, value)
