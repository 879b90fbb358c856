"""The grading engine: knows nothing of CNNs; an assignment is data and suites plugged in.

Trusted side, from the one public surface down to the sandbox:

    api.py             what every entry point calls: grade a batch or one submission, merge, start
    results.py         a grade as data (Grade, TestGrade; status and names rendered from it)
    batch.py           a class: inputs, gradebook rows, shards, signals
    grading.py         one submission: runs the suite, shares the points, builds the Grade
    plugin.py          the pytest plugin: fixtures, per-test outcomes, dependencies between checks,
                       and the causes a failure follows from (another check, a question it calls)
    causes.py          naming a crash's cause from the suite's known causes (data: crashes.py)
    session.py         the suite's proxies into the worker (StudentModule, Remote) and the loads
    budget.py          how much time a test and a submission may still use
    transcript.py      what was seen besides return values: events, cell errors, output
    worker_process.py  one worker seen from here: start, request and reply within deadlines
    affinity.py        the grader's thread kept on one CPU while it talks to its worker (speed only)
    detection.py       which isolation level this host allows (probed once per process)
    sandbox/           starting a worker at a level: layout, bubblewrap, /proc, disk, launch, start
    caps.py            per-submission cgroups
    wire.py            the request/reply format (also used by the worker)
    errors.py          what student code did to a call, as exceptions with a kind
    kinds.py           the result's vocabularies: Event, Flag, State, TestKind, Level, Scope
    submission.py      reading what a student handed in (files, notebooks, zips, exports)
    static.py          looking at the source before it runs (and what each definition refers to)
    report.py          feedback.md, grade.json and the gradebook, from the Grade
                       (Gradescope's results.json: integrations/gradescope.py)

Untrusted side: worker.py, which runs in the sandbox with the student's code.
"""
