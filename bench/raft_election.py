"""Time from a leader crash to a new leader: the Raft paper's §9.3 / Figure 16 experiment, and etcd's
defaults, run on the engine's Raft core (sim/etcd/raft.py) in virtual time.

Prints one line per setting:
  setting=<name> trials=<n> min_ms=<x> median_ms=<x> p90_ms=<x> p99_ms=<x> max_ms=<x> multi_round=<share>
and comment lines (starting with '#') describing the model.

The measured time runs from the crash to the moment every surviving server has received the new
leader's first heartbeat (AppendEntries), as the benchmark behind Figure 16 measured it (Ongaro's
thesis, chapter 9, "How fast will the complete Raft algorithm elect a leader in real networks?",
which also gives the paper's 15 ms as "broadcast time (network round trip plus disk write)").
`multi_round` is the share of trials that needed more than one election round, i.e. had to wait
for another election timeout (the steps in Figure 16): the winner did not win with the first
campaign of the election timer it had when the leader crashed (it campaigned before and failed,
or its timer was re-armed by granting a vote to a failed candidate or, under etcd's rule, by
seeing a higher term).  A candidate that cannot win and whose attempt costs nobody a timeout
does not make a trial multi-round.

The model (virtual microseconds, a heap of events; no wall clock):
- Network: one-way delay uniform in [0.25, 0.75] ms per message.  Disk: a write that must be
  synced (new entries, or a changed term or vote: etcd's raft.MustSync) takes 14 ms, during
  which the server handles nothing else; a follower or candidate sends the messages of that
  Ready only after the write (a vote must not outrun its fsync), a leader sends in parallel with
  its write (etcd: etcdserver/raft.go sends before saving when leader).  So a RequestVote or
  AppendEntries round trip, the paper's "broadcast time (network round trip plus disk write)",
  is about 15 ms, the figure the paper states for its cluster.
- Who waits for the disk before sending: a voter always persists its vote before answering.  For
  the paper settings a candidate sends its RequestVotes in parallel with its own term/vote
  write (votes_before_sync); the paper's figures need that: with etcd's order (a candidate
  fsyncs before its RequestVotes go out) every server whose timer fires within ~15 ms of the
  first one campaigns too, and 150-155 ms timeouts split votes for seconds instead of the
  paper's 287 ms median (run with --etcd-ordering to see it).  etcd-default uses etcd's order.
- Timers fire up to 50 us late (Linux's default timer slack), the only jitter besides the
  network's.
- Paper settings (`paper-<lo>-<hi>`): 5 servers; election timeouts drawn uniformly in [lo, hi] ms
  in continuous time (1 us ticks); heartbeat every lo/2 ms; no pre-vote, no check-quorum (the
  paper's Raft had neither); the paper's Figure 2 timer rule (a follower's timer restarts only on
  hearing from the leader or granting a vote, as in LogCabin, not on seeing a higher term as in
  etcd); two of the four survivors have shorter logs and cannot win, as in the paper ("the
  servers in each trial had different log lengths").  1,000 trials (100 for 150-150), each trial
  capped at CAP_MS; a capped trial counts as CAP_MS and is reported on a '#' line.
- `etcd-default`: 3 members, etcd's tick model: 100 ms ticks (--heartbeat-interval), election
  timeout 10 ticks (--election-timeout 1000 ms) randomized over [10, 20) ticks, heartbeat every
  tick, pre-vote and check-quorum on, each member's ticker at its own random phase; equal logs.
In every trial the leader is crashed at a uniformly random point of its heartbeat interval
(after a warm-up of steady heartbeats).
"""
from __future__ import annotations

import heapq
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.etcd.raft import (Config, Entry, HardState, MemoryStorage, Message, MsgApp,  # noqa: E402
                           MsgHeartbeat, MsgHup, MsgPreVote, MsgVote, RawNode, StateLeader)

NET_MIN_US, NET_MAX_US = 250, 750
DISK_US = 14_000
TIMER_SLACK_US = 50
CAP_MS = 10_000


