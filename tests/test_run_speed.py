"""How `evalkit run` runs its notebooks: default parallelism, quiet kernels."""

from __future__ import annotations

from evalkit.run import execute, plan


def test_default_jobs_runs_a_councils_notebooks_together_within_cores_plus_one():
    council = 10 * 2**20
    assert plan.default_jobs(3, 2, council) == 3
    assert plan.default_jobs(6, 2, council) == 3
    assert plan.default_jobs(2, 8, council) == 2
    assert plan.default_jobs(3, None, council) == 2


def test_default_jobs_keeps_large_data_within_the_memory_budget():
    national = 900 * 2**20
    jobs = plan.default_jobs(3, 8, national)
    assert jobs == 1
    assert plan.KERNEL_BASE + jobs * (plan.KERNEL_BASE + plan.TABLE_FACTOR * national) \
        <= plan.MEMORY_BUDGET
    assert plan.default_jobs(3, 8, 10 * 2**30) == 1  # never fewer than one


def test_ipykernel_kernels_are_quieted_and_unknown_kernels_left_alone():
    assert execute.kernel_options("python3") == execute.QUIET_KERNEL
    assert execute.kernel_options("no-such-kernel-xyz") == []


def test_kernels_use_one_thread_each_when_the_notebooks_fill_the_cores():
    assert plan.thread_limits(3, 2, {}) == dict.fromkeys(plan.ONE_THREAD, "1")
    assert plan.thread_limits(2, 2, {}) == dict.fromkeys(plan.ONE_THREAD, "1")
    assert plan.thread_limits(1, 2, {}) == {}  # a core left for the libraries' threads
    assert plan.thread_limits(3, None, {}) == dict.fromkeys(plan.ONE_THREAD, "1")
    mine = plan.thread_limits(3, 2, {"OMP_NUM_THREADS": "4"})
    assert "OMP_NUM_THREADS" not in mine and mine["OPENBLAS_NUM_THREADS"] == "1"  # user's kept
