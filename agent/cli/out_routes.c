/* SPDX-License-Identifier: MIT */
/* STUB: being written (-r: routes and rules as ip prints them). */
#include "cli.h"

void out_netns_heading(FILE *f, const struct nsn_netns *ns) { (void)f; (void)ns; }
void out_route_line(FILE *f, const struct nsn_netns *ns, const struct nsn_route *r) { (void)f; (void)ns; (void)r; }
void out_rule_line(FILE *f, const struct nsn_rule *r) { (void)f; (void)r; }
void out_routes(FILE *f, const struct cli_opts *o, const struct nsn_scan *scan) { (void)f; (void)o; (void)scan; }
