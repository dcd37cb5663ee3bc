#!/usr/bin/env python3
"""nsnetstat -r -i -s against iproute2, namespace by namespace.

Builds a small "cluster" (helpers/netcfg_world.py):

  H (ip netns)   bridge br0 10.77.0.1/24 fd77::1/64, ports vp1 vp2 vp3 (veths to
                 the pods), vu (veth to U); forwarding on (IPv6 anycast routes);
                 table 100 and 200, rules (fwmark, from, to+fwmark/mask, v6 from),
                 IPv4 and IPv6 multipath, blackhole/unreachable/prohibit/throw,
                 proto static/bird/77, metrics mtu/advmss, tos, onlink, /32 and
                 /128, IPv6 pref high and a source-specific (from) route
  p1 p2 p3       eth0 (renamed in the pod) 10.77.0.N/24 fd77::N/64, default routes
                 via br0; p1<->p2 joined directly (x12/x21); p1 has peer and
                 secondary/labelled addresses and not/iif/oif/tos/goto/nop/
                 prohibit/unreachable rules; p3 has a veth pair with both ends in
                 it (sa up, sb down: NO-CARRIER, LOWERLAYERDOWN, linkdown routes)
  U (unshare -n) reachable only through its process, veth vu0 <-> H's vu
  H2, q1         a second node and its pod, built like H and p1 so that the veth
                 ends have the same ifindexes as H's vp1 and p1's eth0

Traffic only between these namespaces (3 ICMP echoes each over the bridge and the
veths, one TCP connection on p1's loopback).  Then, for every namespace above,
`nsnetstat --all-namespaces --json -r -i -s` must agree with iproute2 run inside
it:

  routes    ip -d -j -4/-6 route show table all (multiset, every field)
  rules     ip -j -4/-6 rule show
  links     ip -d -j addr show: ifindex, name, kind, mtu, flags, operstate,
            link_type, mac, txqlen, qdisc, master, link index/netnsid, addresses
  stats     each counter between two `ip -j -s -s link` snapshots (before/after)
  counters  each `nstat -azs` counter between two snapshots (before/after)
  peers     every veth's peer is the interface ip -d link names, in the right
            namespace (H's inode for the pods' eth0, the pod's for H's ports, the
            same namespace for p3's pair, U's process namespace for vu, H2 and
            q1 for each other although H and p1 mirror their ifindexes)

The static part (routes, rules, links, addresses) is read before and after
nsnetstat and the whole round is repeated (at most 3 times) until the two
readings agree, so asynchronous kernel work cannot make the test flaky.

usage: test_netcfg.py PATH_TO_NSNETSTAT
"""

import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers"))
import nsntlib as L  # noqa: E402
from netcfg_world import PINGS, build, traffic  # noqa: E402

NSN_ARGS = ["--all-namespaces", "--json", "-r", "-i", "-s"]


# ---- iproute2 side: normalised -----------------------------------------------

Route = collections.namedtuple("Route", "table family type dst src tos gateway dev protocol scope "
                                        "metric prefsrc pref flags metrics nexthops")
Rule = collections.namedtuple("Rule", "family priority action table goto src dst fwmark fwmask "
                                      "iif oif tos invert")
Addr = collections.namedtuple("Addr", "family local prefixlen peer broadcast scope label flags "
                                      "valid_lft preferred_lft")

FULL = {"inet": 32, "inet6": 128}
TABLE_IDS = {"unspec": 0, "default": 253, "main": 254, "local": 255}


def hexint(v):
    """ip prints tos/fwmark as "0x10"; a name from rt_dsfield stays a string."""
    if v is None:
        return None
    try:
        return int(v, 16)
    except (TypeError, ValueError):
        return v


def nexthops(hops):
    """A multipath route's hops as a sorted tuple of (gateway, dev, weight, flags)."""
    return tuple(sorted(((h.get("gateway"), h.get("dev"), h.get("weight"),
                          tuple(sorted(h.get("flags") or []))) for h in hops), key=str))


