"""Province benchmarks, side by side in one run, against `python -m hallserver` as its own process
and a private Mosquitto:

    .venv/bin/python bench/province/run.py [--halls 130 --counters 40 --db sqlite --day-seconds 120]

1. raw Mosquitto QoS 1 round trip (publish -> delivery to another client), idle and under load;
2. `call.next` -> LED display `state` through the server, idle, under the province day's load and
   under the peak (x20);
3. the morning login storm (every officer logs in; each PIN check is PBKDF2, 60,000 rounds);
4. a province day (open loop, `--speed` compresses time): server CPU and RSS sampled from /proc;
5. sustained durable operations per second (acknowledged ticket.take / call.next / serve.done,
   closed loop with `--lanes` outstanding) on each database of `--ops-dbs`, each on a fresh
   server and database (`--profile`: py-spy samples the server meanwhile).

When the server has no province runtime yet (no hallserver/province.py), it serves the
provincial hall alone and the figures say so. Prints the figures and this command; `--results
FILE.md` also writes them as a markdown table (and FILE.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import paho.mqtt.client as mqtt  # noqa: E402

from bench.province.fleet import Driver, Fleet, quantiles  # noqa: E402
from bench.province.generate import HallSpec, generate, load_province  # noqa: E402
from bench.province.procs import (  # noqa: E402
    REPO,
    HallServer,
    PostgresDatabase,
    Sampler,
    cpu_seconds,
    loadavg,
    mosquitto_pid,
    quiet_mosquitto,
    revision,
    sched_seconds,
    sqlite_url,
    temp_dir,
)
from bench.province.profile import top_functions  # noqa: E402
from bench.province.workload import Lanes, Probe, ProvinceDay, login_all  # noqa: E402
from broker.client import MqttUrl, paho_client  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def ms(xs: list[float]) -> dict:
    p50, p90, p99 = quantiles(xs, 0.5, 0.9, 0.99)
    return {"n": len(xs), "p50_ms": round(p50 * 1000, 2), "p90_ms": round(p90 * 1000, 2),
            "p99_ms": round(p99 * 1000, 2), "max_ms": round(max(xs) * 1000, 2) if xs else None}


# -- raw broker round trip ---------------------------------------------------------------------
class RawRoundTrip:
    """QoS 1 publish by one client -> delivery to another, sequential, on the bench's broker."""

    def __init__(self, url: str):
        u = MqttUrl.parse(url)
        self.topic = f"bench/rtt/{secrets.token_hex(4)}"
        self._got = threading.Event()
        self._at = 0.0
        self.sub = paho_client(u, f"rtt-sub-{secrets.token_hex(3)}", "bench", clean_session=True)
        self.pub = paho_client(u, f"rtt-pub-{secrets.token_hex(3)}", "bench", clean_session=True)
        ready = threading.Event()
        self.sub.on_message = self._on_message
        self.sub.on_connect = lambda c, *a: c.subscribe(self.topic, 1)
        self.sub.on_subscribe = lambda *a: ready.set()
        connected = threading.Event()
        self.pub.on_connect = lambda *a: connected.set()
        for c in (self.sub, self.pub):
            c.connect_async(u.host, u.port, 30)
            c.loop_start()
        if not (ready.wait(10) and connected.wait(10)):
            raise TimeoutError("raw round trip: broker not reachable")
        self._stop = threading.Event()
        self.samples: list[float] = []

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        self._at = time.perf_counter()
        self._got.set()

    def run(self, count: int, interval: float = 0.0) -> list[float]:
        samples = []
        for i in range(count):
            if self._stop.is_set():
                break
            self._got.clear()
            start = time.perf_counter()
            self.pub.publish(self.topic, f"{i}".encode(), qos=1)
            if self._got.wait(5):
                samples.append(self._at - start)
            if interval:
                self._stop.wait(interval)
        self.samples += samples
        return samples

    def background(self, interval: float) -> threading.Thread:
        self._stop.clear()
        t = threading.Thread(target=self.run, args=(10**9, interval), daemon=True, name="raw-rtt")
        t.start()
        return t

    def close(self) -> None:
        self._stop.set()
        for c in (self.sub, self.pub):
            c.disconnect()
            c.loop_stop()


