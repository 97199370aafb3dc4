#!/usr/bin/env python3
"""CPU-bound: count the primes below --limit by trial division, split into
--chunks jobs over --workers workers of --model (a fixed total of work:
strong scaling). Each chunk's latency goes to COREBENCH_OPS_FILE.

Under CPython's GIL, threads, the thread pool and asyncio stay near 1x at
any worker count; processes and the process pool scale with the cores.
On a free-threaded CPython (3.13t and later) threads scale too.

    python3 primes.py --model processes --workers 2
"""

import sys

import common


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def count_primes(bounds):
    start, end = bounds
    return sum(1 for n in range(start, end) if is_prime(n))


def main():
    parser = common.arguments(__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1_600_000)
    parser.add_argument("--chunks", type=int, default=64)
    args = parser.parse_args()
    if args.workers < 1 or args.limit < 2 or args.chunks < 1:
        sys.exit("--workers, --limit and --chunks must be positive")
    step = -(-args.limit // args.chunks)
    chunks = [(i, min(i + step, args.limit)) for i in range(0, args.limit, step)]
    results = common.run(args.model, args.workers, count_primes, chunks)
    common.write_latencies(results)
    print(sum(count for count, _ in results))


if __name__ == "__main__":
    main()