def ip_route(r, family):
    # -d makes ip print table, type, protocol and scope always; the defaults
    # below are what plain `ip -j` leaves out (main, unicast, boot, global).
    metrics = {}
    for m in r.get("metrics") or []:
        metrics.update(m)
    nh = ()
    if "nexthops" in r:
        nh = nexthops(r["nexthops"])
    return Route(r.get("table", "main"), family, r.get("type", "unicast"), r["dst"], r.get("from"),
                 hexint(r.get("tos")) or 0, r.get("gateway"), r.get("dev"), r.get("protocol", "boot"),
                 r.get("scope", "global"), r.get("metric", 0), r.get("prefsrc"), r.get("pref"),
                 tuple(sorted(r.get("flags") or [])), tuple(sorted(metrics.items())), nh)


def rule_prefix(addr, plen, family):
    if addr == "all":
        return "all"
    if plen is None or plen == FULL[family]:
        return addr
    return "%s/%d" % (addr, plen)


def ip_rule(r, family):
    if "table" in r:
        action, table, goto = "lookup", r["table"], None
    elif "goto" in r:
        action, table, goto = "goto", None, r["goto"]
    elif "nop" in r:
        action, table, goto = "nop", None, None
    else:
        action, table, goto = r.get("action"), None, None
    fwmark = hexint(r.get("fwmark"))
    fwmask = hexint(r.get("fwmask"))
    if fwmark is not None and fwmask is None:
        fwmask = 0xffffffff
    return Rule(family, r.get("priority", 0), action, table, goto,
                rule_prefix(r.get("src", "all"), r.get("srclen"), family),
                rule_prefix(r.get("dst", "all"), r.get("dstlen"), family),
                fwmark, fwmask, r.get("iif"), r.get("oif"), hexint(r.get("tos")) or 0, "not" in r)


ADDR_KEYS = {"family", "local", "address", "prefixlen", "broadcast", "scope", "label",
             "valid_life_time", "preferred_life_time", "anycast"}


FOREVER = 0xffffffff


def ip_addr(a):
    """Finite lifetimes count down while we look: they are left out of the
    tuple (None) and checked as a range (see check_links)."""
    flags = tuple(sorted(k for k, v in a.items() if v is True and k not in ADDR_KEYS))
    valid, pref = a.get("valid_life_time"), a.get("preferred_life_time")
    if valid != FOREVER or pref != FOREVER:
        valid = pref = None
    return Addr(a["family"], a["local"], a["prefixlen"], a.get("address"), a.get("broadcast"),
                a.get("scope"), a.get("label"), flags, valid, pref)


def ip_lifetimes(j):
    """{(ifindex, local): (valid, preferred)} of the addresses with finite lifetimes."""
    return {(l["ifindex"], a["local"]): (a.get("valid_life_time"), a.get("preferred_life_time"))
            for l in j for a in l.get("addr_info") or []
            if (a.get("valid_life_time"), a.get("preferred_life_time")) != (FOREVER, FOREVER)}


def ip_links(j):
    """ip -d -j addr -> ({ifindex: fields}, {ifindex: Counter(Addr)}, {ifindex: veth?})"""
    byname = {l["ifname"]: l["ifindex"] for l in j}
    links, addrs, veth = {}, {}, {}
    for l in j:
        idx = l["ifindex"]
        link_if = l.get("link_index")
        if link_if is None and l.get("link") not in (None, "NONE"):
            link_if = byname.get(l["link"])
        info = l.get("linkinfo") or {}
        links[idx] = {
            "name": l["ifname"], "kind": info.get("info_kind"), "mtu": l.get("mtu"),
            "flags": tuple(sorted(set(l.get("flags") or []) - {"M-DOWN"})),
            "operstate": l.get("operstate"), "link_type": l.get("link_type"),
            "mac": l.get("address"), "txqlen": l.get("txqlen"), "qdisc": l.get("qdisc"),
            "master": l.get("master"), "master_ifindex": byname.get(l.get("master"), 0),
            "link_ifindex": link_if or 0, "link_netnsid": l.get("link_netnsid")}
        addrs[idx] = collections.Counter(ip_addr(a) for a in l.get("addr_info") or [])
        veth[idx] = info.get("info_kind") == "veth"
    return links, addrs, veth