class NoLeader(Exception):
    """The cluster never settled on a leader to crash (the timing requirement is violated)."""


class Trial:
    def __init__(self, rng: random.Random, n: int, tick_us: int, election_tick: int,
                 heartbeat_tick: int, timeout_fn, pre_vote: bool, check_quorum: bool,
                 paper_timer_rule: bool, short_logs: int, votes_before_sync: bool):
        self.rng = rng
        self.tick_us = tick_us
        self.ids = [f"s{i}" for i in range(1, n + 1)]
        self.nodes: dict[str, RawNode | None] = {}
        self.phase = {i: rng.randrange(tick_us) if tick_us > 1 else 0 for i in self.ids}
        self.ticks_done = {i: 0 for i in self.ids}
        self.gen = {i: 0 for i in self.ids}
        self.busy_until = {i: 0 for i in self.ids}
        self.synced = {i: HardState() for i in self.ids}
        self.queue: list = []
        self.seq = 0
        self.now = 0
        self.block_entries_to: set[str] = set()
        # measurement state
        self.crashed: str | None = None
        self.old_term = 0
        self.heard: dict[str, int] = {}
        self.end: int | None = None
        self.campaigns = {i: 0 for i in self.ids}
        self.first_campaign: dict[str, int] = {}
        self.deadline: dict[str, int] = {}  # each survivor's election timer when the leader crashed
        self.winner: str | None = None
        self.pre_vote = pre_vote
        self.votes_before_sync = votes_before_sync
        for k, i in enumerate(self.ids):
            st = MemoryStorage()
            # Everyone has entry 1; the first n - short_logs servers also have entry 2, so the
            # last `short_logs` ones are not eligible once the leader commits more (§5.4.1).
            full = k < n - short_logs
            st.entries = [Entry(1, 1, "a")] + ([Entry(1, 2, "b")] if full else [])
            st.hard_state = HardState(1, None, 1)
            self.synced[i] = st.hard_state
            cfg = Config(id=i, peers=self.ids, election_tick=election_tick,
                         heartbeat_tick=heartbeat_tick, pre_vote=pre_vote,
                         check_quorum=check_quorum, rng=random.Random(rng.random()),
                         election_timeout_fn=timeout_fn,
                         reset_timer_on_step_down=not paper_timer_rule)
            self.nodes[i] = RawNode(cfg, st)
            if not full:
                self.block_entries_to.add(i)

    # -- events ---------------------------------------------------------------------------------------
    def push(self, when: int, kind: str, node: str, data) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, kind, node, data))

    def schedule_timer(self, i: str) -> None:
        node = self.nodes[i]
        if node is None:
            return
        self.gen[i] += 1
        due_tick = self.ticks_done[i] + node.ticks_until_due()
        when = self.phase[i] + due_tick * self.tick_us
        slack = self.rng.randrange(TIMER_SLACK_US + 1) if self.tick_us == 1 else 0
        self.push(when + slack, "timer", i, (self.gen[i], slack))

    def catch_up(self, i: str, t: int) -> None:
        # Ticks are applied lazily; a timer event is scheduled at every due tick, so catching up
        # never skips over a timer that should already have fired.
        k = (t - self.phase[i]) // self.tick_us - self.ticks_done[i]
        if k > 0:
            self.ticks_done[i] += k
            self.nodes[i].tick(k)

    def handle(self, i: str, t: int) -> None:
        node = self.nodes[i]
        while node.has_ready():
            rd = node.ready()
            hs = rd.hard_state
            must_sync = bool(rd.entries) or (hs is not None and (hs.term, hs.vote) != (
                self.synced[i].term, self.synced[i].vote))
            node.storage.apply_ready(rd)
            if hs is not None:
                self.synced[i] = hs
            done = t + (DISK_US if must_sync else 0)
            if must_sync:
                self.busy_until[i] = max(self.busy_until[i], done)
            vote_type = MsgPreVote if self.pre_vote else MsgVote
            # A leader sends in parallel with its write (etcd, thesis §10.2.1); so does a
            # candidate its RequestVotes when votes_before_sync (see the module docstring).
            early = node.state == StateLeader or (
                self.votes_before_sync and any(m.type == MsgVote for m in rd.messages))
            send_at = t if early else done
            if any(m.type == vote_type for m in rd.messages):
                if self.crashed is not None and self.end is None:
                    self.campaigns[i] += 1
                    self.first_campaign.setdefault(i, t)
            for m in rd.messages:
                if self.nodes.get(m.to) is None:
                    continue
                if m.to in self.block_entries_to and m.type == MsgApp and m.entries:
                    continue  # keep the short logs short until the crash
                self.push(send_at + self.rng.randint(NET_MIN_US, NET_MAX_US), "msg", m.to, m)
            node.advance(rd)

    def on_event(self, when: int, kind: str, i: str, data) -> None:
        node = self.nodes[i]
        if node is None:
            return
        if kind == "timer" and data[0] != self.gen[i]:
            return
        if when < self.busy_until[i]:
            if kind == "timer":  # the server is writing to disk: its timer fires late
                data = (data[0], data[1] + self.busy_until[i] - when)
            self.push(self.busy_until[i], kind, i, data)
            return
        if kind == "timer":
            # A late timer shifts this server's clock: its next timeout counts from now, as a
            # real timer re-armed from the time it actually fired does.
            self.phase[i] += data[1]
        self.catch_up(i, when)
        if kind == "msg":
            m: Message = data
            if (self.crashed is not None and self.end is None and m.type in (MsgApp, MsgHeartbeat)
                    and m.term > self.old_term and i not in self.heard):
                self.heard[i] = when
                self.winner = m.frm
                # every survivor but the new leader itself has heard from it
                if len(self.heard) == sum(1 for n in self.nodes.values() if n is not None) - 1:
                    self.end = when
            node.step(m)
        elif kind == "hup":
            node.step(Message(MsgHup, frm=i))
        self.handle(i, when)
        self.schedule_timer(i)

    def run_until(self, t_end: int, stop=None) -> None:
        while self.queue and self.queue[0][0] <= t_end:
            when, _, kind, i, data = heapq.heappop(self.queue)
            self.now = when
            self.on_event(when, kind, i, data)
            if stop is not None and stop():
                return
        self.now = max(self.now, t_end)

    def leader(self) -> str | None:
        for i in self.ids:
            n = self.nodes[i]
            if n is not None and n.state == StateLeader:
                return i
        return None

    def run(self, warmup_us: int, heartbeat_us: int, cap_us: int) -> tuple[int, bool]:
        for i in self.ids:
            self.schedule_timer(i)
        self.push(0, "hup", self.ids[0], None)  # s1 (a long log) campaigns at once
        self.run_until(warmup_us)
        for _ in range(1000):  # with very short timeouts leadership may churn: wait for a leader
            crash_at = self.now + self.rng.randrange(heartbeat_us)
            self.run_until(crash_at)
            lead = self.leader()
            if lead is not None:
                break
        else:
            raise NoLeader("no leader to crash")
        assert lead not in self.block_entries_to, "a short log cannot lead"
        self.crashed = lead
        self.old_term = self.nodes[lead].term
        self.nodes[lead] = None
        for i in self.ids:
            n = self.nodes[i]
            if n is not None:
                self.deadline[i] = self.phase[i] + (self.ticks_done[i] + n.ticks_until_due()) * self.tick_us
        self.block_entries_to = set()
        self.run_until(crash_at + cap_us, stop=lambda: self.end is not None)
        if self.end is None:
            return cap_us, True  # multi-round by any definition
        w = self.winner
        # Its first campaign came from the timer it had at the crash (allowing for timer slack,
        # a disk write delaying the event, and one tick).
        on_time = self.first_campaign.get(w, 1 << 62) <= (
            self.deadline[w] + TIMER_SLACK_US + DISK_US + self.tick_us)
        multi = not (self.campaigns[w] == 1 and on_time)
        return self.end - crash_at, multi


