"""Whole-day hall simulator: the real engine (hallserver.domain) under a workload, with a
simulated clock. `python -m simulators.hallsim --help`."""

from simulators.hallsim.run import Plan, run, run_records, workload_plan
from simulators.hallsim.workload import Arrival, Workload, load_workload, parse_workload

__all__ = ["Arrival", "Plan", "Workload", "load_workload", "parse_workload", "run", "run_records", "workload_plan"]
