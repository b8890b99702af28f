#!/usr/bin/env python3
"""A/B of two fedblog builds on delivery, stampede, inbox storm and large blog.

    scripts/bench-ab.py OLD_BIN NEW_BIN [ROUNDS]      # ROUNDS defaults to 5

Old and new alternate within one run, so the drift of a shared machine falls on both
alike: the delivery harness alternates them itself (`DELIVERY_BENCH_SERVER` and
`DELIVERY_BENCH_SERVER_B`, A B then B A, against one sink, each run beside openssl
readings); the serving harness runs one binary per call (`SERVING_BENCH_SERVER`), so
this script calls it old, new, then new, old, and so on, for each section in turn.
Each serving call records the machine's load average and the hypervisor's steal.
Prints every round, then each binary's median and range (min-max) per figure.

The harnesses are this tree's (built here with `cargo bench --no-run`); only the
server binary differs. The delivery harness has each binary create its own database
(`fedblog sync`), so builds whose migrations differ compare on their own schemas. The large blog's in-process timings (one-file republish, full
sync) therefore run this tree's code for both and are no A/B; its cold start, warm
restart and edit-through-the-watcher go through the binary and are.

Environment: AB_BENCHES="delivery stampede storm large" (a subset, in that order),
AB_OUT=<dir> for the logs (default: a new temporary folder), and the harnesses' own
(SERVING_BENCH_CONNECTIONS: the stampede's connections, all from one address).
`scripts/bench-ab.py --report <dir>` summarises the serving logs of an earlier run.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def harness(name):
    """Builds a benchmark harness (if needed) and returns its executable."""
    out = subprocess.run(
        ["cargo", "bench", "--locked", "--no-run", "--bench", name, "--message-format=json"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    exes = [m.get("executable") for m in map(json.loads, out.splitlines())
            if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == name]
    exes = [e for e in exes if e]
    if not exes:
        sys.exit(f"no executable for bench {name}")
    return exes[-1]


def machine_ticks():
    """(steal, total) CPU ticks of the machine so far."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    return fields[7], sum(fields)


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def num(s):
    """A printed figure; `inf` (a step with requests refused) sorts above every time."""
    try:
        return float(s)
    except ValueError:
        return float("nan")


def parse_stampede(text):
    got = {}
    for name, key in (("fedblog", "fedblog"), ("nginx", "nginx")):
        m = re.search(rf"^\| \*\*{name} \d+ s\*\* \| \d+ \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| (\d+) \| (\d+) \|",
                      text, re.M)
        if m:
            got[f"{key} requests/s"] = num(m[1])
            got[f"{key} p50 ms"] = num(m[2])
            got[f"{key} p99 ms"] = num(m[3])
            if key == "fedblog":
                got["fedblog errors"] = num(m[5])
    if "fedblog requests/s" in got and "nginx requests/s" in got:
        got["ratio fedblog / nginx"] = got["fedblog requests/s"] / got["nginx requests/s"]
    for label, key in (("fedblog idle, demo content", "idle RSS MiB"),
                       ("fedblog peak during the stampede", "peak RSS MiB")):
        m = re.search(rf"^\| {label} \| ([\d.]+) \|", text, re.M)
        if m:
            got[key] = num(m[1])
    return got


def parse_storm(text):
    got = {}
    for m in re.finditer(r"^\| fedblog \| (\d+) \| [\d.]+ \| \d+ \| \d+ \| (\d+) \| ([\d.]+|inf|-) \| ([\d.]+|inf|-) \|",
                         text, re.M):
        rate = m[1]
        got[f"{rate}/s not 202"] = num(m[2])
        got[f"{rate}/s p50 ms"] = num(m[3])
        got[f"{rate}/s p99 ms"] = num(m[4])
    m = re.search(r"p99 < [\d.]+ ms: (\d+)/s .*reference (\d+)/s", text)
    if m:
        got["highest passing rate /s"] = num(m[1])
        got["reference highest /s"] = num(m[2])
    m = re.search(r"lost after kill -9: (\d+)", text)
    if m:
        got["lost after kill -9"] = num(m[1])
    return got


def parse_large(text):
    got = {}
    for label, key in (
        ("reference: read and hash all", "reference read+hash s"),
        ("cold start, empty database", "cold start s"),
        ("warm restart", "warm restart s"),
        ("one-file edit to new JSON served", "edit via watcher s"),
        ("idle RSS with", "idle RSS MiB"),
        ("full sync, nothing changed", "full sync in-process s (same code)"),
        ("one-file republish", "republish in-process s (same code)"),
    ):
        m = re.search(rf"^\| {re.escape(label)}[^|]* \| ([\d.]+) \|", text, re.M)
        if m:
            got[key] = num(m[1])
    return got


PARSERS = {"stampede": parse_stampede, "storm": parse_storm, "large": parse_large}


