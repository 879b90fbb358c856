"""`./kit submit FILE --server URL --token TOKEN`: a student's upload to the grading service, from a terminal.

Uploads the file, waits for its grading, prints the feedback the student may see and ends with
`score: S / M`. Exit 0 when graded; 1 with a one-line reason when it was not (refused: a bad
token, the rate limit, a file too big; or the grader failed). The standard library only: a
student's machine needs nothing the handout does not.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import UsageError

POLL_SECONDS = 0.5


def _request(url: str, token: str, body: bytes | None = None, content_type: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read(1 << 24) or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read(1 << 20) or b"{}")
        except ValueError:
            return exc.code, {"refused": f"the server answered {exc.code} {exc.reason}"}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UsageError(f"cannot reach the grading service at {url} ({exc}); check --server") from None


def _multipart(path: Path) -> tuple[bytes, str]:
    boundary = "autograder-" + secrets.token_hex(16)
    name = path.name.replace('"', "%22").replace("\r", "").replace("\n", "")
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def submit(path: Path, server: str, token: str, *, wait_seconds: float = 3600, out=sys.stdout) -> int:
    if not path.is_file():
        raise UsageError(f"{path}: no such file; give the .py or .ipynb you want graded")
    base = server.rstrip("/")
    body, content_type = _multipart(path)
    status, answer = _request(f"{base}/api/submissions", token, body, content_type)
    if status != 201 or "id" not in answer:
        print(f"not submitted: {answer.get('refused') or f'the server answered {status}'}", file=sys.stderr)
        return 1
    sid, deadline, said = answer["id"], time.monotonic() + wait_seconds, None
    while True:
        status, seen = _request(f"{base}/api/submissions/{sid}", token)
        if status != 200:
            print(f"submission {sid}: {seen.get('refused') or f'the server answered {status}'}", file=sys.stderr)
            return 1
        if seen.get("state") != "queued":
            break
        if seen.get("position") != said:
            said = seen.get("position")
            print(f"submission {sid}: waiting, number {said} in the queue", file=sys.stderr)
        if time.monotonic() > deadline:
            print(f"submission {sid}: still waiting after {wait_seconds:g} s; see it later at {base}", file=sys.stderr)
            return 1
        time.sleep(POLL_SECONDS)
    if seen.get("state") != "graded":
        print(f"submission {sid} was not graded: {seen.get('message') or seen.get('state')}", file=sys.stderr)
        return 1
    print(seen.get("feedback", "").rstrip(), file=out)
    if seen.get("withheld"):
        print("score: withheld until your instructor releases the hidden checks' results", file=out)
    else:
        print(f"score: {seen['score']:g} / {seen['max_score']:g}", file=out)
    return 0
