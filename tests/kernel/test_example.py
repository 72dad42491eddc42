"""The in-kernel API through the example module (kmod/example): its
notifier, its parameters, and a notifier that calls back into the API."""

import re
import time

import uapi as U
from conftest import (example_param, kernel_log, listen, rmmod, wait_events,
                      wait_for)
from nl import netns_inum

ST = U.STATES
CAUSE = U.CAUSES


def example_events(net, since=0):
    """[(seq, text)] of the example's event lines for namespace @net, in
    the kernel log from line @since on."""
    out = []
    for line in kernel_log()[since:]:
        m = re.search(rf"afcluster_example: event net={net} seq=(\d+) (.*)$", line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
    return out


def test_example_module_receives_events(module):
    c = module.load()
    module.load_example()
    net = netns_inum()
    with listen() as lst:
        c.new(4, name="four", addrs=["10.8.0.4"], state="comingup")
        c.set(4, state="up")
        example_param("set_state", "4:goingdown")   # the kernel API, cause KERNEL
        example_param("lookup", "10.8.0.4")
        example_param("show", "4")
        c.set_local(4)
        evs = wait_events(lst, 4)
    assert [(e["seq"], e["cause"]) for e in evs] == [
        (1, CAUSE["admin"]), (2, CAUSE["admin"]), (3, CAUSE["kernel"]),
        (4, CAUSE["admin"])]
    inst = c.info()["instance"]
    want = [f"event net={net} seq=1 node=4 added state=comingup addrs=1 cause=admin",
            f"event net={net} seq=2 node=4 state comingup->up cause=admin",
            f"event net={net} seq=3 node=4 state up->goingdown cause=kernel",
            f"event net={net} seq=4 local_node=4 cause=admin",
            "lookup 10.8.0.4: node=4",
            f"show node=4 name=four state=goingdown addrs=1 lease_ms=0 seq=3 "
            f"instance={inst} max_nodes=256 local=0"]

    def logged():
        log = "\n".join(kernel_log())
        return all("afcluster_example: " + w in log for w in want)
    wait_for(logged, 10, what=f"the example's log lines {want}")
    # The module is pinned while its user is loaded.
    r = rmmod("afcluster")
    assert r.returncode != 0
    c.close()


def test_notifier_calling_back_into_the_api(module):
    """follow 1:2: the example's notifier, receiving node 1's new state,
    sets node 2 to it through afcluster_set_node_state(). Node 1 set down
    by a request: node 2 goes down, cause KERNEL, in the very next seq; the
    request does not deadlock (notifiers run outside the table's lock) and
    the table keeps answering."""
    c = module.load()
    module.load_example()
    c.new(1, state="up")
    c.new(2, state="up")
    c.new(3, state="up")
    example_param("follow", "1:2")
    with listen() as lst:
        t0 = time.monotonic()
        r = c.set(1, state="down")
        took = time.monotonic() - t0
        evs = wait_events(lst, 2)
        c.set(3, state="down")                  # not followed
        c.set(1, state="down")                  # no change: no event
        c.set(1, state="up")
        evs += wait_events(lst, 3)
        assert not lst.recv_events(timeout=1.0)
    assert r["seq"] == 4 and took < 5
    got = [(e["seq"], e.node()[0], e.node()[1], e["cause"], e["old_state"])
           for e in evs]
    assert got == [(4, 1, ST["down"], CAUSE["admin"], ST["up"]),
                   (5, 2, ST["down"], CAUSE["kernel"], ST["up"]),
                   (6, 3, ST["down"], CAUSE["admin"], ST["up"]),
                   (7, 1, ST["up"], CAUSE["admin"], ST["down"]),
                   (8, 2, ST["up"], CAUSE["kernel"], ST["down"])]
    assert c.get(2)["state"] == ST["up"]
    wait_for(lambda: "afcluster_example: follow node=2 up: 0" in
             "\n".join(kernel_log()), 10, what="the follow log line")
    example_param("follow", "0:0")
    c.set(1, state="down")
    assert c.get(2)["state"] == ST["up"]
    c.close()


def test_slow_notifier_does_not_hold_requests(module):
    """slow_ms=500: the example's callback sleeps half a second per event.
    Requests do not wait for it: 10 NODE_SETs take far less than the 5 s
    they would if they did; the callbacks then receive every event, one at
    a time, in seq order."""
    log_start = len(kernel_log())
    c = module.load()
    module.load_example()
    net = netns_inum()
    c.new(1, state="up")
    example_param("slow_ms", "500")
    try:
        t0 = time.monotonic()
        for i in range(10):
            c.set(1, state="down" if i % 2 == 0 else "up")
        took = time.monotonic() - t0
        print(f"10 NODE_SETs with a 500 ms notifier: {took * 1000:.0f} ms")
        assert took < 2.5, f"requests waited for the notifier: {took:.2f}s"
        assert c.info()["seq"] == 11
        seqs = wait_for(lambda: (lambda s: s if s and s[-1] == 11 else None)(
            [s for s, _ in example_events(net, log_start)]), 30, step=0.5,
            what="the notifier to log seq 11")
        assert seqs == list(range(1, 12)), seqs
    finally:
        example_param("slow_ms", "0")
    c.close()
