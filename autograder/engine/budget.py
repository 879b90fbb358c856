"""How much time one submission's code may still use.

Two clocks, both counting only time the grader spends waiting on the
student's worker:
- per test: a check's `seconds`, spent only inside its calls (the reference's
  work and numerical gradients between calls are the grader's time);
- per submission: `submission_seconds` for worker starts, loads and calls
  together, so a submission that crashes its worker in every test pays for
  the restarts instead of slowing the batch.
"""

from __future__ import annotations

from .errors import NotRun, StudentTimeout


class Budget:
    def __init__(self, test_seconds: float, submission_seconds: float):
        # The current test's allowance. Outside a test's body (fixture set-up and
        # teardown) each call gets this much afresh: those calls are not the test's
        # to pay for. Loads have their own limit (import_seconds, in the session).
        self.test_seconds = test_seconds
        self.submission_seconds = submission_seconds
        self.test_left = test_seconds
        self.spent = 0.0
        self.in_test = False

    # -- a test's clock ------------------------------------------------
    def begin_test(self, seconds: float) -> None:
        self.test_seconds = seconds
        self.test_left = seconds
        self.in_test = True

    def end_test(self) -> None:
        self.in_test = False

    # -- charging ------------------------------------------------------
    @property
    def submission_left(self) -> float:
        return self.submission_seconds - self.spent

    def allowance(self) -> tuple[float, bool]:
        """How long the next call may run, and whether its test's clock (not the submission's) sets that."""
        left = self.test_left if self.in_test else self.test_seconds
        return min(left, self.submission_left), left <= self.submission_left

    def charge(self, seconds: float, *, call: bool = True) -> None:
        """Count `seconds` of the student's time (a call's also against its test)."""
        self.spent += seconds
        if call and self.in_test:
            self.test_left -= seconds

    # -- why a call may not run, or why it stopped ---------------------
    def exhausted(self) -> StudentTimeout | NotRun | None:
        """The reason no call may start now, or None."""
        if self.submission_left <= 0:
            return self.out_of_time()
        if self.in_test and self.test_left <= 0:
            return self.test_timeout()
        return None

    def stopped(self, by_test: bool) -> StudentTimeout | NotRun:
        """Why a call that ran out of its allowance stopped (`by_test` as allowance() said)."""
        return self.test_timeout() if by_test else self.out_of_time()

    def test_timeout(self) -> StudentTimeout:
        return StudentTimeout(f"timed out after {self.test_seconds:g} s")

    def out_of_time(self) -> NotRun:
        return NotRun(
            f"not run: the submission used up its {self.submission_seconds:g} s for the whole suite "
            "(worker starts, loading and calls together)"
        )