def static_snapshot(ns):
    routes = collections.Counter()
    for fam, flag in (("inet", "-4"), ("inet6", "-6")):
        routes.update(ip_route(r, fam) for r in ns.ipj("-d", flag, "route", "show", "table", "all"))
    rules = collections.Counter()
    for fam, flag in (("inet", "-4"), ("inet6", "-6")):
        rules.update(ip_rule(r, fam) for r in ns.ipj(flag, "rule", "show"))
    j = ns.ipj("-d", "addr", "show")
    links, addrs, veth = ip_links(j)
    return {"routes": routes, "rules": rules, "links": links, "addrs": addrs, "veth": veth,
            "lft": ip_lifetimes(j)}


def same_config(a, b):
    """Two snapshots show the same configuration (lifetimes aside)."""
    return all(a[k] == b[k] for k in a if k != "lft")


# ip -j -s -s link: stats64.rx/tx.<name>.  ip leaves out compressed and
# nohandler when they are zero.
STATMAP = {
    "rx_bytes": ("rx", "bytes"), "rx_packets": ("rx", "packets"), "rx_errors": ("rx", "errors"),
    "rx_dropped": ("rx", "dropped"), "multicast": ("rx", "multicast"),
    "rx_over_errors": ("rx", "over_errors"), "rx_length_errors": ("rx", "length_errors"),
    "rx_crc_errors": ("rx", "crc_errors"), "rx_frame_errors": ("rx", "frame_errors"),
    "rx_fifo_errors": ("rx", "fifo_errors"), "rx_missed_errors": ("rx", "missed_errors"),
    "rx_compressed": ("rx", "compressed"), "rx_nohandler": ("rx", "nohandler"),
    "tx_bytes": ("tx", "bytes"), "tx_packets": ("tx", "packets"), "tx_errors": ("tx", "errors"),
    "tx_dropped": ("tx", "dropped"), "collisions": ("tx", "collisions"),
    "tx_carrier_errors": ("tx", "carrier_errors"), "tx_aborted_errors": ("tx", "aborted_errors"),
    "tx_fifo_errors": ("tx", "fifo_errors"), "tx_window_errors": ("tx", "window_errors"),
    "tx_heartbeat_errors": ("tx", "heartbeat_errors"), "tx_compressed": ("tx", "compressed"),
}
STAT_OPTIONAL = {"rx_compressed", "tx_compressed", "rx_nohandler"}


def link_stats(ns):
    out = {}
    for l in ns.ipj("-s", "-s", "link", "show"):
        s = l.get("stats64") or {}
        flat = {}
        for name, (d, k) in STATMAP.items():
            v = (s.get(d) or {}).get(k)
            if v is None and name in STAT_OPTIONAL:
                v = 0
            flat[name] = v
        out[l["ifindex"]] = (l["ifname"], flat)
    return out


GAUGES = {"IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax",
          "TcpMaxConn", "TcpCurrEstab"}


def nstat(ns, hist):
    r = ns.exec(["nstat", "-a", "-z", "-s", "-j"], env=dict(os.environ, NSTAT_HISTORY=hist))
    return json.loads(r.stdout)["kernel"]


# ---- nsnetstat side: the same shapes -----------------------------------------

def nsn_route(r):
    nh = ()
    if r.get("multipath"):
        nh = nexthops(r.get("nexthops") or [])
    return Route(r.get("table"), r.get("family"), r.get("type"), r.get("dst"), r.get("src"), r.get("tos"),
                 r.get("gateway"), r.get("dev"), r.get("protocol"), r.get("scope"), r.get("metric"),
                 r.get("prefsrc"), r.get("pref"), tuple(sorted(r.get("flags") or [])),
                 tuple(sorted((r.get("metrics") or {}).items())), nh)


def nsn_rule(r):
    fwmark, fwmask = r.get("fwmark"), r.get("fwmask")
    if fwmark is not None and fwmask is None:
        fwmask = 0xffffffff
    return Rule(r.get("family"), r.get("priority"), r.get("action"), r.get("table"), r.get("goto"),
                r.get("src"), r.get("dst"), fwmark, fwmask, r.get("iif"), r.get("oif"), r.get("tos"),
                r.get("not"))


