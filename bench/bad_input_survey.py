"""Survey: run the CLI on many malformed files and options and count what happens (issue 25).

Each case runs ``python -m bulletyard ...`` in a subprocess with a time limit and is classed as
``clean`` (exit 2, one error line, no traceback), ``ok`` (exit 0 where the input is fine or
harmless), ``accepted`` (exit 0 where the input should have been refused), ``traceback``,
``hang`` (killed at the limit) or ``crash`` (any other status, e.g. a signal). Run it before and
after a change to compare::

    python bench/bad_input_survey.py [--jobs 2] [--timeout 20] [--only WORD] [--baseline DIR]

The broker-facing commands point at a closed loopback port: option and file checks must come
before any connection, so a case that gets as far as connecting counts as ``accepted``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEAD = "mqtt://127.0.0.1:9"  # nothing listens on the discard port

SMALL_YAML = Path(REPO, "warehouse_maps/layouts/small-fc.yaml").read_text()
TINY_YAML = 'format: bulletyard-layout/1\nname: t\nrows:\n  - "@@@@@"\n  - "@S.K@"\n  - "@@@@@"\n'
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
DEEP_JSON = "[" * 100_000 + "]" * 100_000
SWEEP = "name: x\nlayouts: [small-fc]\nrobots: [2]\nseeds: [1]\n"
CHECK = "scenarios:\n  - name: a\n    robots: 2\n    expect: [collisions == 0]\n"
ORDER = {"orderId": "o1", "t_s": 1.0, "lines": [{"sku": "P1", "quantity": 1}]}
HIST = {"id": "o1", "lines": [{"sku": "P1", "quantity": 1}], "destination": "S1"}


def _order(**kw: object) -> str:
    return json.dumps([{**ORDER, **kw}])


def _files() -> dict[str, str]:
    """Name -> text of every input file the cases use."""
    qty = lambda q: json.dumps([{**ORDER, "lines": [{"sku": "P1", "quantity": q}]}])  # noqa: E731
    hq = lambda q: json.dumps([{**HIST, "lines": [{"sku": "P1", "quantity": q}]}])  # noqa: E731
    return {
        "good.yaml": SMALL_YAML,
        "cell0.yaml": TINY_YAML + "cell_size_m: 0\n",
        "cellnan.yaml": TINY_YAML + "cell_size_m: .nan\n",
        "cellinf.yaml": TINY_YAML + "cell_size_m: .inf\n",
        "dupkey.yaml": TINY_YAML + "name: u\n",
        "bomb.yaml": TINY_YAML + "equipment:\n  " + BOMB.replace("\n", "\n  "),
        "deep.yaml": TINY_YAML + "equipment: " + "[" * 5000 + "]" * 5000 + "\n",
        "rowsmap.yaml": "format: bulletyard-layout/1\nname: t\nrows: {a: 1}\n",
        "namemap.yaml": TINY_YAML.replace("name: t", "name: {a: 1}"),
        "places-list-of-list.yaml": TINY_YAML + "places: [[1, 2]]\n",
        "wide.map": "type octile\nheight 1\nwidth 1000000000000\nmap\n....\n",
        "tall.map": "type octile\nheight 100000000000\nwidth 4\nmap\n....\n",
        "negw.map": "type octile\nheight 2\nwidth -4\nmap\n....\n....\n",
        "lorr-wide.map": "type octile\nheight 1\nwidth 1000000000000\nmap\nE...\n",
        "lorr.map": "type octile\nheight 2\nwidth 4\nmap\nE...\n....\n",
        "agents.txt": "1\n1\n",
        "tasks-empty.txt": "0\n",
        "tasks-huge.txt": "100000000000\n1\n",
        "notasks.json": json.dumps({"mapFile": "lorr.map", "agentFile": "agents.txt",
                                    "taskFile": "tasks-empty.txt", "teamSize": 1}),
        "hugetasks.json": json.dumps({"mapFile": "lorr.map", "agentFile": "agents.txt",
                                      "taskFile": "tasks-huge.txt", "teamSize": 1}),
        "lorr-negw.json": json.dumps({"mapFile": "negw.map", "agentFile": "agents.txt",
                                      "taskFile": "tasks-empty.txt", "teamSize": 1}),
        "lorr-deep.json": DEEP_JSON,
        "lorr-list.json": "[1, 2]",
        "team-bool.json": json.dumps({"mapFile": "lorr.map", "agentFile": "agents.txt",
                                      "taskFile": "agents.txt", "teamSize": True}),
        "o-tinf.json": _order(t_s=float("inf")),
        "o-tnan.json": _order(t_s=float("nan")),
        "o-qinf.json": qty(float("inf")),
        "o-q1e400.json": qty(10**400).replace(str(10**400), "1e400"),
        "o-qbig.json": qty(10**400),
        "o-qneg.json": qty(-3),
        "o-qfrac.json": qty(1.5),
        "o-deep.json": DEEP_JSON,
        "o-dup.json": '[{"orderId": "o1", "orderId": "o2", "t_s": 1, '
                      '"lines": [{"sku": "P1", "quantity": 1}]}]',
        "o-map.json": json.dumps({"orders": []}),
        "o-prio-inf.json": _order(priority=float("inf")),
        "h-qinf.json": hq(float("inf")),
        "h-qneg.json": hq(-2),
        "h-qfrac.json": hq(2.5),
        "h-due-inf.json": json.dumps([{**HIST, "due_s": float("inf")}]),
        "h-created-nan.json": json.dumps([{**HIST, "created_s": float("nan")}]),
        "h-deep.json": DEEP_JSON,
        "h-deep.jsonl": DEEP_JSON + "\n",
        "h-big.csv": "order_id,sku,quantity,destination,created_s\no1,P1,1,S1,1e300\n",
        "i-inf.json": json.dumps([{"pod": "p1", "place": "P1", "sku": "s", "units": float("inf")}]),
        "i-neg.json": json.dumps([{"pod": "p1", "place": "P1", "sku": "s", "units": -4}]),
        "i-frac.json": json.dumps([{"pod": "p1", "place": "P1", "sku": "s", "units": 2.5}]),
        "i-deep.json": DEEP_JSON,
        "i-map.json": '[{"pod": {"a": 1}, "place": "P1", "sku": "s", "units": 1}]',
        "c-inf.yaml": "ack_timeout_s: .inf\n",
        "c-nan.yaml": "ack_timeout_s: .nan\n",
        "c-bomb.yaml": BOMB,
        "c-dup.yaml": "assigner: pileon\nassigner: greedy\n",
        "c-list.yaml": "- 1\n- 2\n",
        "s-chutes.yaml": "kind: loop\nchutes: {count: 100000000}\n",
        "s-nan.yaml": "kind: loop\nspeed_mps: .nan\n",
        "s-inf.yaml": "kind: loop\nreply_timeout_s: .inf\n",
        "s-bomb.yaml": BOMB,
        "s-dup.yaml": "kind: loop\nspeed_mps: 2\nspeed_mps: 3\n",
        "s-mapstr.yaml": "kind: loop\nsorter_id: {a: 1}\n",
        "sw-bomb.yaml": "name: x\n" + BOMB,
        "sw-deep.yaml": "name: " + "[" * 5000 + "]" * 5000 + "\n",
        "sw-nan.yaml": SWEEP + "rate_per_h: .nan\nuntil_s: 10\n",
        "sw-dup.yaml": "name: x\nname: y\nlayouts: [small-fc]\nrobots: [2]\nseeds: [1]\n",
        "sw-huge.yaml": SWEEP + "until_s: 1e300\n",
        "ck-bomb.yaml": "scenarios:\n  - name: a\n    robots: 2\n    expect: [collisions == 0]\n" + BOMB,
        "ck-nan.yaml": CHECK.replace("robots: 2", "robots: 2\n    until_s: .nan"),
        "ck-dup.yaml": "scenarios:\n  - name: a\n    name: b\n    robots: 2\n    expect: [collisions == 0]\n",
        "ck-robots.yaml": "scenarios:\n  - name: a\n    robots: 100000000\n    expect: [collisions == 0]\n",
        "cred-deep.json": DEEP_JSON,
        "scen-deep.scen": "version 1\n" + "0\tm\t4\t1\t0\t0\t1\t0\t1\n",
    }


def _cases() -> list[tuple[str, str, list[str], str]]:
    """(kind, label, argv, expectation): ``refuse`` when success means silently accepted."""
    sim = ["sim", "--robots", "2", "--orders", "3", "--until", "20", "--quiet", "--out", "{d}/run"]
    c: list[tuple[str, str, list[str], str]] = []

    def add(kind: str, label: str, argv: list[str], expect: str = "refuse") -> None:
        c.append((kind, label, argv, expect))

    # layouts and maps
    for f in ("cell0", "cellnan", "cellinf", "dupkey", "bomb", "deep", "rowsmap", "namemap",
              "places-list-of-list"):
        add("layout", f, ["map", "show", "{d}/" + f + ".yaml"])
    for f in ("wide", "tall", "negw", "lorr-wide"):
        add("map", f, ["map", "show", "{d}/" + f + ".map"])
    add("map", "dev-zero", ["map", "show", "/dev/zero.map"])
    add("layout", "dev-zero-yaml", ["sim", "--layout", "/dev/zero"])
    add("layout", "dir", ["map", "show", "{d}/adir.yaml"])
    add("map", "convert cell nan", ["map", "convert", "small-fc", "--cell-size-m", "nan"])
    add("map", "convert cell inf", ["map", "convert", "small-fc", "--cell-size-m", "inf"])
    add("map", "convert out dir missing", ["map", "convert", "small-fc", "-o", "{d}/no/such/x.yaml"], "any")
    add("map", "convert out is dir", ["map", "convert", "small-fc", "-o", "{d}"])
    # LoRR instances
    for f in ("notasks", "hugetasks", "lorr-negw", "lorr-deep", "lorr-list", "team-bool"):
        add("lorr", f, ["map", "show", "{d}/" + f + ".json"])
    # order files (sim --order-file)
    for f in ("o-tinf", "o-tnan", "o-qinf", "o-q1e400", "o-qbig", "o-qneg", "o-qfrac", "o-deep",
              "o-dup", "o-map", "o-prio-inf"):
        add("orders", f, [*sim[:5], "--order-file", "{d}/" + f + ".json", *sim[5:]])
    add("orders", "dev-zero", [*sim[:5], "--order-file", "/dev/zero", *sim[5:]])
    # histories (slot --history)
    slot = ["slot", "--layout", "small-fc", "--out", "{d}/slot.yaml", "--history"]
    for f in ("h-qinf", "h-qneg", "h-qfrac", "h-due-inf", "h-created-nan", "h-deep"):
        add("history", f, [*slot, "{d}/" + f + ".json"])
    add("history", "h-deep.jsonl", [*slot, "{d}/h-deep.jsonl"])
    add("history", "h-big.csv", [*slot, "{d}/h-big.csv"])
    add("history", "dev-zero", [*slot, "/dev/zero"])
    # inventories
    for f in ("i-inf", "i-neg", "i-frac", "i-deep", "i-map"):
        add("inventory", f, [*sim, "--inventory", "{d}/" + f + ".json"])
    # controller config (serve), sorter config
    for f in ("c-inf", "c-nan", "c-bomb", "c-dup", "c-list"):
        add("config", f, ["serve", "--broker", DEAD, "--layout", "small-fc", "--config", "{d}/" + f + ".yaml",
                          "--duration", "1"])
    for f in ("s-chutes", "s-nan", "s-inf", "s-bomb", "s-dup", "s-mapstr"):
        add("sorter", f, ["sorter", "--broker", DEAD, "--config", "{d}/" + f + ".yaml", "--duration", "1"])
    # sweep specs and check scenarios
    for f in ("sw-bomb", "sw-deep", "sw-nan", "sw-dup", "sw-huge"):
        add("sweep", f, ["sweep", "{d}/" + f + ".yaml", "--out", "{d}/sw-" + f])
    for f in ("ck-bomb", "ck-nan", "ck-dup", "ck-robots"):
        add("check", f, ["check", "{d}/" + f + ".yaml", "--out", "{d}/ck-" + f])
    add("robots", "credentials deep", ["robots", "--broker", DEAD, "--layout", "small-fc", "--count", "1",
                                       "--credentials", "{d}/cred-deep.json", "--duration", "1"])
    # options
    for opt, val in (("--until", "nan"), ("--until", "inf"), ("--until", "-5"), ("--until", "1e300"),
                     ("--rate", "nan"), ("--rate", "inf"), ("--rate", "-3"), ("--trace-dt", "0"),
                     ("--trace-dt", "nan"), ("--trace-dt", "1e-9"), ("--delays", "0.5,1,inf"),
                     ("--delays", "nan,1,2"), ("--kill-robot", "agv-0001@inf"),
                     ("--kill-robot", "agv-0001@nan"),
                     ("--chute-close", "c001@inf"), ("--drop-rate", "nan"), ("--robots", "100000000"),
                     ("--real-time-factor", "nan"), ("--seed", "-1")):
        add("option", f"sim {opt} {val}", [*sim, opt, val], "any" if opt == "--seed" else "refuse")
    add("option", "sim --orders 1e8", ["sim", "--robots", "2", "--orders", "100000000", "--until", "5",
                                       "--quiet", "--out", "{d}/run"])
    add("option", "sim --peak-factor inf", [*sim, "--profile", "peak", "--peak-factor", "inf"])
    add("option", "sim --peak-duration nan", [*sim, "--profile", "peak", "--peak-duration", "nan"])
    add("option", "sim --out is a file", [*sim[:-2], "--out", "{d}/good.yaml"])
    add("option", "replay not a run", ["replay", "{d}"])
    add("option", "replay run with bad summary", ["replay", "{d}/badrun"])
    add("option", "snapshot not a run", ["snapshot", "{d}"])
    add("option", "snapshot bad summary", ["snapshot", "{d}/badrun", "--out", "{d}/f.png"])
    add("option", "snapshot 100000x100000", ["snapshot", "{d}/badrun", "--size", "100000x100000"])
    add("option", "snapshot --at nan", ["snapshot", "{d}/badrun", "--at", "nan"])
    add("option", "replay --every 0", ["replay", "{d}/badrun", "--frames", "{d}/fr", "--every", "0"])
    add("option", "slot --bucket-s 1e-10", [*slot, "{d}/h-qneg.json", "--bucket-s", "1e-10"])
    add("option", "slot --bucket-s nan", [*slot, "{d}/h-qneg.json", "--bucket-s", "nan"])
    add("option", "slot --alpha nan", [*slot, "{d}/h-qneg.json", "--alpha", "nan"])
    add("option", "slot --skus 1e9", [*slot, "{d}/h-qneg.json", "--skus", "1000000000"])
    add("option", "slot --out is a dir", ["slot", "--layout", "small-fc", "--out", "{d}",
                                          "--history", "{d}/h-qneg.json"])
    mapf = ["mapf", "--map", "{d}/m.map", "--scen", "{d}/m.scen", "--out", "{d}/mapf.json"]
    add("option", "mapf --agents 1e9", [*mapf, "--agents", "1000000000"], "any")
    add("option", "mapf --time-limit nan", [*mapf, "--agents", "1", "--time-limit", "nan"])
    add("option", "mapf --time-limit inf", [*mapf, "--agents", "1", "--time-limit", "inf"])
    add("option", "mapf --out missing dir", ["mapf", "--map", "{d}/m.map", "--scen", "{d}/m.scen",
                                             "--agents", "1", "--out", "{d}/no/such/x.json"], "any")
    add("option", "mapf --map /dev/zero", ["mapf", "--map", "/dev/zero", "--scen", "{d}/m.scen",
                                           "--agents", "1", "--out", "{d}/m.json"])
    feed = ["feed", "--broker", DEAD, "--layout", "small-fc", "--timeout", "1"]
    add("option", "feed --site a/b", [*feed, "--site", "a/b"])
    add("option", "feed --site #", [*feed, "--site", "#"])
    add("option", "feed --rate nan", [*feed, "--rate", "nan"])
    add("option", "feed --rate inf", [*feed, "--rate", "inf"])
    add("option", "feed --timeout nan", [*feed[:-2], "--timeout", "nan"])
    add("option", "feed --max-lines 0", [*feed, "--max-lines", "0"])
    add("option", "feed --orders -1", [*feed, "--orders", "-1"])
    srt = ["sorter", "--broker", DEAD, "--layout", "sort-center"]
    add("option", "sorter --site a/b", [*srt, "--site", "a/b", "--duration", "1"])
    add("option", "sorter --time-factor nan", [*srt, "--time-factor", "nan", "--duration", "1"])
    add("option", "sorter --duration nan", [*srt, "--duration", "nan"])
    add("option", "sorter --transit-s inf", [*srt, "--transit-s", "inf", "--duration", "1"])
    rob = ["robots", "--broker", DEAD, "--layout", "small-fc"]
    add("option", "robots --count 1e8", [*rob, "--count", "100000000", "--duration", "1"])
    add("option", "robots --state-interval nan", [*rob, "--count", "1", "--state-interval", "nan",
                                                  "--duration", "1"])
    add("option", "robots --duration inf", [*rob, "--count", "1", "--duration", "inf"])
    add("option", "robots --visualization-interval -1",
        [*rob, "--count", "1", "--visualization-interval", "-1", "--duration", "1"])
    srv = ["serve", "--broker", DEAD, "--layout", "small-fc"]
    add("option", "serve --duration nan", [*srv, "--duration", "nan"])
    add("option", "serve --journal-keep-days nan", [*srv, "--journal-keep-days", "nan", "--duration", "1"])
    add("option", "serve --db is a dir", [*srv, "--db", "{d}", "--duration", "1"])
    add("option", "up --site a/b", ["up", "--layout", "small-fc", "--robots", "1", "--site", "a/b",
                                    "--dir", "{d}/up", "--ready-timeout", "1"])
    add("option", "up --ready-timeout nan", ["up", "--layout", "small-fc", "--robots", "1",
                                             "--ready-timeout", "nan", "--dir", "{d}/up"])
    add("option", "up --rate inf", ["up", "--layout", "small-fc", "--robots", "1", "--rate", "inf",
                                    "--dir", "{d}/up", "--ready-timeout", "1"])
    add("option", "up --robots 1e8", ["up", "--layout", "small-fc", "--robots", "100000000",
                                      "--dir", "{d}/up", "--ready-timeout", "1"])
    add("option", "demo --out is a file", ["demo", "--out", "{d}/good.yaml"])
    return c


def classify(rc: int | None, err: str, expect: str) -> str:
    """One word for the outcome of a case."""
    if rc is None:
        return "hang"
    if "Traceback" in err:
        return "traceback"
    if rc == 2 and "cannot reach MQTT broker" in err and expect == "refuse":
        return "accepted"  # the bad input got as far as connecting
    if rc == 2 and "error:" in err:
        return "clean"
    if rc == 0:
        return "ok" if expect == "any" else "accepted"
    if rc == 1 and expect == "any":
        return "ok"
    return "crash"


def run_case(d: Path, argv: list[str], timeout_s: float, repo: Path = REPO) -> tuple[int | None, str]:
    """Exit status (None when killed at the limit) and stderr of one case, run on the code of ``repo``."""
    cmd = [sys.executable, "-m", "bulletyard", *(a.replace("{d}", str(d)) for a in argv)]
    env = {**os.environ, "PYTHONPATH": str(repo), "BULLETYARD_MQTT_PASSWORD": "x"}
    # A session of its own: on the time limit the whole group goes (``up`` starts children).
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=d, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout_s)
        status: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        err, status = "", None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the case's own group: leftovers of a failed start
    proc.communicate()
    return status, err


def main() -> int:
    """Run the survey and print one line per case and the counts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--only", default=None, help="run the cases whose label or kind holds this word")
    ap.add_argument("--json", default=None, help="also write the outcomes here")
    ap.add_argument("--baseline", default=None, metavar="DIR",
                    help="also run every case on the checkout in DIR and print both counts side by side")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bad-input-") as tmp:
        d = Path(tmp)
        for name, text in _files().items():
            (d / name).write_text(text)
        (d / "adir.yaml").mkdir()
        (d / "badrun").mkdir()
        (d / "badrun" / "summary.json").write_text('{"manifest": {"layout": "small-fc"}}')
        (d / "badrun" / "trace.jsonl").write_text("[" * 50_000 + "\n")
        (d / "m.map").write_text("type octile\nheight 1\nwidth 4\nmap\n....\n")
        (d / "m.scen").write_text("version 1\n0\tm\t4\t1\t0\t0\t3\t0\t3\n")
        cases = [c for c in _cases() if args.only is None or args.only in c[1] or args.only == c[0]]
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda c: run_case(d, c[2], args.timeout), cases))
            base = (list(pool.map(lambda c: run_case(d, c[2], args.timeout, Path(args.baseline)), cases))
                    if args.baseline else None)
    counts: Counter[str] = Counter()
    rows = []
    for (kind, label, _, expect), (rc, err) in zip(cases, results, strict=True):
        outcome = classify(rc, err, expect)
        counts[outcome] += 1
        last = err.strip().splitlines()[-1][:150] if err.strip() else ""
        print(f"{outcome:9} {kind:9} {label:38} rc={rc} {last}")
        rows.append({"kind": kind, "label": label, "outcome": outcome, "rc": rc, "last": last})
    print(f"{len(cases)} cases: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    if base is not None:
        before = Counter(classify(rc, err, c[3]) for c, (rc, err) in zip(cases, base, strict=True))
        print(f"\n| outcome ({len(cases)} cases) | baseline {args.baseline} | this checkout |\n|---|---|---|")
        for outcome in ("clean", "traceback", "hang", "crash", "accepted", "ok"):
            print(f"| {outcome} | {before[outcome]} | {counts[outcome]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
