"""Web (layer 4): Socket.IO's WebSocket connections written to by the thread that sends,
not by a writer thread per connection (DirectWebSocket).

Engine.IO's threading mode queues every packet for a thread of each connection's own,
which wakes, frames the packet and writes it: about 36 µs of the server's CPU for each
screen and message even when nothing else runs, ten times the write itself, and more with
requests contending for the interpreter. With twenty displays a command's delta cost the
nurse's next request more than the command did (bench_load). Here a connection opened as a
WebSocket is written to at once by whoever sends: a delta to a room is framed once
(`frame`, wsproto's framing) and the same bytes go to every screen.

A socket that cannot take the bytes without waiting (a screen that stopped reading) is
never waited for: what it did not take is kept, in order, and written by a thread of its
own (Channel); past BACKLOG_LIMIT the connection is dropped, and the screen's reconnect
and snapshot make up for what it missed. Everything written to the connection goes
through its Channel, simple-websocket's own frames (pongs, the close) included, so frames
never interleave. A connection upgraded from long-polling, or over TLS, keeps Engine.IO's
writer thread.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections import deque
from typing import Any

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from engineio.packet import Packet
from wsproto.frame_protocol import FrameProtocol

log = logging.getLogger(__name__)

SEND_BUFFER = 256 * 1024  # asked of the kernel for each WebSocket (it doubles it)
BACKLOG_LIMIT = 1024 * 1024  # bytes kept for a screen that does not read (some 600 deltas),
# then it is dropped: its reconnect's snapshot is shorter than what it missed


def frame(pkt: Packet) -> bytes:
    """The WebSocket frame of an Engine.IO packet, made once for every connection it goes
    to (python-socketio sends one packet object to each member of a room)."""
    made: bytes | None = getattr(pkt, "clinicq_frame", None)
    if made is None:
        # a server's frames are not masked; no extension (broadcast.Uncompressed)
        made = bytes(FrameProtocol(client=False, extensions=[]).send_data(pkt.encode()))
        pkt.clinicq_frame = made  # type: ignore[attr-defined]
    return made


class Channel:
    """One connection's bytes, written in order: at once while the socket takes them
    without waiting, else kept and written by a thread of the channel's own."""

    def __init__(self, sock: socket.socket, limit: int = BACKLOG_LIMIT) -> None:
        self._sock = sock
        self._limit = limit
        self._lock = threading.Condition(threading.Lock())
        self._kept: deque[bytes] = deque()
        self._kept_size = 0
        self._writing = False  # the channel's thread is writing what was kept
        self._thread: threading.Thread | None = None
        self.closed = False

    def write(self, data: bytes) -> None:
        with self._lock:
            if self.closed:
                return
            if not self._kept and not self._writing:
                try:
                    sent = self._sock.send(data, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    self._close()
                    return
                if sent == len(data):
                    return
                data = data[sent:]
            self._kept.append(data)
            self._kept_size += len(data)
            if self._kept_size > self._limit:
                log.warning("a screen at %s stopped reading; dropped %d kB behind (it "
                            "reconnects and takes a new snapshot)", _peer(self._sock),
                            self._kept_size // 1024)
                self._close()
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_kept, daemon=True,
                                                name="clinicq-websocket-backlog")
                self._thread.start()
            self._lock.notify()

    def _write_kept(self) -> None:
        while True:
            with self._lock:
                while not self._kept and not self.closed:
                    self._lock.wait()
                if self.closed:
                    return
                data = b"".join(self._kept)
                self._kept.clear()
                self._writing = True
            try:
                self._sock.sendall(data)  # waits for the screen, holding no lock
            except OSError:
                self.close()
                return
            with self._lock:
                if not self.closed:  # counted until written, so the limit holds
                    self._kept_size -= len(data)
                self._writing = False

    @property
    def kept(self) -> int:
        """Bytes the socket has not taken yet."""
        with self._lock:
            return self._kept_size

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        """Under the lock: nothing more is written; the socket is shut, so its reader and a
        write in progress end."""
        if self.closed:
            return
        self.closed = True
        self._kept.clear()
        self._kept_size = 0
        self._lock.notify()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _peer(sock: socket.socket) -> str:
    try:
        return str(sock.getpeername())
    except OSError:
        return "?"


class _ThroughChannel:
    """The socket simple-websocket writes its own frames to (its handshake is done by then):
    through the connection's Channel, in order with everything else."""

    def __init__(self, sock: socket.socket, channel: Channel) -> None:
        self._sock = sock
        self._channel = channel

    def send(self, data: bytes) -> int:
        self._channel.write(bytes(data))
        return len(data)

    def sendall(self, data: bytes) -> None:
        self._channel.write(bytes(data))

    def close(self) -> None:
        self._channel.close()
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class DirectWebSocket(SimpleWebSocketWSGI):  # type: ignore[misc]
    """Engine.IO's threading WebSocket driver, its connections written to directly."""

    def __init__(self, handler: Any, server: Any, **kw: Any) -> None:
        eio_socket = getattr(handler, "__self__", None)  # the handler is a Socket's method
        if eio_socket is not None and not eio_socket.connected:  # not an upgrade
            handler = _Direct(handler, eio_socket)
        super().__init__(handler, server, **kw)


class _Direct:
    """Runs Engine.IO's WebSocket handler with the connection's packets written through a
    Channel: what was queued before first (the OPEN packet), then each as it is sent."""

    def __init__(self, handler: Any, eio_socket: Any) -> None:
        self.handler = handler
        self.eio_socket = eio_socket

    def __call__(self, wrapper: DirectWebSocket) -> Any:
        ws = wrapper.ws
        sock = ws.sock
        if isinstance(sock, ssl.SSLSocket) or sock.gettimeout() is not None:
            return self.handler(wrapper)  # MSG_DONTWAIT needs a plain, blocking socket
        # the kernel keeps at most this much for the screen (it would grow it to megabytes
        # for one that stopped reading), the channel at most BACKLOG_LIMIT more
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        channel = Channel(sock)
        ws.sock = _ThroughChannel(sock, channel)
        eio = self.eio_socket
        eio.send = _sender(eio, channel)  # from here on, a send goes to the wire
        # then what was queued before; a send begun before the line above and queued after
        # this is written by Engine.IO's writer thread, through the channel all the same
        queue = eio.queue
        while not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is None:  # closed already: left for the writer thread, which ends
                queue.put(None)
                break
            channel.write(frame(pkt))
        try:
            return self.handler(wrapper)
        finally:
            channel.close()


def _sender(eio_socket: Any, channel: Channel) -> Any:
    """Engine.IO's Socket.send, to the channel instead of the writer thread's queue."""
    def send(pkt: Packet) -> None:
        if eio_socket.closed:
            return
        if eio_socket.check_ping_timeout():
            channel.write(frame(pkt))
    return send