def nsn_addr(a):
    valid, pref = a.get("valid_lft"), a.get("preferred_lft")
    if valid != FOREVER or pref != FOREVER:
        valid = pref = None
    return Addr(a.get("family"), a.get("local"), a.get("prefixlen"), a.get("peer"), a.get("broadcast"),
                a.get("scope"), a.get("label"), tuple(sorted(a.get("flags") or [])), valid, pref)


def nsn_link_fields(l, byname):
    return {"name": l.get("name"), "kind": l.get("kind"), "mtu": l.get("mtu"),
            "flags": tuple(sorted(set(l.get("flags") or []) - {"M-DOWN"})),
            "operstate": l.get("operstate"), "link_type": l.get("link_type"), "mac": l.get("mac"),
            "txqlen": l.get("txqlen"), "qdisc": l.get("qdisc"), "master": l.get("master"),
            "master_ifindex": l.get("master_ifindex"), "link_ifindex": l.get("link_ifindex"),
            "link_netnsid": l.get("link_netnsid")}


def prefix_len(text, family, default_word):
    """Length of a prefix in ip's spelling: 'default'/'all' 0, bare = full."""
    if text == default_word:
        return 0
    if "/" in text:
        return int(text.rsplit("/", 1)[1])
    return FULL.get(family)


# ---- comparison helpers --------------------------------------------------------

def fmt_tuple(t):
    return " ".join("%s=%s" % (k, v) for k, v in t._asdict().items()
                    if v not in (None, (), 0, False) or k in ("metric", "priority"))


class Checks:
    def __init__(self):
        self.rep = L.Report()

    def ok(self, cond, okmsg, failmsg):
        """One check: "ok: OKMSG" when it holds (nothing for an empty OKMSG,
        a precondition of the check that follows), else FAIL: FAILMSG."""
        if self.rep.check(cond, failmsg) and okmsg:
            print("ok: " + okmsg)
        return cond

    def multiset(self, label, expected, got, what="ip"):
        e, g = collections.Counter(expected), collections.Counter(got)
        missing, extra = e - g, g - e
        if not missing and not extra:
            return self.ok(True, "%s (%d entries)" % (label, sum(e.values())), "")
        lines = ["%s: nsnetstat differs from %s (%d from %s, %d from nsnetstat)"
                 % (label, what, sum(e.values()), what, sum(g.values()))]
        # Pair up near misses (same identity, other fields differ) to show the field.
        extra_l = list(extra.elements())
        for m in sorted(missing.elements(), key=str):
            key = m[:4]
            twin = next((x for x in extra_l if x[:4] == key), None)
            if twin is not None:
                extra_l.remove(twin)
                diffs = ["%s: %s %r, nsnetstat %r" % (f, what, a, b)
                         for f, a, b in zip(m._fields, m, twin) if a != b]
                lines.append("  differs:  %s\n            %s" % (fmt_tuple(m), "; ".join(diffs)))
            else:
                lines.append("  missing (%s has it): %s" % (what, fmt_tuple(m)))
        for x in extra_l:
            lines.append("  extra (only nsnetstat): %s" % fmt_tuple(x))
        return self.ok(False, "", "\n".join(lines))


# ---- the checks ------------------------------------------------------------------

