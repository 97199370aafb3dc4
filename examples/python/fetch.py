#!/usr/bin/env python3
"""IO-bound: --requests HTTP GETs of --url, split over --workers workers of
--model (a fixed total: strong scaling). Each request's latency goes to
COREBENCH_OPS_FILE.

A request mostly waits for the server, so threads, the thread pool and
asyncio all scale past the core count, GIL or not; processes scale too but
cost more to start.

    python3 fetch.py --model asyncio --workers 8 --url http://127.0.0.1:8080/work?delay_ms=20
"""

import asyncio
import sys
import urllib.parse
import urllib.request

import common


def get(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {url}: status {response.status}")
        return len(body)


async def get_async(url):
    """The same GET with asyncio streams: the standard library has no
    async HTTP client."""
    parts = urllib.parse.urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    writer.write(
        f"GET {path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    status = response.split(b" ", 2)[1] if response.startswith(b"HTTP/") else b"?"
    if status != b"200":
        raise SystemExit(f"GET {url}: status {status.decode(errors='replace')}")
    return len(response)


def main():
    parser = common.arguments(__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    if args.workers < 1 or args.requests < 1:
        sys.exit("--workers and --requests must be positive")
    urls = [args.url] * args.requests
    results = common.run(args.model, args.workers, get, urls, async_job=get_async)
    common.write_latencies(results)
    print(sum(size for size, _ in results))


if __name__ == "__main__":
    main()
