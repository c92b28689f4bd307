"""The outside world's client (kubectl, the dashboard, scripts) as a host on the network, so
its requests travel to the API server like anyone else's and show in the trace."""
from __future__ import annotations

from sim.component import Component, request_label

CLIENT_HOST = "client"
# What a request is marked with when it came through the page's kubectl console
# (cluster/console/): it travels from the console's own address, so the diagram can show which
# requests a student's command made.
VIA_CONSOLE = "console"


class ExternalClient(Component):
    component = "kubectl"

    def __init__(self):
        super().__init__(CLIENT_HOST)
        self.replies: dict[int, dict] = {}
        # Requests someone still waits for: a reply to one given up on is dropped, not kept.
        self.awaiting: set = set()
        self.next_id = 0

    def send_request(self, apiserver: str, req: dict) -> int:
        self.next_id += 1
        self.awaiting.add(self.next_id)
        self.send(apiserver, {"type": "api", "id": self.next_id, "req": req}, request_label(req))
        return self.next_id

    def send_etcd_put(self, member: str, key: str, value: str) -> str:
        self.next_id += 1
        rid = f"etcdctl-{self.next_id}"
        self.awaiting.add(rid)
        self.send(member, {"type": "etcd.txn", "id": rid, "key": key, "compare": "none", "value": value},
                  "etcdctl put")
        return rid

    def send_etcd_member_change(self, member: str, change: dict, label: str) -> str:
        """`etcdctl member add / promote / remove`: a ConfChange for `member` to propose;
        answered ("etcd.member.reply") once that member applied it."""
        self.next_id += 1
        rid = f"etcdctl-{self.next_id}"
        self.awaiting.add(rid)
        self.send(member, {"type": "etcd.member.change", "id": rid, "change": change}, label)
        return rid

    def take_reply(self, rid) -> dict | None:
        """The reply to request `rid` if it has come (handed out once)."""
        resp = self.replies.pop(rid, None)
        if resp is not None:
            self.awaiting.discard(rid)
        return resp

    def forget(self, rid) -> None:
        """Nobody waits for `rid` any more (it timed out): drop its reply if it comes."""
        self.awaiting.discard(rid)
        self.replies.pop(rid, None)

    def on_message(self, src: str, msg: dict) -> None:
        if msg.get("id") not in self.awaiting:
            return
        if msg.get("type") == "api.reply":
            self.replies[msg["id"]] = msg["resp"]
        elif msg.get("type") in ("etcd.txn.reply", "etcd.member.reply"):
            self.replies[msg["id"]] = msg


class ConsoleClient(ExternalClient):
    """The kubectl console in the page: the same outside client, at its own address
    (console@client), so its requests are told apart from every other client's as they travel.
    Same host, so the network treats it exactly like kubectl@client."""
    component = "console"
