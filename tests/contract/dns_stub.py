"""A DNS server for one test: every A question under ``.test`` answers 127.0.0.1, everything
else is an empty answer (NOERROR, no records). UDP, on a loopback address of the caller's choice."""

from __future__ import annotations

import socket
import struct
import threading
from typing import List


class DnsStub:
    """Serves from a thread until :meth:`close`; ``questions`` lists the names asked."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 53))
        self.sock.settimeout(0.1)
        self.questions: List[str] = []
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                query, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            ident, _flags, qdcount = struct.unpack(">HHH", query[:6])
            if qdcount != 1:
                continue
            labels, i = [], 12
            while query[i]:
                labels.append(query[i + 1 : i + 1 + query[i]].decode())
                i += 1 + query[i]
            qtype = struct.unpack(">H", query[i + 1 : i + 3])[0]
            question = query[12 : i + 5]
            name = ".".join(labels)
            self.questions.append(name)
            answer = b""
            if qtype == 1 and name.endswith(".test"):
                answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + socket.inet_aton("127.0.0.1")
            header = struct.pack(">HHHHHH", ident, 0x8180, 1, 1 if answer else 0, 0, 0)
            self.sock.sendto(header + question + answer, peer)

    def close(self) -> None:
        self._closed = True
        self._thread.join()
        self.sock.close()
