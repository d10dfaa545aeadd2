"""A Trino coordinator on loopback that takes a query and then hangs: it answers each statement
POST with a queued status (so the client holds a query to cancel) and never answers anything
else, the cancel's DELETE included, until it is closed. It records what it was asked."""

from __future__ import annotations

import json
import socket
import threading

_PROBE = b"EXECUTE IMMEDIATE 'SELECT 1'"  # the driver's check for EXECUTE IMMEDIATE: answered at once


class HangingTrino:
    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.methods: list[str] = []
        self.cancel_arrived = threading.Event()  # a DELETE (the driver's cancel) reached the server
        self.cancel_dropped = threading.Event()  # ... and the client gave up waiting for its answer
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"trino://analyst@127.0.0.1:{self.port}/hive/sales"

    def posts(self) -> int:
        with self._lock:
            return self.methods.count("POST")

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self._held.append(conn)
        data = b""
        while True:  # a keep-alive connection carries one request after another
            while b"\r\n\r\n" not in data:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(data) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            body, data = data[:length], data[length:]
            method = head.split(b" ", 1)[0].decode()
            with self._lock:
                self.methods.append(method)
            if method == "DELETE":
                self.cancel_arrived.set()
            if method != "POST":  # held open, never answered, until the client drops it
                _wait_closed(conn)
                if method == "DELETE":
                    self.cancel_dropped.set()
                return
            self._answer(conn, body)

    def _answer(self, conn: socket.socket, body: bytes) -> None:
        if body.strip() == _PROBE:
            status = {"id": "probe", "columns": [{"name": "_col0", "type": "integer"}], "data": [[1]],
                      "stats": {"state": "FINISHED"}}
        else:
            status = {"id": "q1", "infoUri": f"http://127.0.0.1:{self.port}/ui/q1",
                      "nextUri": f"http://127.0.0.1:{self.port}/v1/statement/executing/q1/t/1",
                      "stats": {"state": "QUEUED"}}
        payload = json.dumps(status).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(payload), payload))

    def close(self) -> None:
        """Stop listening and drop every held connection, so stuck driver calls return."""
        self._sock.close()
        with self._lock:
            held, self._held = self._held, []
        for conn in held:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()


def _wait_closed(conn: socket.socket) -> None:
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
