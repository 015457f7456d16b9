#!/usr/bin/python3
"""Python TaskFlow baseline for bench/core.bench.ts: a linear flow of N no-op tasks.

Runs OpenStack TaskFlow (the Debian package python3-taskflow, so use /usr/bin/python3) with the
serial engine, in memory, no listeners, and prints one JSON line per N in the same shape as
`npm run bench`:
{"system": "python-taskflow", "workload", "n", "wall_ms", "per_item_us", "peak_rss_mb"}.

    /usr/bin/python3 bench/taskflow_linear.py              # N = 100, 300, 1000, 5 runs each
    /usr/bin/python3 bench/taskflow_linear.py 3000 --runs 1
    /usr/bin/python3 bench/taskflow_linear.py 1000 --runs 5

Each N runs in its own child process so the peak RSS reported is that N's own. "run" times
`engine.run()` only; the engine is loaded and compiled (`engine.compile()`, `engine.prepare()`)
before the clock starts, as in the TypeScript benchmark.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

# (N, runs). The cost per task grows with N, so 3000 (minutes per run) is left to the command line.
DEFAULT_PLAN = ((100, 5), (300, 5), (1000, 5))


def make_flow(n):
    from taskflow import task
    from taskflow.patterns import linear_flow

    class NoopTask(task.Task):
        def execute(self):
            return None

    return linear_flow.Flow("linear").add(*[NoopTask(name="t%d" % i) for i in range(n)])


def time_one_run(n):
    import taskflow.engines

    engine = taskflow.engines.load(make_flow(n), engine="serial")
    engine.compile()
    engine.prepare()
    started = time.perf_counter()
    engine.run()
    elapsed = time.perf_counter() - started
    state = engine.storage.get_flow_state()
    if state != "SUCCESS":
        raise RuntimeError("flow ended %s; a benchmark run must succeed" % state)
    return elapsed * 1000.0


def measure(n, runs):
    times = [time_one_run(n) for _ in range(runs)]
    wall = statistics.median(times)
    # ru_maxrss is in KiB on Linux.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    result = {
        "system": "python-taskflow",
        "workload": "linear-noop/run(serial)",
        "n": n,
        "wall_ms": round(wall, 3),
        "per_item_us": round(wall * 1000.0 / n, 3),
        "peak_rss_mb": round(peak_mb, 1),
    }
    print(json.dumps(result), flush=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, help="numbers of tasks (default: 100 300 1000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per given size; the median is printed")
    parser.add_argument("--in-process", action="store_true", help="measure here instead of in a child")
    args = parser.parse_args(argv)
    plan = [(n, args.runs) for n in args.sizes] if args.sizes else list(DEFAULT_PLAN)
    if args.in_process:
        for n, runs in plan:
            measure(n, runs)
        return 0
    failed = 0
    for n, runs in plan:
        command = [sys.executable, __file__, str(n), "--runs", str(runs), "--in-process"]
        failed |= subprocess.call(command)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