def check_routes(C, ns, snap, nsd):
    routes = nsd.get("routes")
    if not C.ok(isinstance(routes, list), "", "%s: no \"routes\" list (keys %s)" % (ns, sorted(nsd))):
        return
    C.multiset("%s: routes = ip -d -j -4/-6 route show table all" % ns, snap["routes"],
               [nsn_route(r) for r in routes])
    bad = []
    for r in routes:
        fam = r.get("family")
        exp_len = prefix_len(r.get("dst") or "", fam, "default")
        if r.get("dst_len") != exp_len:
            bad.append("dst %r dst_len %r (want %r)" % (r.get("dst"), r.get("dst_len"), exp_len))
        t = r.get("table")
        exp_tid = TABLE_IDS.get(t, int(t) if isinstance(t, str) and t.isdigit() else None)
        if r.get("table_id") != exp_tid:
            bad.append("dst %r table %r table_id %r" % (r.get("dst"), t, r.get("table_id")))
        p = r.get("protocol")
        if isinstance(p, str) and p.isdigit() and r.get("protocol_id") != int(p):
            bad.append("dst %r protocol %r protocol_id %r" % (r.get("dst"), p, r.get("protocol_id")))
        nhs = r.get("nexthops")
        if not isinstance(nhs, list):
            bad.append("dst %r: nexthops %r is not a list" % (r.get("dst"), nhs))
        elif r.get("multipath"):
            if r.get("gateway") is not None or r.get("dev") is not None or len(nhs) < 2:
                bad.append("dst %r multipath: top gateway %r dev %r, %d nexthops"
                           % (r.get("dst"), r.get("gateway"), r.get("dev"), len(nhs)))
        elif len(nhs) > 1 or (nhs and (nhs[0].get("gateway"), nhs[0].get("dev")) !=
                              (r.get("gateway"), r.get("dev"))):
            bad.append("dst %r single path: gateway %r dev %r but nexthops %r"
                       % (r.get("dst"), r.get("gateway"), r.get("dev"), nhs))
        if r.get("dev") is not None and not r.get("ifindex"):
            bad.append("dst %r dev %r ifindex %r" % (r.get("dst"), r.get("dev"), r.get("ifindex")))
    C.ok(not bad, "%s: routes' dst_len, table_id, protocol_id, nexthops, ifindex consistent" % ns,
         "%s: inconsistent route fields:\n  %s" % (ns, "\n  ".join(bad)))


def check_rules(C, ns, snap, nsd):
    rules = nsd.get("rules")
    if not C.ok(isinstance(rules, list), "", "%s: no \"rules\" list" % ns):
        return
    C.multiset("%s: rules = ip -j -4/-6 rule show" % ns, snap["rules"], [nsn_rule(r) for r in rules])
    bad = []
    for r in rules:
        fam = r.get("family")
        for k in ("src", "dst"):
            want = prefix_len(r.get(k) or "", fam, "all")
            if r.get(k + "_len") != want:
                bad.append("pref %r %s %r %s_len %r (want %r)" % (r.get("priority"), k, r.get(k), k,
                                                                   r.get(k + "_len"), want))
        t = r.get("table")
        if t is not None:
            exp = TABLE_IDS.get(t, int(t) if t.isdigit() else None)
            if r.get("table_id") != exp:
                bad.append("pref %r table %r table_id %r" % (r.get("priority"), t, r.get("table_id")))
    C.ok(not bad, "%s: rules' src_len, dst_len, table_id consistent" % ns,
         "%s: inconsistent rule fields:\n  %s" % (ns, "\n  ".join(bad)))


