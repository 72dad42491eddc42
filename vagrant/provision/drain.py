"""A clean stop's wait (scripts/lab, tests/cluster/run): until every
live director has drained a real server (cluster.drained), or a limit."""

import sys
import time

from cluster import drained


def wait(rs, directors, live, dests, serving, limit, poll, who):
    """Poll each director d that live(d) says runs, through dests(d), until
    all have drained rs; serving: the directors holding the VIP. Returns
    the line that says how each drained, and when."""
    t0 = time.monotonic()
    seen = {}
    while len(seen) < sum(1 for d in directors if live(d)):
        for d in directors:
            how = live(d) and d not in seen and drained(dests(d), rs, d in serving)
            if how:
                seen[d] = f"{d} {how} after {time.monotonic() - t0:.2f} s"
        if time.monotonic() - t0 > limit:
            print(f"{who}: {rs} not drained after {limit:.0f} s: stopped all the same",
                  file=sys.stderr)
            break
        time.sleep(poll)
    return f"{rs} drained: {', '.join(seen.values()) or 'no director'}"
