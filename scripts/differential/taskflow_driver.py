#!/usr/bin/python3
"""Runs differential-test specs through Python TaskFlow's serial engine and records outcomes.

Usage: /usr/bin/python3 taskflow_driver.py SPECS.json OUTCOMES.json

SPECS.json is a JSON array of case specs (see test/differential/spec.ts). For each case the
flow is built with TaskFlow's own patterns and retries and run twice: with TaskFlow's default
(defer_reverts=False, recorded as "subflow") and with defer_reverts=True ("enclosing"). TaskFlow
is used as a black box: only its public API is called, and what is recorded is what the tasks
saw (calls, inputs), what the retries were asked to decide, the final states from storage, and
what run() raised.
"""

import json
import logging
import signal
import sys

import taskflow
import taskflow.engines
from taskflow import exceptions, retry, task
from taskflow.patterns import graph_flow, linear_flow, unordered_flow

try:
    from importlib.metadata import version as _dist_version

    TASKFLOW_VERSION = _dist_version("taskflow")
except Exception:  # pragma: no cover - metadata missing
    TASKFLOW_VERSION = getattr(taskflow, "__version__", "unknown")

RUN_TIMEOUT_SECONDS = 10


class Recorder:
    """What the atoms of one run observed."""

    def __init__(self):
        self.calls = []
        self.decisions = []
        self.counts = {}

    def count(self, name, phase):
        key = (name, phase)
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]


REC = Recorder()


def fails(on, n):
    return on == "always" or n in on


def failure_message(name, phase, n):
    return "%s failed on %s #%d" % (name, phase, n)


def task_result(name, inputs):
    return "%s(%s)" % (name, ",".join("%s=%s" % (k, inputs[k]) for k in sorted(inputs)))


def history_entries(history):
    return [[provided, sorted(failures.keys())] for (provided, failures) in history]


class Probe(task.Task):
    def __init__(self, spec):
        super().__init__(
            name=spec["name"], provides=spec.get("provides"), requires=list(spec["requires"])
        )
        self.priority = spec["priority"]
        self._spec = spec

    def execute(self, *args, **kwargs):
        name = self._spec["name"]
        REC.calls.append("execute " + name)
        n = REC.count(name, "execute")
        if fails(self._spec["failOn"], n):
            raise RuntimeError(failure_message(name, "execute", n))
        return task_result(name, {k: kwargs[k] for k in self._spec["requires"]})

    def revert(self, *args, **kwargs):
        name = self._spec["name"]
        REC.calls.append("revert " + name)
        n = REC.count(name, "revert")
        if fails(self._spec["revertFailOn"], n):
            raise RuntimeError(failure_message(name, "revert", n))
        return None


class _Logged:
    """Mixed into TaskFlow's retries: logs calls and decisions, then defers to TaskFlow."""

    def _log_call(self, phase):
        REC.calls.append("%s %s" % (phase, self.name))

    def _log_decision(self, history, decision):
        REC.decisions.append(
            {
                "retry": self.name,
                "decision": getattr(decision, "value", str(decision)),
                "history": history_entries(history),
            }
        )
        return decision


class LoggedTimes(_Logged, retry.Times):
    def execute(self, history, *args, **kwargs):
        self._log_call("execute")
        return super().execute(history, *args, **kwargs)

    def revert(self, history, *args, **kwargs):
        self._log_call("revert")

    def on_failure(self, history, *args, **kwargs):
        return self._log_decision(history, super().on_failure(history, *args, **kwargs))


class LoggedForEach(_Logged, retry.ForEach):
    def execute(self, history, *args, **kwargs):
        self._log_call("execute")
        return super().execute(history, *args, **kwargs)

    def revert(self, history, *args, **kwargs):
        self._log_call("revert")

    def on_failure(self, history, *args, **kwargs):
        return self._log_decision(history, super().on_failure(history, *args, **kwargs))


class LoggedParameterizedForEach(_Logged, retry.ParameterizedForEach):
    def execute(self, values, history, *args, **kwargs):
        self._log_call("execute")
        return super().execute(values, history, *args, **kwargs)

    def revert(self, history, *args, **kwargs):
        self._log_call("revert")

    def on_failure(self, values, history, *args, **kwargs):
        return self._log_decision(history, super().on_failure(values, history, *args, **kwargs))


class LoggedAlwaysRevert(_Logged, retry.AlwaysRevert):
    def execute(self, history, *args, **kwargs):
        self._log_call("execute")
        return super().execute(history=history, *args, **kwargs)

    def revert(self, history, *args, **kwargs):
        self._log_call("revert")

    def on_failure(self, history, *args, **kwargs):
        return self._log_decision(history, super().on_failure(history=history, **kwargs))


