"""Fixtures shared by the kit's tests."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Every test draws hidden inputs with this course secret, so a test's inputs are the same in every
# checkout (each makes its own random .course-secret on its first `grade`). Tests of the secret
# itself unset it; tests that run the kit without it (their env drops AUTOGRADER_*) use the
# checkout's file and compare gradings with each other, never with fixed values.
os.environ["AUTOGRADER_SECRET"] = "the kit's own tests"

# `./kit test -m "not slow"` is the quick loop (under a minute): it leaves out
# the tests that grade whole batches, start many sandboxed workers, run the
# kit as a subprocess, or build environments. The list is measured: tests that
# took 0.9 s or more (`pytest --durations=0`), and every test using a fixture
# that grades a batch. Re-measure when tests are added.
SLOW_FIXTURES = {"demo", "baseline", "canvas", "gradescope", "graded", "graded_hand", "ns", "user", "plain",
                 "public_python", "batch"}  # test_capstone's batch: it trains a network per submission
SLOW_TESTS = {
    # test_similarity and test_ratelimit: a graded class, Gradescope runs, check through the CLI
    "test_grade_with_similarity_then_similarity_on_the_output",
    "test_grade_with_similarity_on_part_of_a_class_covers_the_whole_gradebook",
    "test_a_question_budget_keeps_that_questions_best_earlier_result",
    "test_gradescope_burst_refusal_keeps_the_best_earlier_score_and_says_when_to_come_back",
    "test_a_grader_failure_costs_no_budget",
    "test_check_is_unlimited_whatever_the_budget",
    # test_capstone: a Jupyter kernel, training on Gradescope's path, check with the first part
    "test_notebook_runs_in_a_jupyter_kernel_and_draws_its_figures",
    "test_gradescope_results_carry_the_leaderboard",
    "test_check_runs_the_public_checks_with_the_first_part_beside",
    # test_pictures: the part-1 notebooks in a Jupyter kernel, pictures.py from the command line
    "test_reference_notebook_draws_a_picture_in_every_see_it_cell_in_a_jupyter_kernel",
    "test_handout_notebook_reaches_its_end_with_one_line_per_see_it_cell_in_a_jupyter_kernel",
    "test_the_command_line_saves_every_picture_or_says_what_to_finish",
    # test_hostile's tests that take a batch fixture by name (request.getfixturevalue)
    "test_fallback_exit_and_loop",
    "test_fallback_reading_the_reference_is_reported",
    "test_honest_standard_library_imports_work",
    # test_handout's notebook runs (otter in a kernel-free harness)
    "test_solution_notebook_passes_every_check",
    "test_untouched_handout_notebook_fails_every_check_naming_the_function",
    "test_a_folder_of_another_assignment_is_refused",
    "test_grade_warns_when_the_built_reference_is_stale",
    "test_a_folder_of_py_files_is_a_class",
    "test_a_signal_stops_the_batch_keeps_rows_and_kills_every_child",
    "test_feedback_names_the_students_problem_not_the_graders_classes",
    "test_grading_into_an_existing_out_adds_and_replaces_rows_and_keeps_the_others",
    "test_kit_takes_paths_relative_to_the_callers_folder",
    "test_an_output_that_fails_leaves_the_others_written",
    "test_a_missing_known_archive_is_refused_before_grading",
    "test_a_pool_process_killed_costs_no_classmate_their_grade",
    "test_only_stale_and_resume_choose_what_is_graded_and_say_so",
    "test_public_checks_are_on_the_grades_one_scale",
    "test_rows_keep_the_order_submissions_were_given_in",
    "test_shards_merged_equal_one_run",
    "test_tests_given_up_on_are_not_run_not_timeouts",
    "test_deleted_built_file_is_reported_missing_and_rebuilt",
    "test_edited_public_test_flags_handout_test_and_check_file",
    "test_edited_solution_region_makes_reference_stale_and_build_fixes_it",
    "test_edited_stub_makes_handout_stale_but_not_reference",
    "test_stray_file_in_handout_is_flagged_and_removed_by_build",
    "test_four_hundred_submissions_are_quick_and_leave_no_pyplot_state",
    "test_no_submissions_and_one_submission",
    "test_one_submission_gets_a_report_only_when_asked",
    "test_report_renders_in_a_headless_browser",
    "test_student_strings_are_escaped_and_lists_catch_timeouts_and_weak_isolation",
    "test_a_grader_crash_still_gives_gradescope_a_result",
    "test_inputs_are_seeded_as_in_a_regrade_of_the_export",
    "test_mistake_gets_the_same_per_test_scores_as_the_grade_command",
    "test_reference_scores_full_marks_and_the_kit_is_hidden",
    "test_refused_namespaces_fall_back_to_the_user_level_with_identical_grades",
    "test_student_code_under_the_user_level_cannot_read_the_reference",
    "test_submission_forms_gradescope_may_hand_over",
    "test_try_runs_setup_and_run_autograder_and_shows_what_the_student_sees",
    "test_untouched_handout_scores_zero_with_exit_code_zero",
    "test_a_failing_notebook_cell_is_reported_and_costs_nothing_by_itself",
    "test_a_function_that_never_returns_is_given_up_after_its_timeouts",
    "test_a_function_that_returned_once_is_always_called_again",
    "test_bad_arguments_exit_2_with_one_line",
    "test_broken_submissions_score_zero_and_the_batch_goes_on",
    "test_contract_faithful_variations_get_full_marks_and_objects_are_named",
    "test_installed_pytest_plugins_do_not_touch_the_grade",
    "test_no_working_sandbox_stops_the_batch_with_one_line",
    "test_resume_skips_finished_submissions",
    "test_student_code_can_import_and_use_scratch_space",
    "test_student_random_draws_follow_the_submission_seed",
    "test_the_sandbox_probe_worker_serves_the_first_submission",
    "test_workers_started_in_the_background_live_until_used",
    "test_reference_passes_every_public_test_in_the_handout",
    "test_untouched_handout_fails_every_public_test_naming_the_function",
    "test_check_agrees_with_grade_on_the_public_tests",
    "test_check_on_the_untouched_handout_names_each_missing_function",
    "test_unreadable_gradescope_metadata_is_a_one_line_usage_error",
    "test_a_regrade_reproduces_and_a_change_draws_new_inputs",
    "test_hard_coding_every_revealed_case_gains_nothing",
    "test_two_fresh_kits_reveal_different_hidden_cases_for_the_same_submission",
    "test_the_capstones_training_follows_the_student_not_the_code",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: grades batches or starts many sandboxed workers; "
                                       "`-m \"not slow\"` leaves these out for a quick loop")
    # The hidden suites' own mark (autograder.suite.check), met when a test imports a suite's checks.
    config.addinivalue_line("markers", "grade: a hidden check's item and weight")


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = getattr(item, "originalname", item.name)
        if name in SLOW_TESTS or SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def public_python():
    """A Python with NumPy that an unprivileged uid can run, as on Gradescope (Python under /usr).

    The kit's own Python may live where other users cannot read (pyenv under a
    0700 /root); the unprivileged-uid level needs one they can.
    """
    system = "/usr/bin/python3"
    if not os.path.exists(system):
        pytest.skip("no /usr/bin/python3 to make a Python other users can run")
    version = subprocess.run([system, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True).stdout
    if version.strip() != str(sys.version_info[:2]):
        pytest.skip(f"/usr/bin/python3 is {version.strip()}, not {sys.version_info[:2]}: cannot reuse this NumPy wheel")
    base = Path(tempfile.mkdtemp(prefix="autograder-public-python-", dir="/tmp"))
    base.chmod(0o755)
    venv = base / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = glob.glob(str(venv / "lib" / "python3*" / "site-packages"))[0]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", site, "numpy"], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-I", "-c", "import numpy"], check=True)
    yield python
    shutil.rmtree(base, ignore_errors=True)
