"""The stage address: a small streaming HTTP reverse proxy in front of a stage app's instance.

A program of its own, run detached by a runtime::

    python -m oneclick.runtimes.proxy (--fd N | --listen HOST:PORT) --route FILE [--upstream URL]
    python -m oneclick.runtimes.proxy --route FILE --switch-to URL

It serves HTTP/1.1 (uvicorn) on the listening socket its parent bound and passed as ``--fd``
(so the stage's port is never lost between a check and a bind, and clients that connect
while it starts wait in the socket's backlog) or on ``HOST:PORT`` it binds itself. Every
request goes to the instance ``FILE`` names: a JSON object whose ``url`` is the instance's
``http://HOST:PORT`` (the local runtime's instance record, or the route file the docker
runtime writes into the proxy's container). The file is read for every request, so the
switch to a new instance is the atomic replacement of that file: each request that starts
after it reaches the new instance, those in flight finish on the old one. ``--upstream``
writes ``FILE`` at start when it is missing; ``--switch-to`` only writes it, and exits. No
route: 503; the instance does not answer: 502.

Bodies stream both ways, never held whole in memory; each request opens its own connection
to the instance (h11 does the HTTP/1.1 framing), so the connections clients keep to the
proxy outlive every instance. Hop-by-hop headers are dropped, ``X-Forwarded-For`` and
``X-Forwarded-Proto`` are set, and nothing is logged per request. The module imports only
the standard library, uvicorn and h11: an app's image holds all three, so the docker
runtime runs this same source (``python -c``) in a container made from the app's image.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import h11

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CHUNK = 64 * 1024
CONNECT_TIMEOUT = 5.0
HOP_BY_HOP = frozenset(
    (
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    )
)


def read_route(path: str) -> tuple[str, int] | None:
    """(host, port) of the instance the route file names; None without one."""
    try:
        with open(path, encoding="utf-8") as handle:
            parts = urlsplit(str(json.load(handle)["url"]))
        host, port = parts.hostname, parts.port
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (host, port) if host and port else None


def write_route(path: str, url: str) -> None:
    """Point the route file at ``url`` atomically (write a temporary file, then rename)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"url": url}, handle)
    os.replace(temporary, path)


def _forwarded(headers: list[tuple[bytes, bytes]]) -> set[bytes]:
    """Hop-by-hop names: the fixed ones and those a ``Connection`` header lists."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return set(HOP_BY_HOP) | named


def request_headers(scope: Message, target: tuple[str, int]) -> list[tuple[bytes, bytes]]:
    """The client's headers for the instance: end-to-end ones, framing, forwarding."""
    received = [(bytes(n).lower(), bytes(v)) for n, v in scope["headers"]]
    dropped = _forwarded(received) | {b"x-forwarded-proto"}
    headers = [(n, v) for n, v in received if n not in dropped]
    names = {name for name, _ in headers}
    if b"host" not in names:
        headers.append((b"host", f"{target[0]}:{target[1]}".encode()))
    chunked = any(n == b"transfer-encoding" for n, _ in received)
    if chunked and b"content-length" not in names:
        headers.append((b"transfer-encoding", b"chunked"))
    client = scope.get("client")
    if client:
        earlier = [v for n, v in headers if n == b"x-forwarded-for"]
        chain = b", ".join([*earlier, str(client[0]).encode()])
        headers = [(n, v) for n, v in headers if n != b"x-forwarded-for"]
        headers.append((b"x-forwarded-for", chain))
    headers.append((b"x-forwarded-proto", str(scope.get("scheme", "http")).encode()))
    headers.append((b"connection", b"close"))
    return headers


def response_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    dropped = _forwarded(headers)
    return [(bytes(n), bytes(v)) for n, v in headers if bytes(n).lower() not in dropped]


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Proxy:
    """The ASGI app: each request to the instance the route file names now."""

    def __init__(self, route: str) -> None:
        self.route = route

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        target = read_route(self.route)
        if target is None:
            await _answer(send, 503, "no release of this app serves this stage yet\n")
            return
        try:
            opened = asyncio.open_connection(*target)
            reader, writer = await asyncio.wait_for(opened, CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            await _answer(send, 502, "the stage's instance does not answer\n")
            return
        try:
            await _exchange(scope, receive, send, (reader, writer), target)
        finally:
            writer.close()


async def _exchange(
    scope: Message,
    receive: Receive,
    send: Send,
    stream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    target: tuple[str, int],
) -> None:
    """Send the request to the instance, streaming its body; stream the answer back."""
    reader, writer = stream
    upstream = h11.Connection(h11.CLIENT)
    path = scope.get("raw_path") or scope["path"].encode()
    if scope.get("query_string"):
        path += b"?" + scope["query_string"]
    head = h11.Request(method=scope["method"], target=path, headers=request_headers(scope, target))
    writer.write(upstream.send(head) or b"")
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if message.get("body"):
            writer.write(upstream.send(h11.Data(data=message["body"])) or b"")
            await writer.drain()
        more = bool(message.get("more_body"))
    writer.write(upstream.send(h11.EndOfMessage()) or b"")
    await writer.drain()
    started = False
    try:
        while True:
            event = upstream.next_event()
            if event is h11.NEED_DATA:
                upstream.receive_data(await reader.read(CHUNK))
            elif isinstance(event, h11.Response):
                headers = response_headers(list(event.headers))
                start = {"type": "http.response.start", "status": event.status_code}
                await send({**start, "headers": headers})
                started = True
            elif isinstance(event, h11.Data):
                await send(
                    {"type": "http.response.body", "body": bytes(event.data), "more_body": True}
                )
            elif isinstance(event, h11.EndOfMessage):
                await send({"type": "http.response.body", "body": b""})
                return
    except (h11.RemoteProtocolError, OSError):
        if started:
            raise
        await _answer(send, 502, "the stage's instance closed the connection\n")


def _socket(args: argparse.Namespace) -> socket.socket:
    if args.fd is not None:
        return socket.socket(fileno=args.fd)
    host, _, port = str(args.listen).rpartition(":")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, int(port)))
    listener.listen(1024)
    return listener


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a stage address: proxy to the routed instance")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fd", type=int, help="a listening socket to serve on")
    where.add_argument("--listen", help="HOST:PORT to bind and serve on")
    where.add_argument("--switch-to", help="write URL into FILE and exit")
    parser.add_argument("--route", required=True, help="JSON file naming the instance's url")
    parser.add_argument("--upstream", help="the instance's url, written if FILE is missing")
    args = parser.parse_args(argv)
    if args.switch_to:
        write_route(args.route, args.switch_to)
        return
    if args.upstream and not os.path.exists(args.route):
        write_route(args.route, args.upstream)
    import uvicorn  # only to serve: switching stays quick

    config = uvicorn.Config(
        Proxy(args.route),
        http="h11",
        ws="none",
        lifespan="off",
        access_log=False,
        server_header=False,
        date_header=False,
        log_level="warning",
    )
    uvicorn.Server(config).run(sockets=[_socket(args)])


if __name__ == "__main__":
    main()