def check_links(C, ns, snap, nsd, snap_before):
    links = nsd.get("links")
    if not C.ok(isinstance(links, list), "", "%s: no \"links\" list" % ns):
        return None
    got = {l.get("ifindex"): l for l in links}
    byname = {l.get("name"): l.get("ifindex") for l in links}
    exp = snap["links"]
    C.ok(sorted(got) == sorted(exp) and len(got) == len(links),
         "%s: same ifindexes as ip -j addr: %s" % (ns, sorted(exp)),
         "%s: ifindexes: ip %s, nsnetstat %s" % (ns, [(i, exp[i]["name"]) for i in sorted(exp)],
                                                  [(l.get("ifindex"), l.get("name")) for l in links]))
    diffs = []
    for idx in sorted(set(exp) & set(got)):
        g = nsn_link_fields(got[idx], byname)
        for k, v in exp[idx].items():
            if g.get(k) != v:
                diffs.append("%s (ifindex %d) %s: ip %r, nsnetstat %r"
                             % (exp[idx]["name"], idx, k, v, g.get(k)))
    C.ok(not diffs, "%s: link fields (name kind mtu flags operstate link_type mac txqlen qdisc master "
                    "link_ifindex link_netnsid) = ip -d -j addr" % ns,
         "%s: link fields differ from ip -d -j addr:\n  %s" % (ns, "\n  ".join(diffs)))
    for idx in sorted(set(exp) & set(got)):
        C.multiset("%s: addresses of %s = ip -j addr" % (ns, exp[idx]["name"]), snap["addrs"][idx],
                   [nsn_addr(a) for a in got[idx].get("addrs") or []])
    # Finite lifetimes: between the readings after (smaller) and before.
    lft = snap["lft"]
    bad = []
    for (idx, local), (valid, pref) in sorted(lft.items()):
        hi = snap_before["lft"].get((idx, local))
        a = next((a for a in (got.get(idx) or {}).get("addrs") or [] if a.get("local") == local), None)
        if a is None or hi is None:
            bad.append("%s: not in nsnetstat or not in the first reading" % local)
            continue
        for k, lo_v, hi_v in (("valid_lft", valid, hi[0]), ("preferred_lft", pref, hi[1])):
            if not (isinstance(a.get(k), int) and lo_v <= a[k] <= hi_v):
                bad.append("%s %s: want %d <= x <= %d, nsnetstat %r" % (local, k, lo_v, hi_v, a.get(k)))
    if lft:
        C.ok(not bad, "%s: %d finite address lifetimes between two ip -j addr readings" % (ns, len(lft)),
             "%s: address lifetimes:\n  %s" % (ns, "\n  ".join(bad)))
    return got


def check_stats(C, ns, before, after, got_links):
    bad, nonzero, n = [], 0, 0
    for idx, l in sorted(got_links.items()):
        st = l.get("stats")
        name = l.get("name")
        if idx not in before or idx not in after:
            bad.append("%s: not in ip -s link before/after" % name)
            continue
        if not isinstance(st, dict):
            bad.append("%s: stats %r" % (name, st))
            continue
        missing = set(STATMAP) - set(st)
        unknown = set(st) - set(STATMAP)
        if missing or unknown:
            bad.append("%s: stats keys missing %s, unknown %s" % (name, sorted(missing), sorted(unknown)))
        for k in sorted(set(st) & set(STATMAP)):
            lo, hi, v = before[idx][1][k], after[idx][1][k], st[k]
            n += 1
            if lo is None or hi is None:
                bad.append("%s %s: ip -s -s link did not print it" % (name, k))
            elif not (isinstance(v, int) and lo <= v <= hi):
                bad.append("%s %s: want %d <= x <= %d (ip -s -s link before/after), nsnetstat %r"
                           % (name, k, lo, hi, v))
            elif v:
                nonzero += 1
    C.ok(not bad, "%s: %d link counters between ip -s -s link before and after (%d non-zero)"
         % (ns, n, nonzero),
         "%s: link counters:\n  %s" % (ns, "\n  ".join(bad)))
    return nonzero


def check_counters(C, ns, before, after, nsd):
    cnt = nsd.get("counters")
    if not C.ok(isinstance(cnt, dict) and cnt, "", "%s: \"counters\" is %r" % (ns, type(cnt).__name__)):
        return {}
    bad = []
    names = set(before) | set(after)
    for k in sorted(names):
        lo, hi = before.get(k, 0), after.get(k)
        if hi is None:
            bad.append("%s: nstat printed it before but not after" % k)
            continue
        if k not in cnt:
            if k in before:
                bad.append("%s: nstat has it (%d..%d), nsnetstat not" % (k, lo, hi))
            continue
        v = cnt[k]
        if not (isinstance(v, int) and lo <= v <= hi):
            bad.append("%s: want %d <= x <= %d (nstat -az before/after), nsnetstat %r" % (k, lo, hi, v))
    gauges = GAUGES - set(cnt)
    if gauges:
        bad.append("gauges nstat leaves out but nsnetstat must have: missing %s" % sorted(gauges))
    nonint = [k for k, v in cnt.items() if not isinstance(v, int)]
    if nonint:
        bad.append("non-integer counters: %s" % nonint[:10])
    extra = sorted(set(cnt) - names - GAUGES)
    C.ok(not bad, "%s: %d nstat -az counters between nstat before and after (+%d gauges, %d extra names)"
         % (ns, len(names), len(GAUGES), len(extra)),
         "%s: counters vs nstat -az:\n  %s" % (ns, "\n  ".join(bad[:60])))
    if extra:
        print("note: %s: nsnetstat counters nstat does not print: %s" % (ns, extra[:20]))
    return cnt


