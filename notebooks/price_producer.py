"""Publish a price for a few symbols once a second, for notebooks/pubsub_redis.ipynb.

    python notebooks/price_producer.py [--url redis://localhost:6379/0] [--topic prices]

A plain Python process: no kernel, no view, no event loop of livewidget's. Each message is
JSON on the Redis channel ``livewidget:prices``, so this could as well be
``redis-cli PUBLISH livewidget:prices '{"symbol": "ACME", "price": 101.5}'``, or any language.
While Redis is down it says so once and keeps trying every second: pub/sub keeps nothing, so
the prices of that time are lost (docs/pubsub.md says what to use when they must not be).
"""

from __future__ import annotations

import argparse
import os
import random
import time

import livewidget as lw
from livewidget.pubsub import PubSubUnavailable, broadcast

SYMBOLS = {"ACME": 101.0, "GLOBEX": 54.5, "INITECH": 12.25, "UMBRELLA": 230.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", default=os.environ.get("LIVEWIDGET_PUBSUB", "redis://localhost:6379/0")
    )
    parser.add_argument("--topic", default="prices")
    parser.add_argument("--count", type=int, default=0, help="stop after this many (0: never)")
    args = parser.parse_args()
    lw.configure(pubsub=args.url)
    prices = dict(SYMBOLS)
    sent, down = 0, False
    while args.count == 0 or sent < args.count:
        symbol = random.choice(list(prices))
        prices[symbol] = round(max(0.01, prices[symbol] * random.gauss(1, 0.01)), 2)
        message = {"symbol": symbol, "price": prices[symbol], "time": time.time()}
        try:
            broadcast(args.topic, message)
        except PubSubUnavailable as error:
            if not down:
                print(f"Redis unreachable, retrying every second: {error}", flush=True)
            down = True
        else:
            if down:
                print("Redis is back", flush=True)
            down = False
            sent += 1
            print(f"{args.topic}: {message}", flush=True)
        time.sleep(1)


if __name__ == "__main__":
    main()
