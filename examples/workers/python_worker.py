#!/usr/bin/env python3
"""A task worker for the taskflow-ts workflow service, in Python with its standard library only.

It claims the `worker` tasks of flow documents over the service's HTTP API, does them, and
reports the result (or the error). Run it beside `taskflow serve`:

    TASKFLOW_URL=http://127.0.0.1:8080 TASKFLOW_TOKEN=tfs_... python3 examples/workers/python_worker.py

Environment: TASKFLOW_URL, TASKFLOW_TOKEN, TASKFLOW_WORKER (its name), TASKFLOW_MAX_TASKS
(stop after that many tasks; default: run until SIGTERM or Ctrl-C).
"""

import json
import os
import signal
import sys
import urllib.error
import urllib.request

URL = os.environ.get("TASKFLOW_URL", "http://127.0.0.1:8080").rstrip("/")
TOKEN = os.environ.get("TASKFLOW_TOKEN")
WORKER = os.environ.get("TASKFLOW_WORKER", f"python-{os.getpid()}")
MAX_TASKS = int(os.environ.get("TASKFLOW_MAX_TASKS", "0"))


def upper(task):
    """text.upper: the input "text" in capitals; its revert has nothing to undo."""
    if task["kind"] == "revert":
        return None
    return task["inputs"]["text"].upper()


def count(task):
    """text.count: how many characters the input "text" has."""
    if task["kind"] == "revert":
        return None
    return len(task["inputs"]["text"])


HANDLERS = {"text.upper": upper, "text.count": count}


def call(path, body):
    """POSTs JSON to the service; returns (status, parsed body or None)."""
    request = urllib.request.Request(
        URL + path,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    if TOKEN:
        request.add_header("Authorization", "Bearer " + TOKEN)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode("utf-8")
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8")
        return error.code, json.loads(text) if text else None


def main():
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    done = 0
    while not stopping and (MAX_TASKS == 0 or done < MAX_TASKS):
        status, task = call(
            "/v1/tasks/claim",
            {"types": list(HANDLERS), "worker": WORKER, "waitMs": 1000, "leaseMs": 30000},
        )
        if status == 204:
            continue
        if status != 200:
            print(f"claim refused: {status} {task}", file=sys.stderr)
            return 1
        ending = "/v1/tasks/" + task["id"]
        try:
            result = HANDLERS[task["type"]](task)
        except Exception as error:  # the task failed: report it as the atom's failure
            call(ending + "/fail", {
                "token": task["token"],
                "error": {"type": type(error).__name__, "message": str(error)},
            })
        else:
            status, answer = call(ending + "/complete", {"token": task["token"], "result": result})
            if status == 409:
                # The lease ran out and another worker holds the task now: it reports it.
                print(f"lease lost on {task['id']}: {answer['detail']}", file=sys.stderr)
        done += 1
        print(f"{task['kind']} {task['type']} {task['atom']} attempt {task['attempt']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