def paper_setting(lo: int, hi: int, votes_before_sync: bool = True):
    def timeout(r: random.Random) -> int:
        return int(round(r.uniform(lo * 1000, hi * 1000)))
    hb_us = lo * 1000 // 2
    return dict(n=5, tick_us=1, election_tick=lo * 1000, heartbeat_tick=hb_us, timeout_fn=timeout,
                pre_vote=False, check_quorum=False, paper_timer_rule=True, short_logs=2,
                votes_before_sync=votes_before_sync), hb_us, hi


def etcd_setting():
    return dict(n=3, tick_us=100_000, election_tick=10, heartbeat_tick=1, timeout_fn=None,
                pre_vote=True, check_quorum=True, paper_timer_rule=False, short_logs=0,
                votes_before_sync=False), 100_000, 2000


def measure(name: str, kw: dict, hb_us: int, max_timeout_ms: int, trials: int, seed: int) -> None:
    rng = random.Random(seed)
    times, multi, capped = [], 0, 0
    for _ in range(trials):
        t = Trial(random.Random(rng.random()), **kw)
        try:
            us, m = t.run(warmup_us=3 * max_timeout_ms * 1000, heartbeat_us=hb_us,
                          cap_us=CAP_MS * 1000)
        except NoLeader:
            print(f"# {name}: no stable leader emerged to crash (after {len(times)} trials); "
                  f"the timing requirement broadcastTime << electionTimeout fails here", flush=True)
            return
        times.append(us / 1000)
        if us >= CAP_MS * 1000:
            capped += 1
        multi += m  # a capped trial counts as multi-round
    times.sort()

    def pct(p):
        return times[min(len(times) - 1, int(p * len(times)))]

    print(f"setting={name} trials={trials} min_ms={times[0]:.1f} median_ms={statistics.median(times):.1f} "
          f"p90_ms={pct(0.90):.1f} p99_ms={pct(0.99):.1f} max_ms={times[-1]:.1f} "
          f"multi_round={multi / trials:.3f}", flush=True)
    if capped:
        print(f"# {name}: {capped} of {trials} trials had no leader after {CAP_MS} ms "
              f"(counted as {CAP_MS} ms and as multi-round)", flush=True)


