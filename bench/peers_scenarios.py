"""The scenarios of `bench.peers`: what each peer is fed and which loads it gets.

* ``a``: the epx contract's stub path (``POST /jobs/register``, provider renamed ``EpistemixStub`` as in
  `bench.compare` scenario a.), single path, on pactmock, the bare granian app (answering the bytes pactmock
  answered), `pact stub`, WireMock and Mockoon.
* ``s-N``: the synthetic pact of N interactions (`tests.support.synthetic`), the single path (its middle
  interaction) and random paths (every interaction of the pact, drawn uniformly per request), on pactmock,
  `pact stub`, WireMock and Mockoon.
* ``post``: the stateful ``POST /runs`` of the epx contract (pactmock on SQLite and on PostgreSQL, after the
  provider state ``job 123 exists``), and the same body and headers to Mockoon's CRUD route and json-server's
  collection, both of which store it (Mockoon in memory; json-server rewrites its JSON file on every write).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import peers_servers as servers
from bench import peers_translate as translate
from bench.compare import EPX_PACT, HOST, JOB_123_STATE, REGISTER, STUB_PROVIDER, SUBMIT_RUN
from bench.peers_measure import Load, write_requests_file
from tests.support import synthetic
from tests.support.synthetic import Probe

RANDOM_CHECKS = 20  # requests of the random load each peer must answer 2xx before it is loaded


@dataclass
class Feed:
    """One scenario's files: the pact, what each peer reads, and the loads."""

    name: str
    title: str
    interactions: int
    folder: Path
    pact_file: Path
    loads: tuple[Load, ...]
    wiremock_root: Path
    mockoon_file: Path


def _interactions_of(pact: Mapping[str, Any]) -> Callable[[], Iterator[dict[str, Any]]]:
    return lambda: iter(pact.get("interactions", []))


def _synthetic_interactions(count: int) -> Callable[[], Iterator[dict[str, Any]]]:
    return lambda: (synthetic.interaction(i, count) for i in range(count))


def _probe(ex: translate.Exchange) -> Probe:
    return Probe(ex.method, ex.target, dict(ex.headers), ex.body_bytes(), "")


def _write_peer_files(folder: Path, interactions: Callable[[], Iterator[dict[str, Any]]]) -> tuple[Path, Path]:
    wiremock_root = folder / "wiremock"
    (wiremock_root / "mappings").mkdir(parents=True, exist_ok=True)
    with (wiremock_root / "mappings" / "pact.json").open("w", encoding="utf-8") as out:
        translate.write_wiremock_mappings(translate.exchanges(interactions()), out)
    routes = [translate.mockoon_stub_route(ex, i) for i, ex in enumerate(translate.exchanges(interactions()))]
    mockoon_file = folder / "mockoon.json"
    mockoon_file.write_text(json.dumps(translate.mockoon_environment(routes, 0, [])), encoding="utf-8")
    return wiremock_root, mockoon_file


def epx_stub(work: Path) -> Feed:
    folder = work / "a"
    folder.mkdir(parents=True, exist_ok=True)
    pact = json.loads(EPX_PACT.read_text(encoding="utf-8"))
    pact["provider"]["name"] = STUB_PROVIDER
    pact_file = folder / "pacts" / "epx-epistemixstub.json"
    pact_file.parent.mkdir(exist_ok=True)
    pact_file.write_text(json.dumps(pact, indent=2) + "\n", encoding="utf-8")
    wiremock_root, mockoon_file = _write_peer_files(folder, _interactions_of(pact))
    title = f"a. epx stub path, {REGISTER.method} {REGISTER.path}"
    count = len(pact["interactions"])
    return Feed("a", title, count, folder, pact_file, (Load("single", REGISTER),), wiremock_root, mockoon_file)


def synthetic_stub(work: Path, count: int) -> Feed:
    folder = work / f"s-{count}"
    pact_file = synthetic.write_pact(folder / "pacts", count)
    interactions = _synthetic_interactions(count)
    wiremock_root, mockoon_file = _write_peer_files(folder, interactions)
    every = list(translate.exchanges(interactions()))
    requests_file = folder / "random-requests.bin"
    write_requests_file(requests_file, [translate.raw_request(ex, HOST) for ex in every])
    step = max(1, len(every) // RANDOM_CHECKS)
    checks = tuple(_probe(ex) for ex in every[::step][:RANDOM_CHECKS])
    single = synthetic.probe(count)
    loads = (Load("single", single), Load("random", single, requests_file, checks))
    title = f"synthetic, {count:,} interactions"
    return Feed(f"s-{count}", title, count, folder, pact_file, loads, wiremock_root, mockoon_file)


@dataclass
class PostFeed:
    folder: Path
    mockoon_file: Path
    json_server_file: Path
    load: Load
    ready: Probe  # pactmock's: the provider state its POST /runs needs


def stateful_post(work: Path) -> PostFeed:
    folder = work / "post"
    folder.mkdir(parents=True, exist_ok=True)
    bucket = translate.mockoon_bucket("runs")
    environment = translate.mockoon_environment([translate.mockoon_crud_route("runs", bucket["uuid"])], 0, [bucket])
    mockoon_file = folder / "mockoon-crud.json"
    mockoon_file.write_text(json.dumps(environment), encoding="utf-8")
    json_server_file = folder / "json-server-db.json"
    json_server_file.write_text('{"runs": []}\n', encoding="utf-8")
    return PostFeed(folder, mockoon_file, json_server_file, Load("post", SUBMIT_RUN), JOB_123_STATE)


STUB_PEERS = (servers.PACTMOCK, servers.BARE, servers.BARE_RSGI, servers.STUB, servers.WIREMOCK, servers.MOCKOON)
POST_PEERS = ("pactmock SQLite", "pactmock PostgreSQL", servers.MOCKOON, servers.JSON_SERVER)