class LoggedAlwaysRevertAll(_Logged, retry.AlwaysRevertAll):
    def execute(self, history, *args, **kwargs):
        self._log_call("execute")
        return super().execute(history=history, **kwargs)

    def revert(self, history, *args, **kwargs):
        self._log_call("revert")

    def on_failure(self, history, *args, **kwargs):
        return self._log_decision(history, super().on_failure(history=history, **kwargs))


def build_retry(spec):
    kind = spec["type"]
    common = {"name": spec["name"], "provides": spec.get("provides")}
    revert_all = bool(spec.get("revertAll"))
    if kind == "times":
        r = LoggedTimes(attempts=spec["attempts"], revert_all=revert_all, **common)
    elif kind == "foreach":
        r = LoggedForEach(values=list(spec["values"]), revert_all=revert_all, **common)
    elif kind == "pforeach":
        r = LoggedParameterizedForEach(
            rebind={"values": spec["valuesSymbol"]}, revert_all=revert_all, **common
        )
    elif kind == "always-revert":
        r = LoggedAlwaysRevert(**common)
    elif kind == "always-revert-all":
        r = LoggedAlwaysRevertAll(**common)
    else:
        raise ValueError("unknown retry type %r" % kind)
    r.priority = spec["priority"]
    return r


PATTERNS = {
    "linear": linear_flow.Flow,
    "unordered": unordered_flow.Flow,
    "graph": graph_flow.Flow,
}


def build_flow(spec):
    retry_spec = spec.get("retry")
    flow = PATTERNS[spec["type"]](
        spec["name"], retry=build_retry(retry_spec) if retry_spec else None
    )
    children = {}
    for child in spec["children"]:
        node = build_flow(child) if child["kind"] == "flow" else Probe(child)
        children[child["name"]] = node
        flow.add(node)
    for source, target in spec.get("links") or []:
        flow.link(children[source], children[target])
    return flow


def atom_names(spec):
    names = []
    if spec.get("retry"):
        names.append((spec["retry"]["name"], True))
    for child in spec["children"]:
        if child["kind"] == "flow":
            names.extend(atom_names(child))
        else:
            names.append((child["name"], False))
    return names


class RunTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise RunTimeout("run did not finish in %d s" % RUN_TIMEOUT_SECONDS)


def describe_raised(error):
    if isinstance(error, exceptions.WrappedFailure):
        return {"wrapped": True, "messages": sorted(f.exception_str for f in error)}
    return {"wrapped": False, "messages": [str(error)]}


def json_value(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)


def run_case(case, defer_reverts):
    global REC
    REC = Recorder()
    flow = build_flow(case["flow"])
    engine = taskflow.engines.load(
        flow, store=dict(case["store"]), engine="serial", defer_reverts=defer_reverts
    )
    raised = None
    error = None
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(RUN_TIMEOUT_SECONDS)
    try:
        engine.run()
    except RunTimeout as e:
        error = str(e)
    except Exception as e:  # what run() raised is part of the outcome
        raised = describe_raised(e)
    finally:
        signal.alarm(0)
    storage = engine.storage
    atoms, results, histories = {}, {}, {}
    for name, is_retry in atom_names(case["flow"]):
        state = storage.get_atom_state(name)
        atoms[name] = state
        history = storage.get_retry_history(name) if is_retry else None
        if is_retry:
            histories[name] = history_entries(history)
        if state == "SUCCESS":
            # A retry's stored result is its history; what it provided is the last value tried.
            result = (
                list(history.provided_iter())[-1]
                if is_retry and len(history)
                else None
                if is_retry
                else storage.get_execute_result(name)
            )
            results[name] = json_value(result)
    outcome = {
        "calls": REC.calls,
        "decisions": REC.decisions,
        "flowState": storage.get_flow_state(),
        "atoms": atoms,
        "results": results,
        "histories": histories,
        "raised": raised,
    }
    if error is not None:
        outcome["error"] = error
    return outcome


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    logging.disable(logging.CRITICAL)
    with open(argv[1]) as f:
        cases = json.load(f)
    outcomes = []
    for case in cases:
        outcomes.append(
            {
                "id": case["id"],
                "subflow": run_case(case, defer_reverts=False),
                "enclosing": run_case(case, defer_reverts=True),
            }
        )
    with open(argv[2], "w") as f:
        json.dump({"taskflowVersion": TASKFLOW_VERSION, "outcomes": outcomes}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
