"""The job key ``after``: ids of jobs that must finish first, checked across the batch's jobs
(an unknown id, the job's own id, an id given twice, a cycle), every problem with its path."""

from __future__ import annotations

from typing import Any

import pytest

from renderplus.batch.recipe import RecipeError, parse_jobs, parse_recipe

from .recipe_samples import errors_of


def recipe(*afters: Any) -> dict[str, Any]:
    return {"version": 2.2, "jobs": [{"blend_file": f"{index}.blend", "after": after}
                                     for index, after in enumerate(afters)]}


def test_a_job_waits_for_the_jobs_it_names_and_writes_them_back() -> None:
    parsed = parse_recipe(recipe([], [0], [0, 1]))
    assert [job.after for job in parsed.jobs] == [[], [0], [0, 1]]
    assert [job["after"] for job in parsed.to_dict()["jobs"]] == [[], [0], [0, 1]]
    assert parse_recipe({"version": 2.2, "jobs": [{"blend_file": "a.blend"}]}).jobs[0].after == []


def test_a_later_job_may_come_first() -> None:
    assert parse_recipe(recipe([1], [])).jobs[0].after == [1]


def test_unknown_self_and_duplicate_ids_are_errors_with_their_paths_all_at_once() -> None:
    errors = errors_of(recipe([], [1], [0, 0, 7]))
    assert errors == {
        "jobs[1].after[0]": "job 1 cannot wait for itself",
        "jobs[2].after[1]": "job 0 is named twice",
        "jobs[2].after[2]": "no job 7 in this batch (its jobs are 0 to 2)",
    }


def test_a_cycle_is_named_from_its_highest_job() -> None:
    errors = errors_of(recipe([2], [], [0]))
    assert errors == {"jobs[2].after": "a cycle 2 → 0 → 2: these jobs would wait for each other "
                                       "forever"}
    longer = errors_of(recipe([1], [2], [3], [0]))
    assert list(longer) == ["jobs[3].after"]
    assert longer["jobs[3].after"].startswith("a cycle 3 → 0 → 1 → 2 → 3:")


def test_two_separate_cycles_are_both_named() -> None:
    errors = errors_of(recipe([1], [0], [3], [2], [0, 1, 2, 3][:2]))
    assert set(errors) == {"jobs[1].after", "jobs[3].after"}


def test_a_long_chain_is_no_cycle_and_no_recursion_limit() -> None:
    count = 5000
    parsed = parse_recipe(recipe([], *([index] for index in range(count - 1))))
    assert parsed.jobs[-1].after == [count - 2]
    errors = errors_of(recipe([count - 1], *([index] for index in range(count - 1))))
    assert list(errors) == [f"jobs[{count - 1}].after"]


@pytest.mark.parametrize(("value", "path", "needle"), [
    ("0", "jobs[1].after", "must be a list of job ids"),
    (0, "jobs[1].after", "must be a list of job ids"),
    (None, "jobs[1].after", "must be a list of job ids"),
    ([True], "jobs[1].after[0]", "must be a job id"),
    ([-1], "jobs[1].after[0]", "must be a job id"),
    (["0"], "jobs[1].after[0]", "must be a job id"),
    ([0.5], "jobs[1].after[0]", "must be a job id"),
])
def test_wrong_types(value: Any, path: str, needle: str) -> None:
    errors = errors_of(recipe([], value))
    assert needle in errors[path]
    assert len(errors) == 1   # a wrong item is not also called unknown


def test_added_jobs_may_name_the_batchs_jobs_and_each_other() -> None:
    existing = parse_recipe(recipe([], [0])).jobs
    added = parse_jobs([{"blend_file": "c.blend", "after": [1, 3]}, {"blend_file": "d.blend"}],
                       first_id=2, existing=existing)
    assert [(job.id, job.after) for job in added] == [(2, [1, 3]), (3, [])]


def test_added_jobs_are_checked_with_paths_in_what_was_added() -> None:
    existing = parse_recipe(recipe([], [0])).jobs
    with pytest.raises(RecipeError) as info:
        parse_jobs([{"blend_file": "c.blend", "after": [3]}, {"blend_file": "d.blend", "after": [2, 3, 9]}],
                   first_id=2, existing=existing)
    errors = {issue.path: issue.message for issue in info.value.errors}
    assert errors == {
        "jobs[1].after[1]": "job 3 cannot wait for itself",
        "jobs[1].after[2]": "no job 9 in this batch (its jobs are 0 to 3)",
        "jobs[1].after": "a cycle 3 → 2 → 3: these jobs would wait for each other forever",
    }