def main() -> None:
    global DISK_US, NET_MIN_US, NET_MAX_US
    quick = "--quick" in sys.argv            # 100 trials per setting
    for a in sys.argv[1:]:                   # sensitivity: --disk-ms=X, --net-ms=X (mean one-way)
        if a.startswith("--disk-ms="):
            DISK_US = int(float(a.split("=")[1]) * 1000)
        elif a.startswith("--net-ms="):
            mean = float(a.split("=")[1]) * 1000
            NET_MIN_US, NET_MAX_US = int(mean / 2), int(mean * 1.5)
    etcd_ordering = "--etcd-ordering" in sys.argv  # paper settings with etcd's fsync-then-send
    t0 = time.perf_counter()
    print(f"# model: one-way network delay U[{NET_MIN_US / 1000}, {NET_MAX_US / 1000}] ms, disk sync "
          f"{DISK_US / 1000} ms (broadcast time ~{(DISK_US + NET_MIN_US + NET_MAX_US) / 1000} ms), "
          f"timer slack {TIMER_SLACK_US} us; paper-*: 5 servers, no pre-vote, no check-quorum; "
          f"etcd-default: 3 members, pre-vote and check-quorum on"
          + ("; paper-* with etcd's fsync-before-RequestVote order" if etcd_ordering else ""))
    n = 100 if quick else 1000
    for k, (lo, hi) in enumerate([(150, 150), (150, 151), (150, 155), (150, 175), (150, 200),
                                  (150, 300), (12, 24), (25, 50), (50, 100), (100, 200)]):
        kw, hb, mx = paper_setting(lo, hi, votes_before_sync=not etcd_ordering)
        trials = min(n, 100) if (lo, hi) == (150, 150) else n
        measure(f"paper-{lo}-{hi}", kw, hb, mx, trials, seed=1000 + k)
    kw, hb, mx = etcd_setting()
    measure("etcd-default", kw, hb, mx, n, seed=2000)
    print(f"# wall {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
