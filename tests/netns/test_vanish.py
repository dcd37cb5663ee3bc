#!/usr/bin/env python3
"""A namespace that disappears between discovery and the dump is skipped:
exit 0, a warning naming its inode, one stderr line.  Uses the test hook
NSNETSTAT_TEST_PAUSE_MS to widen the window.  With NSN_TEST_BACKEND=bpf the
BPF walk, which runs after the pause, is the one that finds it gone.

usage: test_vanish.py PATH_TO_NSNETSTAT
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print("usage: test_vanish.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root()
    world = L.World()
    rep = L.Report()

    # A namespace that survives, to check the rest of the dump is intact.
    stay = world.add_netns("stay")
    stay_ino = os.stat("/run/netns/" + stay).st_ino

    victim = world.unshare_sleep(30)
    ino = os.stat("/proc/%d/ns/net" % victim.pid).st_ino

    env = dict(os.environ, NSNETSTAT_TEST_PAUSE_MS="1500")
    t0 = time.monotonic()
    args = ["--all-namespaces", "--json", "-a"]
    run = world.spawn(L.nsnetstat_argv(binary, args), env=env,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    victim.kill()
    victim.wait()
    rep.check(not os.path.exists("/proc/%d" % victim.pid), "victim %d still exists" % victim.pid)
    out, err = run.communicate(timeout=30)
    took = time.monotonic() - t0
    rep.check(took >= 1.2, "nsnetstat took %.2fs: the pause hook (1500 ms) did not work, "
              "so this run did not test a vanishing namespace" % took)

    rep.check(run.returncode == 0, "exit %d, want 0; stderr %r" % (run.returncode, err))
    try:
        doc = json.loads(out)
    except ValueError as ex:
        rep.check(False, "invalid JSON: %s: %r" % (ex, out[:500]))
        rep.finish()
    try:
        L.check_backend(args, doc)
    except AssertionError as ex:
        rep.check(False, str(ex))
    warnings = doc.get("warnings")
    rep.check(isinstance(warnings, list) and any(str(ino) in json.dumps(w) for w in warnings),
              "no warning names the vanished namespace inode %d: warnings %r" % (ino, warnings))
    present = L.ns_by_inode(doc, ino)
    rep.check(not present or not present[0].get("sockets"),
              "the vanished namespace %d is reported with sockets: %r" % (ino, present))
    rep.check(len(L.ns_by_inode(doc, stay_ino)) == 1,
              "the namespace that stayed (%s, inode %d) is missing" % (stay, stay_ino))
    rep.check(any(x.get("host") for x in L.namespaces(doc)), "host namespace missing after a vanish")
    lines = [x for x in err.splitlines() if x.strip()]
    rep.check(len(lines) == 1, "want one stderr summary line, got %r" % err)

    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