def check_peers(C, nss, snaps, docs, peers):
    by = {ns.label: ns for ns in nss}
    for ns in nss:
        snap, nsd = snaps[ns.label], docs[ns.label]
        got = {l.get("ifindex"): l for l in nsd.get("links") or []}
        bad, seen = [], 0
        for idx, f in sorted(snap["links"].items()):
            name = f["name"]
            g = got.get(idx)
            if g is None:
                continue
            if not snap["veth"][idx]:
                if g.get("peer") is not None:
                    bad.append("%s (kind %s): peer %r, want null" % (name, f["kind"], g.get("peer")))
                continue
            built = peers.get((ns.label, name))
            if built is None:
                bad.append("%s: a veth the test did not make" % name)
                continue
            pns = by[built[0]]
            p_idx = {v["name"]: k for k, v in snaps[pns.label]["links"].items()}.get(built[1])
            # The oracle: ip -d link's link index must be the interface we built.
            if not C.ok(f["link_ifindex"] == p_idx and p_idx,
                        "%s: ip -d link: %s's peer is ifindex %d = %s in %s" % (ns.label, name, p_idx or 0,
                                                                               built[1], pns.label),
                        "%s: ip -d link says %s's peer is ifindex %r, but the test built %s (ifindex %r) "
                        "in %s" % (ns, name, f["link_ifindex"], built[1], p_idx, pns)):
                continue
            want = {"ifindex": p_idx, "name": built[1], "netns_inode": pns.inode}
            peer = g.get("peer") or {}
            have = {k: peer.get(k) for k in want}
            seen += 1
            if have != want:
                bad.append("%s: peer %r, want %r (%s)" % (name, g.get("peer"), want, pns))
            elif pns.name and peer.get("netns") != pns.name:
                bad.append("%s: peer netns label %r, want %r" % (name, peer.get("netns"), pns.name))
            elif not pns.name:
                print("note: %s: %s's peer netns label for process-only %s: %r"
                      % (ns.label, name, pns.label, peer.get("netns")))
        C.ok(not bad, "%s: veth peers of %d interfaces resolved to the interface and namespace ip -d link "
                      "names; non-veths have none" % (ns, seen),
             "%s: veth peers:\n  %s" % (ns, "\n  ".join(bad)))