# -- one server run ------------------------------------------------------------------------------
class Cpu:
    """CPU seconds of the server, the broker and this process between two points."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.t0 = time.perf_counter()
        self.c0 = self._now()
        self.s0 = self._sched()

    def _sched(self) -> dict[int, tuple[float, float]]:
        try:
            return sched_seconds(self.pids["server"])
        except OSError:
            return {}

    def _now(self) -> dict[str, float]:
        out = {}
        for name, pid in self.pids.items():
            try:
                out[name] = cpu_seconds(pid)
            except OSError:
                out[name] = 0.0
        return out

    def pct(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        now = self._now()
        out = {f"{k}_cpu_pct": round(100 * (now[k] - self.c0[k]) / wall, 1) for k in self.pids}
        sched = self._sched()
        if sched and self.s0:
            delta = {tid: (c - self.s0.get(tid, (0, 0))[0], w - self.s0.get(tid, (0, 0))[1])
                     for tid, (c, w) in sched.items()}
            busiest = max(delta.values())  # under load, the MQTT worker: on a CPU / waiting for one
            out["busiest_thread_cpu_pct"] = round(100 * busiest[0] / wall, 1)
            out["busiest_thread_runq_pct"] = round(100 * busiest[1] / wall, 1)
            out["server_runq_pct"] = round(100 * sum(w for _, w in delta.values()) / wall, 1)
        return out


def drain(driver: Driver, halls: list[HallSpec], timeout: float = 600.0) -> float:
    """End a phase: forget its scheduled actions, wait for its outstanding replies, then send a
    `state.get` per hall and wait for every answer. The server applies a hall's messages in order,
    so once they are all answered nothing of the phase (requests given up as lost included) is
    still queued in the broker or the server. Returns the seconds it took."""
    began = time.perf_counter()
    driver.cancel_timers()
    driver.run(driver.timeout, until_idle=True)
    for h in halls:
        driver.request(h.id, h.dispensers[0], "state.get", None, lambda r: None)
    end = time.perf_counter() + timeout
    while driver.pending and time.perf_counter() < end:
        driver.run(min(5.0, end - time.perf_counter()), until_idle=True)
    return round(time.perf_counter() - began, 1)


def phase_load(driver: Driver, seconds: float, before: dict) -> dict:
    """Replies per second of the phase, per type."""
    return {t: round((n - before.get(t, 0)) / seconds, 1) for t, n in driver.stats.ok.items()}


def server_run(args, label: str, province: Path, halls: list[HallSpec], broker, workdir: Path,
               db_url: str, full: bool) -> dict:
    """Start a server on `db_url`, log everybody in, then (full) idle probes, the day and the
    peak, and in every case the closed-loop throughput. Returns the figures."""
    out: dict = {"db": label}
    server = HallServer(province, broker.url, db_url, workdir / f"server-{label}.log", args.server_tree).start()
    out["server_start_s"] = round(server.started_s, 2)
    pids = {"server": server.pid, "broker": mosquitto_pid(broker) or server.pid, "bench": os.getpid()}
    fleet = Fleet(broker.url, [h.id for h in halls], args.connections).start()
    driver = Driver(fleet, timeout=args.timeout)
    probes: list[Probe] = []
    try:
        cpu = Cpu(pids)
        began = time.perf_counter()
        opened = login_all(driver, halls, window=args.login_window)
        out["login_storm"] = {"logins": opened, "seconds": round(time.perf_counter() - began, 2), **cpu.pct()}
        print(f"[{label}] login storm: {out['login_storm']}", flush=True)
        probe_halls = [halls[0]] + ([halls[-1]] if len(halls) > 1 else [])
        skip = frozenset((h.id, 1) for h in probe_halls[: args.probes])
        probes = [Probe(broker.url, h, 1).start() for h in probe_halls[: args.probes]]
        if full:
            for p in probes:
                p.run(args.probe_samples // len(probes), interval=0.05)
            out["probe_idle"] = ms([x for p in probes for x in p.samples])
            print(f"[{label}] call.next -> LED state, idle: {out['probe_idle']}", flush=True)
            out["day"] = run_day(args, driver, halls, probes, broker, server, skip, pids, rate=1.0,
                                 seconds=args.day_seconds, name="day")
            out["peak"] = run_day(args, driver, halls, probes, broker, server, skip, pids, rate=args.peak,
                                  seconds=args.peak_seconds, name="peak")
        out["ops"] = run_lanes(args, driver, halls, server, skip, pids, workdir, label)
        out["lost"] = dict(driver.stats.lost)
        out["refused"] = {f"{t}:{c}": n for (t, c), n in sorted(driver.stats.refused.items())}
        out["server_errors"] = server.output().count("Traceback")
    finally:
        for p in probes:
            p.close()
        fleet.close()
        server.stop()
    return out


def run_day(args, driver: Driver, halls, probes: list[Probe], broker, server, skip, pids, *, rate: float,
            seconds: float, name: str) -> dict:
    for p in probes:
        p.samples.clear()
        p.run_background(args.probe_interval)
    raw = RawRoundTrip(broker.url)
    raw.background(args.probe_interval)
    sampler = Sampler(server.pid, every=args.sample_every).start()
    cpu = Cpu(pids)
    before = dict(driver.stats.ok)
    day = ProvinceDay(driver, halls, speed=args.speed, rate=rate, serve_min=args.serve_min, skip=skip,
                      warm=(name == "day"))
    day.start()
    driver.run(seconds)
    day.stop()
    load = phase_load(driver, seconds, before)
    usage = cpu.pct()
    for p in probes:
        p.stop()
    raw.close()
    lost_before = sum(driver.stats.lost.values())
    drained = drain(driver, halls)
    out = {"seconds": seconds, "speed": args.speed, "rate": rate, "ok_per_s": load,
           "lost": sum(driver.stats.lost.values()) - lost_before, "drain_s": drained,
           "ok_per_s_total": round(sum(load.values()), 1), "served": day.served,
           "probe": ms([x for p in probes for x in p.samples]), "probe_failures": sum(p.failures for p in probes),
           "raw": ms(raw.samples), "server": sampler.stop() and sampler.summary(), **usage, "loadavg": loadavg()}
    print(f"[{name}] {json.dumps(out, ensure_ascii=False)}", flush=True)
    return out


def run_lanes(args, driver: Driver, halls, server, skip, pids, workdir: Path, label: str) -> dict:
    lanes = Lanes(driver, halls, args.lanes, skip=skip)
    before = {t: len(v) for t, v in driver.stats.latency.items()}
    refused_before = sum(n for (t, _), n in driver.stats.refused.items()
                         if t in ("ticket.take", "call.next", "serve.done"))
    lanes.start()
    driver.run(args.warmup)
    cpu = Cpu(pids)
    start = time.perf_counter()
    spy = None
    if args.profile:
        spy_out = workdir / f"profile-{label}.txt"
        cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.pid), "--duration",
               str(int(args.ops_seconds)), "--format", "raw", "--rate", "100", "--nonblocking"]
        wall = spy_out.with_name(f"{spy_out.stem}-wall.txt")
        spy = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for c in (cmd + ["--output", str(spy_out)], cmd + ["--idle", "--threads", "--output", str(wall)])]
    driver.run(args.ops_seconds)
    end = time.perf_counter()
    usage = cpu.pct()
    lanes.stop()
    drain(driver, halls)
    ok = driver.stats.ok_between(start, end)
    lat = {t: ms(v[before.get(t, 0):]) for t, v in driver.stats.latency.items()
           if t in ("ticket.take", "call.next", "serve.done")}
    refused = sum(n for (t, _), n in driver.stats.refused.items() if t in ("ticket.take", "call.next", "serve.done"))
    out = {"lanes": len(lanes.lanes), "seconds": round(end - start, 1), "ok": ok,
           "refused_in_run": refused - refused_before,
           "ops_per_s": round(ok / (end - start), 1), "latency": lat, **usage, "loadavg": loadavg()}
    if spy is not None:
        for proc in spy:
            proc.wait(args.ops_seconds + 30)
        out["profile"] = top_functions(workdir / f"profile-{label}.txt", 15)
        out["worker_wall"] = top_functions(workdir / f"profile-{label}-wall.txt", 15, thread="mqtt-loop")
        if args.results:
            for name in (f"profile-{label}.txt", f"profile-{label}-wall.txt"):
                shutil.copy(workdir / name, Path(args.results).with_name(name))
    refused = {f"{t}:{c}": n for (t, c), n in driver.stats.refused.items()}
    shown = {k: v for k, v in out.items() if k not in ("profile", "worker_wall")}
    print(f"[{label}] durable ops: {json.dumps(shown)}; "
          f"refused so far {refused}", flush=True)
    return out


# -- report --------------------------------------------------------------------------------------
def markdown(r: dict) -> str:
    def f(d: dict | None) -> str:
        return f"{d['p50_ms']:.1f} / {d['p99_ms']:.1f} ms (n={d['n']})" if d and d.get("n") else "—"

    lines = [f"Province benchmark, {r['when']} on {r['machine']}; load average before/after: "
             f"{r['loadavg_before']} / {r['loadavg_after']}.", "",
             f"    {r['command']}", "",
             f"Server: {r['served']}, at {r['revision']} ({r['server_tree']}). "
             f"Broker: private Mosquitto {r['broker']}, max_inflight_messages {r['broker_inflight']}.", "",
             "| benchmark | figure | target |", "|---|---|---|",
             f"| raw Mosquitto QoS 1 round trip, idle (p50 / p99) | {f(r.get('raw_idle'))} | — |"]
    main = r["runs"][0]
    if "day" in main:
        day, peak = main["day"], main["peak"]
        lines += [
            f"| raw Mosquitto QoS 1 round trip, under the day's load | {f(day['raw'])} | — |",
            f"| call.next → LED state, idle ({main['db']}) | {f(main['probe_idle'])} | — |",
            f"| call.next → LED state, province day ({day['ok_per_s_total']} replies/s) | {f(day['probe'])} "
            f"| p99 ≤ 50 ms and a small multiple of raw |",
            f"| call.next → LED state, peak ×{peak['rate']:g} ({peak['ok_per_s_total']} replies/s; "
            f"{peak.get('lost', 0)} requests unanswered within {r['timeout']:g} s, backlog drained in "
            f"{peak.get('drain_s')} s) | {f(peak['probe'])}, {peak['probe_failures']} probes failed | — |",
        ]
    for run in r["runs"]:
        ops = run["ops"]
        lines.append(f"| durable ops/s, {run['db']} ({ops['lanes']} outstanding; take/call/done) | "
                     f"**{ops['ops_per_s']:.0f}/s** (server CPU {ops['server_cpu_pct']}%) | ≥ 1000/s on 2 cores |")
    lines += [f"| login storm ({main['db']}): {main['login_storm']['logins']} officers | "
              f"{main['login_storm']['seconds']} s (server CPU {main['login_storm']['server_cpu_pct']}%) | — |",
              f"| server start ({main['db']}) | {main['server_start_s']} s | — |"]
    if "day" in main:
        s = main["day"]["server"]
        lines.append(f"| server over the day ({main['day']['seconds']} s, speed {main['day']['speed']:g}) | "
                     f"CPU {s.get('cpu_pct')}% of a core; RSS {s.get('rss_start_mib')} → {s.get('rss_end_mib')} MiB "
                     f"(max {s.get('rss_max_mib')}, drift {s.get('rss_drift_mib')}, "
                     f"last half {s.get('rss_late_drift_mib')}) | flat memory |")
        lines += ["", "Replies per second by type: day " + json.dumps(main["day"]["ok_per_s"]) + "; peak "
                  + json.dumps(main["peak"]["ok_per_s"]) + ".",
                  f"CPU during the day (percent of one core): server {main['day']['server_cpu_pct']}, "
                  f"broker {main['day']['broker_cpu_pct']}, load generator {main['day']['bench_cpu_pct']}."]
    for run in r["runs"]:
        lines.append(f"Durable ops on {run['db']}: op latency {json.dumps(run['ops']['latency'])}; CPU server "
                     f"{run['ops']['server_cpu_pct']}%, broker {run['ops']['broker_cpu_pct']}%, "
                     f"load generator {run['ops']['bench_cpu_pct']}%; lost {run['lost']}; server tracebacks "
                     f"{run['server_errors']}.")
    for run in r["runs"]:
        if run["ops"].get("profile"):
            lines += ["", f"Profile of the server under the durable-ops load ({run['db']}, py-spy, "
                      "share of samples by function, self / including callees):", "",
                      "| function | self | total |", "|---|---:|---:|"]
            lines += [f"| `{p['function']}` | {p['self_pct']}% | {p['total_pct']}% |" for p in run["ops"]["profile"]]
            lines += ["", f"Where the server's MQTT worker thread spends its wall time ({run['db']}, py-spy --idle, "
                      "innermost frame):", "", "| function | self | total |", "|---|---:|---:|"]
            lines += [f"| `{p['function']}` | {p['self_pct']}% | {p['total_pct']}% |"
                      for p in run["ops"].get("worker_wall", [])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    # a kill (SIGTERM) unwinds like Ctrl-C: the server and the broker are stopped, not left running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--halls", type=int, default=130)
    p.add_argument("--counters", type=int, default=40)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite", help="database of the latency runs")
    p.add_argument("--ops-dbs", default="sqlite,postgresql", help="databases of the durable-ops runs")
    p.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server (a fresh database is created per run)")
    p.add_argument("--day-seconds", type=float, default=120, help="length of the province day phase (real s)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second in the day")
    p.add_argument("--serve-min", type=float, default=4.0, help="a citizen per counter every this many minutes")
    p.add_argument("--peak", type=float, default=20.0, help="peak multiplier of the arrival and service rates")
    p.add_argument("--peak-seconds", type=float, default=30)
    p.add_argument("--ops-seconds", type=float, default=20)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--lanes", type=int, default=256, help="outstanding requests of the durable-ops loop")
    p.add_argument("--connections", type=int, default=4, help="MQTT connections carrying the simulated devices")
    p.add_argument("--raw-samples", type=int, default=1000)
    p.add_argument("--probes", type=int, default=2, help="counters measured (counter 1 of the first/last hall)")
    p.add_argument("--probe-samples", type=int, default=200, help="idle samples")
    p.add_argument("--probe-interval", type=float, default=0.25, help="seconds between samples under load")
    p.add_argument("--sample-every", type=float, default=1.0, help="server CPU/RSS sampling period")
    p.add_argument("--login-window", type=int, default=64)
    p.add_argument("--timeout", type=float, default=30.0, help="a request without reply after this is lost")
    p.add_argument("--broker-inflight", type=int, help="Mosquitto max_inflight_messages (default 20, as in "
                   "production): unacknowledged QoS 1 messages per client, which bounds a group commit")
    p.add_argument("--no-latency", action="store_true", help="durable ops only (no probes, day or peak)")
    p.add_argument("--server-tree", type=Path, default=REPO,
                   help="run the server of another checkout (e.g. a git worktree of an older commit)")
    p.add_argument("--profile", action="store_true", help="py-spy the server during the durable-ops runs")
    p.add_argument("--results", help="also write the figures to this markdown file (and .json beside it)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, province, databases)")
    args = p.parse_args(argv)

    command = ".venv/bin/python bench/province/run.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    workdir = temp_dir()
    tag = "b" + secrets.token_hex(3)
    province = generate(workdir / "province", args.halls, args.counters, tag=tag)
    halls = load_province(province)
    if (args.server_tree / "hallserver" / "province.py").exists():
        served = f"{len(halls)} halls x {args.counters} counters from one process (province file)"
    else:  # the server takes one hall TOML: the provincial hall alone
        halls, province = halls[:1], halls[0].config
        served = f"1 hall x {args.counters} counters (no province runtime in this tree)"
    print(f"{command}\nwork directory {workdir}; {served}", flush=True)
    result = {"command": command, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
              "served": served, "loadavg_before": loadavg(), "runs": [], "server_tree": str(args.server_tree),
              "revision": revision(args.server_tree), "broker_inflight": args.broker_inflight or 20,
              "timeout": args.timeout}
    broker = quiet_mosquitto(workdir, args.broker_inflight)
    broker.start()
    result["broker"] = subprocess.run([shutil.which("mosquitto") or "mosquitto", "-h"], capture_output=True,
                                      text=True).stdout.splitlines()[0].split(" ", 1)[-1].strip()
    try:
        raw = RawRoundTrip(broker.url)
        raw.run(args.raw_samples)
        raw.close()
        result["raw_idle"] = ms(raw.samples)
        print(f"raw Mosquitto QoS 1 round trip, idle: {result['raw_idle']}", flush=True)
        dbs = [d for d in args.ops_dbs.split(",") if d]
        order = [args.db] + [d for d in dbs if d != args.db]
        for i, db in enumerate(order):
            if db == "sqlite":
                result["runs"].append(server_run(args, "sqlite", province, halls, broker, workdir,
                                                 sqlite_url(workdir, "hall.db"), full=i == 0 and not args.no_latency))
            else:
                with PostgresDatabase(args.pg_url) as pg:
                    result["runs"].append(server_run(args, "postgresql", province, halls, broker, workdir,
                                                     pg.url, full=i == 0 and not args.no_latency))
    finally:
        broker.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    result["loadavg_after"] = loadavg()
    text = markdown(result)
    print("\n" + text)
    if args.results:
        Path(args.results).write_text(text, encoding="utf-8")
        Path(args.results).with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                                                           encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