def run_serving(exe, section, binary, log):
    env = dict(os.environ, SERVING_BENCH_SERVER=binary, SERVING_BENCH_QUICK="1")
    ticks0, load0, t0 = machine_ticks(), load_average(), time.time()
    with open(log, "w") as f:
        code = subprocess.run([exe, section], env=env, stdout=subprocess.PIPE,
                              stderr=f, text=True)
        f.write(code.stdout)
    ticks1 = machine_ticks()
    steal = 100.0 * (ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1])
    with open(log, "a") as f:
        f.write(f"\nab: steal {steal:.3f} %, load before {load0.split()[0]}, "
                f"seconds {time.time() - t0:.1f}\n")
    if code.returncode != 0:
        print(f"  {section} with {binary} failed (exit {code.returncode}); see {log}")
        return None
    return parse_log(section, log)


def parse_log(section, log):
    text = Path(log).read_text()
    got = PARSERS[section](text)
    m = re.search(r"^ab: steal ([\d.]+) %, load before ([\d.]+), seconds ([\d.]+)", text, re.M)
    if m:
        got["steal %"], got["load before"], got["seconds"] = (num(v) for v in m.groups())
    return got


def report(out):
    """Summaries of the serving logs an earlier run left in `out`."""
    for section in PARSERS:
        rounds = {"old": [], "new": []}
        logs = sorted(Path(out).glob(f"{section}-*-*.log"),
                      key=lambda p: int(p.stem.split("-")[1]))
        for log in logs:
            _, i, label = log.stem.split("-")
            got = parse_log(section, log)
            rounds[label].append(got)
            shown = ", ".join(f"{k} {fmt(v)}" for k, v in got.items())
            print(f"round {i} {label}: {shown}")
        if logs:
            summary(section, rounds, ["old", "new"])


def fmt(v):
    if v != v:
        return "-"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def summary(title, rounds, labels):
    """Markdown table: per figure, each binary's median (min-max)."""
    keys = []
    for per_binary in rounds.values():
        for r in per_binary:
            keys += [k for k in r if k not in keys]
    print(f"\n### {title}: median (min-max) of {max(len(v) for v in rounds.values())} rounds\n")
    print("| figure | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for k in keys:
        cells = []
        for label in labels:
            vals = [r[k] for r in rounds[label] if k in r and r[k] == r[k]]
            if vals:
                cells.append(f"{fmt(statistics.median(vals))} ({fmt(min(vals))}-{fmt(max(vals))})")
            else:
                cells.append("-")
        print(f"| {k} | " + " | ".join(cells) + " |")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        return report(sys.argv[2])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    old, new = (str(Path(p).resolve()) for p in sys.argv[1:3])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    benches = os.environ.get("AB_BENCHES", "delivery stampede storm large").split()
    out = Path(os.environ.get("AB_OUT") or tempfile.mkdtemp(prefix="fedblog-ab-"))
    out.mkdir(parents=True, exist_ok=True)
    binaries = {"old": old, "new": new}
    print(f"old: {old}\nnew: {new}\nrounds: {n}; logs: {out}")
    print(f"start: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load {load_average()}")

    if "delivery" in benches:
        exe = harness("delivery")
        t0 = time.time()
        print(f"\n## delivery (run A, 10,000 personal inboxes), {time.strftime('%H:%M', time.gmtime())} UTC")
        env = dict(os.environ, DELIVERY_BENCH_SERVER=old, DELIVERY_BENCH_SERVER_B=new,
                   DELIVERY_BENCH_ROUNDS=str(n))
        with open(out / "delivery.log", "w") as f:
            res = subprocess.run([exe], env=env, stdout=subprocess.PIPE, stderr=f, text=True)
            f.write(res.stdout)
        print(res.stdout.replace("binary A", "old").replace("binary B", "new")
              .replace(" A: run A", " old: run A").replace(" B: run A", " new: run A"), end="")
        print(f"delivery took {time.time() - t0:.0f} s")

    serving = [b for b in benches if b in PARSERS]
    exe = harness("serving") if serving else None
    for section in serving:
        t0 = time.time()
        print(f"\n## {section}, {time.strftime('%H:%M', time.gmtime())} UTC")
        rounds = {"old": [], "new": []}
        for i in range(1, n + 1):
            for label in (("old", "new") if i % 2 else ("new", "old")):
                got = run_serving(exe, section, binaries[label], out / f"{section}-{i}-{label}.log")
                if got is None:
                    continue
                rounds[label].append(got)
                shown = ", ".join(f"{k} {fmt(v)}" for k, v in got.items())
                print(f"round {i} {label}: {shown}", flush=True)
        summary(section, rounds, ["old", "new"])
        print(f"\n{section} took {time.time() - t0:.0f} s")
    print(f"\nend: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load {load_average()}")


if __name__ == "__main__":
    main()
