"""Socket.IO's WebSockets written to by the sender (server/web/wire.py): in order, never
waiting for a screen that stopped reading, bounded for one that never reads again."""

from __future__ import annotations

import json
import socket
import threading

import pytest
import requests
import socketio
from lean_socket import LeanSocket
from support import KIOSK, LiveServer, wait_until

from server.web.wire import Channel

CHUNK = 1024


def numbered(i: int) -> bytes:
    return f"{i:08d}".encode().ljust(CHUNK, b".")


def read_all(sock: socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        data = sock.recv(65536)
        if not data:
            break
        got += data
    return bytes(got)


def write_from_a_thread(channel: Channel, chunks: list[bytes]) -> None:
    """The writes of a sender; asserts they all returned though nobody read."""
    writer = threading.Thread(target=lambda: [channel.write(c) for c in chunks])
    writer.start()
    writer.join(timeout=20)
    assert not writer.is_alive(), "a write waited for the reader"


def test_a_socket_that_is_not_read_never_holds_up_the_writer_and_loses_no_byte() -> None:
    ours, theirs = socket.socketpair()
    try:
        channel = Channel(ours)
        chunks = [numbered(i) for i in range(800)]  # far more than the socket holds
        write_from_a_thread(channel, chunks)
        assert channel.kept > 0  # what the socket did not take is kept, not waited for
        assert read_all(theirs, len(chunks) * CHUNK) == b"".join(chunks)
        wait_until(lambda: channel.kept == 0, 10, what="the kept bytes written")
        channel.write(b"after")  # at once again, behind the rest
        assert read_all(theirs, 5) == b"after"
    finally:
        ours.close()
        theirs.close()


class GatedSocket:
    """A socket whose `send` without waiting takes `room` bytes, and whose waiting `sendall`
    goes through only once `gate` is set; records what reached the wire, in order."""

    def __init__(self) -> None:
        self.room = 0
        self.wire = bytearray()
        self.gate = threading.Event()
        self.waiting = threading.Event()  # a sendall is held at the gate

    def send(self, data: bytes, flags: int = 0) -> int:
        assert flags & socket.MSG_DONTWAIT
        if self.room == 0:
            raise BlockingIOError
        taken = min(self.room, len(data))
        self.room -= taken
        self.wire += data[:taken]
        return taken

    def sendall(self, data: bytes) -> None:
        self.waiting.set()
        assert self.gate.wait(10)
        self.wire += data

    def shutdown(self, how: int) -> None:
        pass

    def getpeername(self) -> str:
        return "gated"


def test_what_was_kept_goes_before_anything_written_later() -> None:
    """Room frees while the channel's thread still writes what the socket did not take: a
    later write must queue behind it, not slip onto the wire first."""
    fake = GatedSocket()
    fake.room = 3
    channel = Channel(fake)  # type: ignore[arg-type]
    channel.write(b"AAAAA")  # "AAA" taken, "AA" kept and handed to the thread
    assert fake.waiting.wait(10)
    fake.room = 100
    channel.write(b"BB")
    fake.gate.set()
    wait_until(lambda: channel.kept == 0, 10, what="the kept bytes written")
    channel.write(b"C")  # the thread is done: at once again
    assert bytes(fake.wire) == b"AAAAABBC"
    channel.close()


def test_a_socket_far_behind_is_shut_and_written_no_more() -> None:
    ours, theirs = socket.socketpair()
    try:
        channel = Channel(ours, limit=256 * CHUNK)
        write_from_a_thread(channel, [numbered(i) for i in range(2000)])
        assert channel.closed and channel.kept == 0
        got = read_all(theirs, 10**9)  # what was sent before, then the end of the stream
        assert len(got) < 2000 * CHUNK and got == b"".join(
            numbered(i) for i in range(len(got) // CHUNK))[:len(got)]
        channel.write(b"more")  # dropped, no error
    finally:
        ours.close()
        theirs.close()


def test_a_broken_socket_closes_its_channel() -> None:
    ours, theirs = socket.socketpair()
    theirs.close()
    try:
        channel = Channel(ours)
        channel.write(b"x")
        assert channel.closed
    finally:
        ours.close()


def _deltas(display: LeanSocket, wanted: int, seqs: list[int] | None = None) -> list[int]:
    """The seq of each `event` delta read (appended to `seqs` as they come), until `wanted`
    of them or the end of the connection."""
    seqs = [] if seqs is None else seqs
    while len(seqs) < wanted and not display.closed:
        for message in display.read():
            if message.startswith('42["event"'):
                seqs.append(json.loads(message[2:])[1]["seq"])
    return seqs


def test_a_display_that_stops_reading_holds_up_no_one_and_gets_every_frame_after(
        live_server: LiveServer) -> None:
    """The stalled display's small receive buffer fills within a few deltas, and the server's
    send buffer soon after: the rest is kept for it while the other display gets each delta.
    When it reads again every frame is whole (wsproto would fail on a torn one) and in seq
    order."""
    stalled = LeanSocket(live_server.url, "demo-display-token", deflate=False, rcvbuf=4096)
    reading = LeanSocket(live_server.url, "demo-display-token", deflate=False)
    try:
        commands = 300
        got: list[int] = []
        reader = threading.Thread(target=lambda: got.extend(_deltas(reading, commands)))
        reader.start()
        with requests.Session() as kiosk:
            for _ in range(commands):
                answer = kiosk.post(f"{live_server.url}/api/v1/tickets", json={"service": "A"},
                                    headers=KIOSK, timeout=10)
                assert answer.status_code == 201, answer.text
        reader.join(timeout=30)
        assert got == list(range(1, commands + 1))
        assert _deltas(stalled, commands) == list(range(1, commands + 1))
    finally:
        stalled.close()
        reading.close()


def test_a_display_that_never_reads_again_is_dropped_once_far_behind(
        live_server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    """Not kept for ever (Engine.IO's own writer would queue for it without end): past
    BACKLOG_LIMIT the server shuts the connection; what it sent before is whole and in order,
    and the display that reads got every delta."""
    stalled = LeanSocket(live_server.url, "demo-display-token", deflate=False, rcvbuf=4096)
    reading = LeanSocket(live_server.url, "demo-display-token", deflate=False)
    got: list[int] = []
    reader = threading.Thread(target=_deltas, args=(reading, 10**9, got), daemon=True)
    reader.start()
    try:
        sent = 0
        with requests.Session() as kiosk:
            # a delta is about 1.5 kB: the limit and the kernel's buffers go in under 2,000
            while "stopped reading" not in caplog.text and sent < 3000:
                answer = kiosk.post(f"{live_server.url}/api/v1/tickets", json={"service": "A"},
                                    headers=KIOSK, timeout=10)
                assert answer.status_code == 201, answer.text
                sent += 1
        assert "stopped reading" in caplog.text, f"still kept after {sent} deltas"
        wait_until(lambda: len(got) == sent, 20, what="every delta at the reading display")
        assert got == list(range(1, sent + 1))
        before = _deltas(stalled, sent)
        assert stalled.closed and 0 < len(before) < sent
        assert before == list(range(1, len(before) + 1))
    finally:
        stalled.close()
        reading.close()
        reader.join(timeout=10)


def test_a_client_that_upgrades_from_long_polling_keeps_engineio_s_writer(
        live_server: LiveServer) -> None:
    """As the kiosk agent connects by default: polling first, then the upgrade; its deltas
    arrive through Engine.IO's own path."""
    events: list[int] = []
    client = socketio.Client(reconnection=False)
    client.on("event", lambda data: events.append(data["seq"]))
    client.connect(live_server.url, auth={"token": "demo-display-token"}, wait_timeout=5)
    try:
        wait_until(lambda: client.transport() == "websocket", 10, what="the upgrade")
        for _ in range(3):
            requests.post(f"{live_server.url}/api/v1/tickets", json={"service": "A"},
                          headers=KIOSK, timeout=10)
        wait_until(lambda: events == [1, 2, 3], 10, what="the three deltas")
    finally:
        client.disconnect()
