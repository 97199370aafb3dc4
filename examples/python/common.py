"""What primes.py and fetch.py share: the five ways to run work
concurrently in CPython, each splitting a fixed list of jobs over N workers
(strong scaling), and writing each job's latency to COREBENCH_OPS_FILE.

The models are the books' (*Learning Concurrency in Python*, *Mastering
Concurrency in Python*): threads, processes, a thread pool, a process pool
(concurrent.futures), and asyncio. Standard library only.
"""

import argparse
import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

MODELS = ["threads", "processes", "thread-pool", "process-pool", "asyncio"]


def timed(job, item):
    """Runs job(item); returns (its result, its latency in ns)."""
    start = time.perf_counter_ns()
    result = job(item)
    return result, time.perf_counter_ns() - start


def _share(job, items, out):
    out.extend(timed(job, item) for item in items)


def _process_share(job, items, queue):
    queue.put([timed(job, item) for item in items])


def _context():
    # fork starts workers fastest where it exists; spawn elsewhere.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run(model, workers, job, items, async_job=None):
    """Runs job over items with `workers` workers of `model`; returns a
    list of (result, latency_ns), one per item."""
    if model == "threads":
        shares = [[] for _ in range(workers)]
        threads = [
            threading.Thread(target=_share, args=(job, items[w::workers], shares[w]))
            for w in range(workers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [r for share in shares for r in share]
    if model == "processes":
        context = _context()
        queue = context.Queue()
        processes = [
            context.Process(target=_process_share, args=(job, items[w::workers], queue))
            for w in range(workers)
        ]
        for p in processes:
            p.start()
        results = [r for _ in processes for r in queue.get()]
        for p in processes:
            p.join()
            if p.exitcode != 0:
                raise SystemExit(f"a worker process exited with {p.exitcode}")
        return results
    if model == "thread-pool":
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(timed, [job] * len(items), items))
    if model == "process-pool":
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            return list(pool.map(timed, [job] * len(items), items))
    if model == "asyncio":
        return asyncio.run(_run_asyncio(workers, job, async_job, items))
    raise SystemExit(f"unknown model {model!r}; valid: {', '.join(MODELS)}")


async def _run_asyncio(workers, job, async_job, items):
    results = []

    async def worker(share):
        for item in share:
            start = time.perf_counter_ns()
            if async_job is not None:
                result = await async_job(item)
            else:
                # CPU work has nothing to await: the tasks take turns on
                # one thread, which is the point.
                result = job(item)
                await asyncio.sleep(0)
            results.append((result, time.perf_counter_ns() - start))

    await asyncio.gather(*(worker(items[w::workers]) for w in range(workers)))
    return results


def arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("COREBENCH_WORKERS", "1"))
    )
    return parser


def write_latencies(results):
    """One latency in ns per line to COREBENCH_OPS_FILE, if corebench set it."""
    path = os.environ.get("COREBENCH_OPS_FILE")
    if path:
        with open(path, "w") as f:
            f.writelines(f"{ns}\n" for _, ns in results)
