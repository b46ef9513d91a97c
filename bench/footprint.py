"""Footprint benchmark: start-up time and resident memory, empty and with 1,000 deployed APIs.

Run it from the repository root, after ``python3 -m pip install -e '.[test]'``::

    python bench/footprint.py

It takes about 35 seconds (several minutes with ``--via-api``), talks only to 127.0.0.1, stops
every process it started and removes the state directories it made (under a temporary
directory). ``--json PATH`` also writes the results as JSON; the last line printed is the same
JSON on one line. ``--apis``, ``--routes`` and ``--startups`` change the defaults below;
``--deployments N`` gives each API N deployments (its stage on the last), as a history of
changes under auto-deploy would, since every deployment keeps a snapshot of the API.

How it works (memory is read from ``/proc/PID/status``: ``VmRSS``, the resident set now, and
``VmHWM``, its peak since the process started):

1. Baseline: the smallest raw ASGI app on the stack ``propylon serve`` uses (uvicorn + uvloop +
   httptools, one process, access log off; ``bench/_common.py``). Start-up is timed from the
   spawn to its first 200, as for Propylon; memory is read idle and after one request per API.
2. Propylon, empty: ``propylon serve --no-in-memory --state-dir EMPTY --port 0`` (the SQLite
   store, the default), started several times; each time from the spawn to the first 200 from
   ``GET /_propylon/health``. The median is reported, with the memory read at that moment.
3. The loaded state (1,000 APIs of 10 routes by default). Each API has one ``AWS_PROXY``
   integration (payload 2.0) to a local function (``--function hello=FILE:handler``), ten
   routes on it and a ``$default`` stage with auto-deploy, so every API has one deployment the
   data plane serves (it compiles a stage on the stage's first request). One such API is
   created through the control plane with plain unsigned HTTP requests (the control plane
   accepts them by default): ``CreateApi``, ``CreateIntegration``, ten ``CreateRoute``,
   ``CreateStage``. The server is stopped and that API's rows in the SQLite file (one table of
   (path, JSON)) are copied for the other APIs, each with fresh ids of the same form, in one
   transaction: about 3 s in all instead of minutes.
   With ``--via-api`` every API is created through the control plane instead (each write
   refreshes the data plane's view of the one API it was under; before 2026-11-25 every write
   walked every deployed API, so this grew with the square of the number of APIs); the memory
   of that server once done is reported too.
4. Propylon from the loaded state: start-up as in 2, memory idle, then one request to a route
   of each API (``GET /_aws/execute-api/{apiId}/items/42``, which the Lambda proxy answers 200)
   on one keep-alive connection, and memory again; then, as a client refreshing its view of
   every API would, ``GetApi``, ``GetRoutes``, ``GetIntegrations`` and ``GetStages`` for each
   (the control plane keeps answers to reads until the next write), and memory once more.

Start-up times depend on what else runs on the machine; the memory numbers hardly do. So each
start also reports the CPU time the server used to get there (user + system, from
``/proc/PID/stat``), which other load changes far less than the wall-clock time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _common import (
    START_TIMEOUT,
    baseline_command,
    compile_package,
    fmt,
    machine,
    met,
    say,
    server,
    stop_on_sigterm,
    wait_for_200,
)

HANDLER = """def handler(event, context):
    return {"statusCode": 200, "body": "hello"}
