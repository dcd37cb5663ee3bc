/* SPDX-License-Identifier: MIT */
/**
 * @file filter.h
 * ss's state filters and filter expressions, parsed once and evaluated per socket.
 *
 * Grammar (the words ss users type; see ss(8) "STATE-FILTER" and "EXPRESSION"):
 *
 *   filter  := { ("state" | "exclude" | "excl") STATE }* [ expr ]
 *   expr    := term { ("or" | "||" | "|") term }
 *   term    := factor { [ "and" | "&&" | "&" ] factor }      (juxtaposition is "and")
 *   factor  := ("not" | "!") factor | "(" expr ")" | cond
 *   cond    := ("sport" | "dport") OP PORTSPEC
 *            | ("src" | "dst") [ "=" | "==" | "eq" ] ADDRSPEC
 *            | ("src" | "dst") ("!=" | "ne" | "neq") ADDRSPEC
 *            | "dev" ("=" | "==" | "eq" | "!=" | "ne") IFNAME
 *   OP      := "=" | "==" | "eq" | "!=" | "ne" | "neq" | ">" | "gt" | "<" | "lt"
 *            | ">=" | "ge" | "geq" | "<=" | "le" | "leq"
 *   PORTSPEC := ":" NUMBER | NUMBER | ":" SERVICE
 *   ADDRSPEC := ADDR["/"LEN][":"PORT] | "[" ADDR6 "]"["/"LEN][":"PORT] | "*" | "*:"PORT | ":"PORT
 *            | unix path or glob starting with "/" or "@", or "unix:"PATH
 *
 * STATE is a state (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait,
 * closed, close-wait, last-ack, listening, closing, unconnected) or a group (all,
 * connected, synchronized, bucket, big). Parentheses may be separate tokens or glued
 * to words ("(dport", "443)") exactly as with ss.
 *
 * Semantics: port and inet address conditions never match unix sockets; a unix path
 * condition never matches inet sockets. An IPv4 prefix also matches IPv4-mapped IPv6
 * addresses. A bare address without a prefix length must match exactly.
 */
#ifndef NSNET_FILTER_H
#define NSNET_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <nsnet/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nsn_filter;

/** Where and why parsing failed. */
struct nsn_filter_error {
	int argi;        /**< index into argv of the offending token (argc if input ended early) */
	char msg[200];   /**< one line, e.g. "expected a port after 'dport =', got 'foo'" */
};

/**
 * Parse the words of a filter (what follows the options on the command line).
 * @param argc, argv  the words; may be 0/NULL (a filter that matches everything)
 * @return 0 and a new filter in *ret_filter (free with nsn_filter_free()), -EINVAL with
 *         *ret_err filled in on a syntax error, or -ENOMEM.
 */
int nsn_filter_parse(int argc, char *const *argv, struct nsn_filter **ret_filter,
		     struct nsn_filter_error *ret_err);

/**
 * The state mask chosen by "state"/"exclude" words.
 * @return the nsn_state bit mask, or 0 when the filter named no states (the caller then
 *         applies its default, as ss does with -a / -l).
 */
unsigned nsn_filter_states(const struct nsn_filter *f);

/** True when the filter has an expression beyond state words. NULL-safe (false). */
bool nsn_filter_has_expr(const struct nsn_filter *f);

/** Evaluate the expression (not the states) against one socket. NULL filter matches. */
bool nsn_filter_match(const struct nsn_filter *f, const struct nsn_sock *s);

/**
 * Parse one STATE word ("established", "connected", ...).
 * @return its nsn_state bit mask, or 0 if the word is no state.
 */
unsigned nsn_state_mask_parse(const char *word);

/** Free a filter. NULL-safe. */
void nsn_filter_free(struct nsn_filter *f);

#ifdef __cplusplus
}
#endif
#endif
