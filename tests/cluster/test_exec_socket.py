"""The exec WebSocket's door: kubectl (no Origin header) may open it, a page of another site may
not, and a client that offers no remotecommand subprotocol is refused."""
from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PATH = "/clusters/demo/api/v1/namespaces/default/pods/web/exec?command=env&stdout=true"


async def test_another_site_s_page_cannot_open_an_exec_socket():
    ws = WebsocketCommunicator(application, PATH, headers=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1")],
                               subprotocols=["v5.channel.k8s.io"])
    connected, _ = await ws.connect()
    assert not connected
    await ws.disconnect()


async def test_a_client_without_a_remotecommand_subprotocol_is_refused():
    ws = WebsocketCommunicator(application, PATH, headers=[(b"host", b"127.0.0.1")], subprotocols=["chat"])
    connected, _ = await ws.connect()
    assert not connected
    await ws.disconnect()