"""
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:hello"
ROUTE_KEYS = (
    "GET /items",
    "POST /items",
    "GET /items/{id}",
    "PUT /items/{id}",
    "DELETE /items/{id}",
    "GET /users",
    "GET /users/{id}",
    "GET /users/{id}/items",
    "ANY /files/{proxy+}",
    "GET /health",
)
REQUEST_PATH = "/items/42"
READS = ("", "/routes", "/integrations", "/stages")  # under /v2/apis/{apiId}
SEP = "\x1f"  # the SQLite store's separator between the parts of a key
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
TARGETS = {"startup_s": 0.5, "rss_mib": 100.0}


@dataclass(frozen=True)
class Memory:
    """``VmRSS`` and ``VmHWM`` of one process, in MiB."""

    rss_mib: float
    hwm_mib: float


@dataclass
class Server:
    """One kind of server: its start-up samples and the memory read at each stage."""

    startup_s: list[float] = field(default_factory=list)
    startup_cpu_s: list[float] = field(default_factory=list)  # user + system, to healthy
    idle: list[Memory] = field(default_factory=list)
    after_requests: Memory | None = None
    requests: int = 0
    after_reads: Memory | None = None  # after reading every API's configuration
    reads: int = 0

    @property
    def startup_median(self) -> float:
        return statistics.median(self.startup_s)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.startup_cpu_s)

    @property
    def idle_median(self) -> Memory:
        return Memory(
            statistics.median(m.rss_mib for m in self.idle),
            statistics.median(m.hwm_mib for m in self.idle),
        )


@dataclass
class Results:
    machine: dict[str, Any]
    apis: int
    routes_per_api: int
    deployments_per_api: int
    populate: str
    populate_s: float = 0.0
    baseline: Server = field(default_factory=Server)
    empty: Server = field(default_factory=Server)
    loaded: Server = field(default_factory=Server)
    populated_live: Memory | None = None  # with --via-api: the populating server when done
    load_average: list[float] = field(default_factory=list)  # 1-minute, at start and at end


# --- processes and memory --------------------------------------------------------------------


def memory(pid: int) -> Memory:
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(value.split()[0]) / 1024  # kB -> MiB
    return Memory(round(values["VmRSS"], 1), round(values["VmHWM"], 1))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far (``/proc/PID/stat``, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def propylon_command(state_dir: Path, handler: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "propylon", "serve", "--port", "0", "--no-in-memory"),
        *("--state-dir", str(state_dir), "--function", f"hello={handler}:handler"),
    ]


def start_once(command: list[str], health: str, into: Server) -> None:
    """Spawn ``command``, time it to the first 200 from ``health``, read its memory, stop it."""
    started = time.perf_counter()
    with server(command) as (url, process):
        wait_for_200(url, health, time.monotonic() + START_TIMEOUT)
        into.startup_s.append(time.perf_counter() - started)
        into.startup_cpu_s.append(cpu_seconds(process.pid))
        into.idle.append(memory(process.pid))


def request_each(url: str, paths: list[str]) -> None:
    """``GET`` each path on one keep-alive connection; every answer must be a 200."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for path in paths:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}: {body!r}")
    finally:
        connection.close()


# --- the loaded state ------------------------------------------------------------------------


