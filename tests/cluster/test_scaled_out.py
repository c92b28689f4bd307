"""Scaled-out smoke test: PostgreSQL + Redis, one `runsimworker` process and two Daphne front
ends (`demo --no-worker`), all talking through the Redis channel layer."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.builders import MakePod
from tests.conftest import REPO, LiveServer, require_service, tcp_open, wait_until

POD = MakePod().name("scaled").container("nginx", name="main").manifest()


@pytest.fixture
def services_env():
    require_service("postgresql", tcp_open("127.0.0.1", 5432), "nothing listens on 127.0.0.1:5432")
    require_service("redis", tcp_open("127.0.0.1", 6379), "nothing listens on 127.0.0.1:6379")
    import psycopg

    suffix = uuid.uuid4().hex[:10]
    db = f"pilothouse_scaled_{suffix}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    env = {"PILOTHOUSE_DB": "postgres", "PILOTHOUSE_PG_NAME": db, "PILOTHOUSE_CHANNEL_LAYER": "redis",
           "PILOTHOUSE_REDIS_PREFIX": f"pilothouse-test-{suffix}"}
    yield env
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def pg_rows(db: str, sql: str, *params):
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port=5432 dbname={db} user=postgres") as conn:
        return conn.execute(sql, params).fetchall()


async def receive_frame_via_redis(prefix: str, timeout: float = 10.0) -> dict:
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:6379/0"], prefix=prefix)
    channel = await layer.new_channel()
    await layer.group_add("cluster.demo", channel)
    try:
        return await asyncio.wait_for(layer.receive(channel), timeout)
    finally:
        await layer.group_discard("cluster.demo", channel)
        await layer.flush()


def pages_see_the_same_frames(prefix: str, fronts: list[LiveServer], count: int = 8) -> None:
    import redis
    import websocket

    sockets = [websocket.create_connection(f"ws://127.0.0.1:{f.port}/clusters/demo/ws", origin=f.base, timeout=10)
               for f in fronts]
    try:
        states = [json.loads(ws.recv()) for ws in sockets]
        assert all(s["type"] == "cluster.state" for s in states)
        members = redis.Redis(host="127.0.0.1", port=6379).zcard(f"{prefix}:group:cluster.demo")
        assert members == len({f.port for f in fronts}), "one group member per front-end process"
        start = max(s["frame"] for s in states) + 1
        seen = []
        for ws, state in zip(sockets, states):
            last, got = state["frame"], {}
            while last < start + count:
                msg = json.loads(ws.recv())
                for frame in msg["frames"] if msg["type"] == "cluster.frames" else [msg]:  # sent together
                    n = frame["frame"]
                    if n <= last:
                        continue  # covered by the state
                    assert n == last + 1, f"a gap after frame {last}: {n}"
                    last, got[n] = n, frame
            seen.append({n: f for n, f in got.items() if start <= n <= start + count})
        assert all(s == seen[0] for s in seen)
    finally:
        for ws in sockets:
            ws.close()


def test_worker_and_two_front_ends_over_postgres_and_redis(services_env, tmp_path):
    front_a = LiveServer(tmp_path / "a", env=services_env, args=["--no-worker"])
    front_b = LiveServer(tmp_path / "b", env=services_env, args=["--no-worker"])
    front_a.manage("migrate", "--noinput")
    worker_log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "manage.py", "runsimworker"], cwd=REPO, env=front_a.env,
                              stdout=worker_log, stderr=subprocess.STDOUT)
    try:
        try:
            front_a.start()
            front_b.start()
        except RuntimeError as e:
            worker_log.flush()
            raise RuntimeError(f"{e}\n--- worker log ---\n{(tmp_path / 'worker.log').read_text()[-5000:]}") from None
        base_a, base_b = front_a.cluster_url("demo"), front_b.cluster_url("demo")
        wait_until(lambda: requests.get(f"{base_a}/api/v1/namespaces/default/serviceaccounts/default", timeout=5).status_code == 200,
                   timeout=20, message="default namespace")
        assert front_a.request("POST", "/clusters/demo/sim/v1/clock", {"speed": 50})[0] == 200
        r = requests.post(f"{base_a}/api/v1/namespaces/default/pods", json=POD, timeout=10)
        assert r.status_code == 201, r.text

        # Front end B sees what A created: the state lives in the worker, not in a front end.
        def running_via_b():
            pod = requests.get(f"{base_b}/api/v1/namespaces/default/pods/scaled", timeout=5).json()
            return pod.get("status", {}).get("phase") == "Running"

        wait_until(running_via_b, timeout=30, interval=0.2, message="pod Running, read through front end B")
        assert front_b.request("GET", "/clusters/demo/sim/v1/clock")[1]["speed"] == 50.0

        # Frames reach the cluster's group through Redis.
        message = asyncio.run(receive_frame_via_redis(services_env["PILOTHOUSE_REDIS_PREFIX"]))
        frame = json.loads(message["text"])  # encoded once by the worker (cluster/worker/frames.py)
        assert frame["type"] == "cluster.frame" and frame["cluster"] == "demo" and frame["frame"] == message["frame"]

        # Pages on both front ends: each front end is ONE member of the cluster's group however
        # many pages it serves (cluster/fanout.py), and every page gets every frame, the same text.
        pages_see_the_same_frames(services_env["PILOTHOUSE_REDIS_PREFIX"], [front_a, front_a, front_a, front_b,
                                                                            front_b, front_b])

        # The worker persists into PostgreSQL.
        db = services_env["PILOTHOUSE_PG_NAME"]
        wait_until(lambda: pg_rows(db, "SELECT count(*) FROM cluster_etcdentry WHERE key = %s",
                                   "/registry/pods/default/scaled")[0][0] > 0,
                   timeout=10, message="pod persisted in PostgreSQL")

        # Stay idle longer than channels_redis's 5 s BZPOPMIN: with redis-py 8's default 5 s
        # socket timeout every idle receive() used to die (channels_redis#422).  The idle
        # period is the condition under test, hence a plain sleep.
        time.sleep(7)
        status, clock = front_b.request("GET", "/clusters/demo/sim/v1/clock", timeout=15)
        assert status == 200 and clock["speed"] == 50.0

        # A restart of the worker keeps the history in PostgreSQL (its moments' pages as bytea,
        # the journal): the page can still go back to before the restart.
        status, before = front_a.request("GET", "/clusters/demo/sim/v1/history")
        assert status == 200 and before["moments"], before
        worker.send_signal(signal.SIGINT)
        assert worker.wait(20) == 0, (tmp_path / "worker.log").read_text()
        assert pg_rows(db, "SELECT count(*) FROM cluster_journalentry")[0][0] > 0
        worker = subprocess.Popen([sys.executable, "manage.py", "runsimworker"], cwd=REPO, env=front_a.env,
                                  stdout=worker_log, stderr=subprocess.STDOUT)

        def history_after_restart():
            status, after = front_a.request("GET", "/clusters/demo/sim/v1/history", timeout=5)
            return after if status == 200 and after.get("replayable") is False else None

        after = wait_until(history_after_restart, timeout=30, interval=0.2, message="the restarted worker's history")
        kept = {m["frame"] for m in after["moments"]}
        old = before["moments"][-1]
        assert old["frame"] in kept
        status, page = front_a.request("GET", f"/clusters/demo/sim/v1/history/frame-{old['frame']}?parts=snapshot")
        assert status == 200 and "scaled" in {p["name"] for n in page["snapshot"]["nodes"] for p in n["pods"]}
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            code = worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            code = None
        worker_log.close()
        stop_errors = []
        for front in (front_a, front_b):  # stop both even if one misbehaves
            try:
                front.stop()
            except RuntimeError as e:
                stop_errors.append(str(e))
    assert not stop_errors, stop_errors
    assert code == 0, (tmp_path / "worker.log").read_text()
    rows = pg_rows(services_env["PILOTHOUSE_PG_NAME"], "SELECT name, persisted_revision, speed FROM cluster_simcluster")
    assert rows[0][0] == "demo" and rows[0][1] > 0 and rows[0][2] == 50.0