def main():
    if len(sys.argv) != 2:
        print("usage: test_netcfg.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root(tools=("ip", "unshare", "nsenter", "nstat", "sysctl"))
    world = L.World()
    C = Checks()
    t0 = time.monotonic()

    nss, peers, notes = build(world)
    for n in notes:
        print("note: " + n)
    bad = traffic(nss)
    C.ok(not bad, "traffic: %d ping runs (3 echoes each) and a TCP connection inside the world "
         "succeeded" % len(PINGS),
         "traffic failed:\n  " + "\n  ".join(bad))
    hist = os.path.join(world.tmpdir(), "nstat.history")

    for attempt in range(3):
        snap1 = {ns.label: static_snapshot(ns) for ns in nss}
        st_before = {ns.label: link_stats(ns) for ns in nss}
        nc_before = {ns.label: nstat(ns, hist) for ns in nss}
        r, doc = L.nsnetstat(binary, NSN_ARGS, timeout=40)
        st_after = {ns.label: link_stats(ns) for ns in nss}
        nc_after = {ns.label: nstat(ns, hist) for ns in nss}
        snap2 = {ns.label: static_snapshot(ns) for ns in nss}
        if all(same_config(snap1[k], snap2[k]) for k in snap1):
            break
        changed = [k for k in snap1 if not same_config(snap1[k], snap2[k])]
        print("note: configuration of %s changed while reading it, again" % changed)
        time.sleep(1)
    else:
        C.ok(False, "", "configuration never held still for one round")
    C.ok(not os.path.exists(hist), "nstat -s left its history file alone",
         "nstat wrote %s despite -s" % hist)

    if not C.ok(r.returncode == 0 and doc is not None, "`nsnetstat %s` exit 0, JSON" % " ".join(NSN_ARGS),
                "`nsnetstat %s` exit %d, stderr: %s"
                % (" ".join(NSN_ARGS), r.returncode, r.stderr.strip()[:2000])):
        C.rep.finish()

    for w in doc.get("warnings") or []:
        print("note: nsnetstat warning: %s" % (w,))
    docs = {}
    for ns in nss:
        found = L.ns_by_inode(doc, ns.inode)
        if C.ok(len(found) == 1, "%s reported once" % ns, "%s reported %d times" % (ns, len(found))):
            docs[ns.label] = found[0]
            d = found[0]
            C.ok(d.get("error") is None and "sockets" not in d
                 and all(k in d for k in ("routes", "rules", "links", "counters")),
                 "%s: no error, routes rules links counters present, no sockets" % ns,
                 "%s: error %r, keys %s (want routes rules links counters, no sockets)"
                 % (ns, d.get("error"), sorted(d)))

    nonzero_links, nonzero_cnt = {}, {}
    for ns in nss:
        nsd = docs.get(ns.label)
        if nsd is None:
            continue
        snap = snap2[ns.label]
        check_routes(C, ns, snap, nsd)
        check_rules(C, ns, snap, nsd)
        got_links = check_links(C, ns, snap, nsd, snap1[ns.label])
        if got_links is not None:
            nonzero_links[ns.label] = check_stats(C, ns, st_before[ns.label], st_after[ns.label], got_links)
        cnt = check_counters(C, ns, nc_before[ns.label], nc_after[ns.label], nsd)
        nonzero_cnt[ns.label] = cnt

    if len(docs) == len(nss):
        check_peers(C, nss, snap2, docs, peers)

    # The comparison must have had something to compare.
    by = {ns.label: ns for ns in nss}
    for lbl, n in nonzero_links.items():
        C.ok(n > 0, "%s: some link counters non-zero (%d)" % (lbl, n),
             "%s: every link counter is 0" % by[lbl])
    for lbl, eth, want in (("p1", "eth0", 5), ("p1", "x12", 5), ("p2", "x21", 5), ("p3", "eth0", 5),
                           ("U", "vu0", 5), ("H", "br0", 5), ("q1", "eth0", 3)):
        nsd = docs.get(lbl)
        if not nsd:
            continue
        l = next((x for x in nsd.get("links") or [] if x.get("name") == eth), None)
        st = (l or {}).get("stats") or {}
        C.ok(st.get("rx_packets", 0) >= want and st.get("tx_packets", 0) >= want,
             "%s %s carried traffic (rx %s tx %s packets)"
             % (lbl, eth, st.get("rx_packets"), st.get("tx_packets")),
             "%s %s: rx_packets %r tx_packets %r, want >= %d each" % (by[lbl], eth, st.get("rx_packets"),
                                                                    st.get("tx_packets"), want))
    for lbl, names in (("p1", ("IcmpInEchoReps", "IcmpOutEchos", "Icmp6InEchoReplies", "TcpActiveOpens",
                               "TcpPassiveOpens", "TcpOutSegs", "IpInReceives", "Ip6InReceives")),
                       ("H", ("IcmpInEchos", "IcmpOutEchoReps", "Icmp6InEchos", "IpInReceives")),
                       ("U", ("IcmpInEchoReps", "Icmp6InEchoReplies"))):
        cnt = nonzero_cnt.get(lbl) or {}
        zero = [k for k in names if not cnt.get(k)]
        C.ok(not zero, "%s: counters %s non-zero" % (lbl, " ".join(names)),
             "%s: counters zero or missing: %s" % (by[lbl], zero))

    print("elapsed %.1fs" % (time.monotonic() - t0))
    C.rep.finish()


if __name__ == "__main__":
    sys.exit(main())