def create_api(client: httpx.Client, name: str, routes: int, deployments: int = 1) -> str:
    """One API through the control plane: an integration, ``routes`` routes, an auto-deploying
    ``$default`` stage (its first deployment), then ``deployments - 1`` more deployments of
    it. Returns its id."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body)
        if response.status_code != 201:
            raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text}")
        created: dict[str, Any] = response.json()
        return created

    api_id: str = post("/v2/apis", {"name": name, "protocolType": "HTTP"})["apiId"]
    integration = post(
        f"/v2/apis/{api_id}/integrations",
        {
            "integrationType": "AWS_PROXY",
            "integrationUri": FUNCTION_ARN,
            "payloadFormatVersion": "2.0",
        },
    )
    target = f"integrations/{integration['integrationId']}"
    for route_key in route_keys(routes):
        post(f"/v2/apis/{api_id}/routes", {"routeKey": route_key, "target": target})
    post(f"/v2/apis/{api_id}/stages", {"stageName": "$default", "autoDeploy": True})
    for _ in range(deployments - 1):
        post(f"/v2/apis/{api_id}/deployments", {"stageName": "$default"})
    return api_id


def route_keys(count: int) -> list[str]:
    """``count`` distinct route keys: ROUTE_KEYS first, then ``GET /extra{n}``."""
    extra = [f"GET /extra{n}" for n in range(max(0, count - len(ROUTE_KEYS)))]
    return [*ROUTE_KEYS, *extra][:count]


def populate_via_api(url: str, pid: int, args: argparse.Namespace, results: Results) -> list[str]:
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60) as client:
        api_ids = []
        for n in range(args.apis):
            api_ids.append(create_api(client, f"footprint-{n}", args.routes, args.deployments))
            if (n + 1) % 100 == 0:
                say(f"{n + 1} APIs, {time.perf_counter() - started:.0f} s")
    results.populate_s = time.perf_counter() - started
    results.populated_live = memory(pid)
    return api_ids


def clone_template(database: Path, template_id: str, apis: int) -> list[str]:
    """Copy the rows of API ``template_id`` ``apis - 1`` times with fresh ids; return all ids."""
    prefix = SEP.join(("000000000000", "us-east-1", "apis", template_id))
    db = sqlite3.connect(database, isolation_level=None)
    try:
        rows = db.execute("SELECT path, data FROM records ORDER BY rowid").fetchall()
        outside = [path for path, _ in rows if not path.startswith(prefix)]
        if outside:
            raise RuntimeError(f"rows outside the template API, not copied: {outside[:3]}")
        ids = template_ids(rows)
        pattern = re.compile("|".join(rf"(?<![a-z0-9]){re.escape(i)}(?![a-z0-9])" for i in ids))
        fresh = random.Random(0)
        api_ids = [template_id]
        copies: list[tuple[str, str]] = []
        for n in range(1, apis):
            new = {old: "".join(fresh.choices(ALPHABET, k=len(old))) for old in ids}
            new["footprint-0"] = f"footprint-{n}"
            api_ids.append(new[template_id])

            def swap(match: re.Match[str], new: dict[str, str] = new) -> str:
                return new[match[0]]

            for path, data in rows:
                data = pattern.sub(swap, data).replace('"footprint-0"', f'"footprint-{n}"')
                copies.append((pattern.sub(swap, path), data))
        db.execute("BEGIN")
        db.executemany("INSERT INTO records (path, data) VALUES (?, ?)", copies)
        db.execute("COMMIT")
        return api_ids
    finally:
        db.close()


def template_ids(rows: list[tuple[str, str]]) -> list[str]:
    """Every id in the template's keys, longest first: the API's, its routes', its
    integration's and its deployment's (also its snapshot's). The stage is keyed by its name,
    ``$default``, which every copy keeps."""
    ids: set[str] = set()
    for path, _ in rows:
        parts = path.split(SEP)
        ids.update(
            part for kind, part in zip(parts[2::2], parts[3::2], strict=True) if kind != "stages"
        )
    return sorted(ids, key=len, reverse=True)


def build_state(
    state_dir: Path, handler: Path, args: argparse.Namespace, results: Results
) -> list[str]:
    """A state directory holding ``args.apis`` APIs; their ids."""
    command = propylon_command(state_dir, handler)
    with server(command) as (url, process):
        wait_for_200(url, "/_propylon/health", time.monotonic() + START_TIMEOUT)
        if args.via_api:
            return populate_via_api(url, process.pid, args, results)
        started = time.perf_counter()
        with httpx.Client(base_url=url, timeout=60) as client:
            template = create_api(client, "footprint-0", args.routes, args.deployments)
    api_ids = clone_template(state_dir / "state.sqlite3", template, args.apis)
    results.populate_s = time.perf_counter() - started
    return api_ids


# --- the run ---------------------------------------------------------------------------------


def measure(args: argparse.Namespace, results: Results, scratch: Path) -> None:
    handler = scratch / "handler.py"
    handler.write_text(HANDLER)
    body = scratch / "body.txt"
    body.write_text("hello")
    startups = args.startups

    say(f"baseline: raw ASGI app, {startups} starts")
    for _ in range(startups):
        start_once(baseline_command(body, "text/plain"), "/", results.baseline)

    say(f"Propylon, empty state directory, {startups} starts")
    for n in range(startups):
        start_once(
            propylon_command(scratch / f"empty{n}", handler), "/_propylon/health", results.empty
        )

    loaded_dir = scratch / "loaded"
    say(f"building a state of {args.apis} APIs x {args.routes} routes ({results.populate})")
    api_ids = build_state(loaded_dir, handler, args, results)
    paths = [f"/_aws/execute-api/{api_id}{REQUEST_PATH}" for api_id in api_ids]

    say(f"Propylon, {args.apis} APIs, {startups} starts")
    command = propylon_command(loaded_dir, handler)
    for _ in range(startups - 1):
        start_once(command, "/_propylon/health", results.loaded)
    started = time.perf_counter()
    with server(command) as (url, process):
        wait_for_200(url, "/_propylon/health", time.monotonic() + START_TIMEOUT)
        results.loaded.startup_s.append(time.perf_counter() - started)
        results.loaded.startup_cpu_s.append(cpu_seconds(process.pid))
        results.loaded.idle.append(memory(process.pid))
        say(f"one request to each of the {len(paths)} APIs")
        request_each(url, paths)
        results.loaded.after_requests = memory(process.pid)
        results.loaded.requests = len(paths)
        reads = [f"/v2/apis/{api_id}{kind}" for kind in READS for api_id in api_ids]
        say(f"{len(reads)} control-plane reads (GetApi, GetRoutes, GetIntegrations, GetStages)")
        request_each(url, reads)
        results.loaded.after_reads = memory(process.pid)
        results.loaded.reads = len(reads)

    say(f"baseline: {len(paths)} requests")
    with server(baseline_command(body, "text/plain")) as (url, process):
        wait_for_200(url, "/", time.monotonic() + START_TIMEOUT)
        request_each(url, paths)
        results.baseline.after_requests = memory(process.pid)
        results.baseline.requests = len(paths)


# --- the report ------------------------------------------------------------------------------


def _mib(value: float) -> str:
    return f"{value:.1f} MiB"


def report(results: Results) -> str:
    m, base, empty, loaded = results.machine, results.baseline, results.empty, results.loaded
    assert loaded.after_requests is not None
    assert loaded.after_reads is not None
    assert base.after_requests is not None
    size = f"{fmt(results.apis)} APIs x {results.routes_per_api} routes"
    if results.deployments_per_api > 1:
        size += f", {results.deployments_per_api} deployments each"
    startup_ok = max(empty.startup_median, loaded.startup_median) < TARGETS["startup_s"]
    rss = (loaded.idle_median, loaded.after_requests, loaded.after_reads)
    rss_ok = max(m.rss_mib for m in rss) < TARGETS["rss_mib"]
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, uvicorn "
        f"{m['uvicorn']}, uvloop {m['uvloop']}, httptools {m['httptools']}; {m['date']}, "
        f"revision {m['revision']}.",
        f"Loaded state: {size}, built {results.populate} in {results.populate_s:.1f} s.",
        "",
        f"| measurement | Propylon, empty | Propylon, {size} | raw ASGI baseline | target | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        f"| start-up to healthy, median of {len(empty.startup_s)} "
        f"| {empty.startup_median:.3f} s | {loaded.startup_median:.3f} s "
        f"| {base.startup_median:.3f} s | < 0.5 s | {met(startup_ok)} |",
        f"| its CPU time (user + system), median | {empty.cpu_median:.2f} s "
        f"| {loaded.cpu_median:.2f} s | {base.cpu_median:.2f} s | | |",
        f"| VmRSS idle | {_mib(empty.idle_median.rss_mib)} | {_mib(loaded.idle_median.rss_mib)} "
        f"| {_mib(base.idle_median.rss_mib)} | < 100 MiB | {met(rss_ok)} |",
        f"| VmHWM idle (peak of start-up) | {_mib(empty.idle_median.hwm_mib)} "
        f"| {_mib(loaded.idle_median.hwm_mib)} | {_mib(base.idle_median.hwm_mib)} | | |",
        f"| VmRSS after one request per API | | {_mib(loaded.after_requests.rss_mib)} "
        f"| {_mib(base.after_requests.rss_mib)} | < 100 MiB | |",
        f"| VmHWM after one request per API | | {_mib(loaded.after_requests.hwm_mib)} "
        f"| {_mib(base.after_requests.hwm_mib)} | | |",
        f"| VmRSS after {fmt(loaded.reads)} control-plane reads | "
        f"| {_mib(loaded.after_reads.rss_mib)} | | < 100 MiB | |",
        "",
        "Propylon/baseline: start-up "
        f"{empty.startup_median / base.startup_median:.1f}x empty, "
        f"{loaded.startup_median / base.startup_median:.1f}x loaded; VmRSS "
        f"{empty.idle_median.rss_mib / base.idle_median.rss_mib:.1f}x empty, "
        f"{loaded.after_requests.rss_mib / base.after_requests.rss_mib:.1f}x loaded "
        "after the requests. Loaded minus empty: "
        f"{loaded.after_requests.rss_mib - empty.idle_median.rss_mib:.1f} MiB, "
        f"{loaded.startup_median - empty.startup_median:.3f} s.",
        "Start-up samples (s): "
        + "; ".join(
            f"{name} " + ", ".join(f"{s:.3f}" for s in server.startup_s)
            for name, server in (("baseline", base), ("empty", empty), ("loaded", loaded))
        )
        + ".",
        "1-minute load average at start and end: "
        + ", ".join(f"{load:.2f}" for load in results.load_average)
        + " (start-up times grow with anything else running on these cores).",
    ]
    if results.populated_live is not None:
        lines.append(
            f"The server that created the APIs through the control plane, when done: VmRSS "
            f"{_mib(results.populated_live.rss_mib)}, VmHWM "
            f"{_mib(results.populated_live.hwm_mib)}."
        )
    return "\n".join(lines)


def summary(results: Results) -> dict[str, Any]:
    """The results as one JSON-ready dict, medians included."""
    document = asdict(results)
    for name in ("baseline", "empty", "loaded"):
        kind: Server = getattr(results, name)
        document[name]["startup_median_s"] = round(kind.startup_median, 4)
        document[name]["idle_median"] = asdict(kind.idle_median)
        document[name]["startup_s"] = [round(s, 4) for s in kind.startup_s]
        document[name]["startup_cpu_median_s"] = round(kind.cpu_median, 2)
    document["targets"] = TARGETS
    return document


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--apis", type=int, default=1000, help="APIs in the loaded state (1000)")
    parser.add_argument("--routes", type=int, default=10, help="routes per API (10)")
    parser.add_argument("--startups", type=int, default=5, help="start-up samples each (5)")
    parser.add_argument("--deployments", type=int, default=1, help="deployments kept per API (1)")
    parser.add_argument(
        "--via-api",
        action="store_true",
        help="create every API through the control plane (slow) instead of copying one",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if min(args.apis, args.startups, args.deployments) < 1 or args.routes < 3:
        print(
            "--apis, --startups, --deployments: at least 1; --routes: at least 3", file=sys.stderr
        )
        return 2
    stop_on_sigterm()
    compile_package()
    populate = "through the control plane" if args.via_api else "by copying one API's rows"
    results = Results(
        machine(packages=("uvicorn", "uvloop", "httptools", "botocore")),
        apis=args.apis,
        routes_per_api=args.routes,
        deployments_per_api=args.deployments,
        populate=populate,
        load_average=[os.getloadavg()[0]],
    )
    with tempfile.TemporaryDirectory(prefix="propylon-footprint-") as scratch:
        measure(args, results, Path(scratch))
    results.load_average.append(os.getloadavg()[0])
    document = summary(results)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
