/* SPDX-License-Identifier: MIT */
/* STUB: being written (iproute2's words for routing and link attributes). */
#include <stdio.h>
#include <nsnet/rtnames.h>

static const char *num(unsigned v, char *buf, size_t len)
{
	snprintf(buf, len, "%u", v);
	return buf;
}
const char *nsn_rt_table_name(uint32_t table, char *buf, size_t len) { return num(table, buf, len); }
const char *nsn_rt_proto_name(unsigned proto, char *buf, size_t len) { return num(proto, buf, len); }
const char *nsn_rt_scope_name(unsigned scope, char *buf, size_t len) { return num(scope, buf, len); }
const char *nsn_rt_type_name(unsigned type, char *buf, size_t len) { return num(type, buf, len); }
const char *nsn_rt_pref_name(unsigned pref) { (void)pref; return NULL; }
const char *nsn_rule_action_name(unsigned action, char *buf, size_t len) { return num(action, buf, len); }
const char *nsn_link_operstate_name(unsigned o, char *buf, size_t len) { return num(o, buf, len); }
const char *nsn_link_type_name(unsigned t, char *buf, size_t len) { return num(t, buf, len); }
size_t nsn_link_flag_names(uint32_t flags, const char **ret, size_t max, char *hexbuf) { (void)flags; (void)ret; (void)max; (void)hexbuf; return 0; }
size_t nsn_route_flag_names(uint32_t flags, const char **ret, size_t max) { (void)flags; (void)ret; (void)max; return 0; }
size_t nsn_addr_flag_names(uint32_t flags, unsigned family, const char **ret, size_t max) { (void)flags; (void)family; (void)ret; (void)max; return 0; }
char *nsn_fmt_lladdr(const uint8_t *addr, size_t n, char *buf, size_t len) { (void)addr; (void)n; if (len) buf[0] = 0; return buf; }
char *nsn_fmt_prefix(unsigned family, const uint8_t *addr, unsigned plen, bool present, char *buf, size_t len) { (void)family; (void)addr; (void)plen; (void)present; if (len) buf[0] = 0; return buf; }
