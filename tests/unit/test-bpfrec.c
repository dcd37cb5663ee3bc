/* SPDX-License-Identifier: MIT */
/* The record layout the BPF walker and the gatherer share (agent/lib/bpf/nsnwalk.h),
 * pinned twice: against the BTF clang wrote into nsnwalk.bpf.o -- the layout the BPF
 * side really has -- member by member, and against the sizes the ring's records are
 * cut to (NSNW_*_SIZE). A change to either side that the other does not follow fails
 * here, not as garbage sockets at run time. */
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/btf.h>

#include "nsnwalk.h"
#include "tap.h"

static struct btf *btf;

/* The member @name of struct @type in the object's BTF, searching anonymous unions and
 * structs; its offset in bytes from the struct's start, or -1. */
static long member_off(int type_id, const char *path)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);
	const char *dot = strchr(path, '.');
	size_t len = dot ? (size_t)(dot - path) : strlen(path);
	const struct btf_member *m;

	while (btf_is_mod(t) || btf_is_typedef(t))
		t = btf__type_by_id(btf, t->type);
	if (!btf_is_composite(t))
		return -1;
	m = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		long base = btf_member_bit_offset(t, i) / 8;
		if (!mn || !*mn) {
			/* an anonymous union or struct: look inside */
			long o = member_off((int)m->type, path);
			if (o >= 0)
				return base + o;
			continue;
		}
		if (strlen(mn) == len && !strncmp(mn, path, len))
			return dot ? (member_off((int)m->type, dot + 1) < 0 ? -1 : base + member_off((int)m->type, dot + 1))
				   : base;
	}
	return -1;
}

static int struct_id(const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
}

#define PIN(S, type, field)                                                               \
	do {                                                                              \
		long o_ = member_off(S, #field);                                          \
		ASSERT_TRUE(o_ >= 0);                                                     \
		ASSERT_EQ(o_, offsetof(type, field));                                     \
	} while (0)

TEST(rec_layout_matches_bpf_object)
{
	int id = btf ? struct_id("nsnw_rec") : -1;

	ASSERT_TRUE(id > 0);
	if (id <= 0)
		return;
	ASSERT_EQ(btf__resolve_size(btf, id), sizeof(struct nsnw_rec));
	PIN(id, struct nsnw_rec, key);
	PIN(id, struct nsnw_rec, cookie);
	PIN(id, struct nsnw_rec, ino);
	PIN(id, struct nsnw_rec, netns);
	PIN(id, struct nsnw_rec, uid);
	PIN(id, struct nsnw_rec, rxq);
	PIN(id, struct nsnw_rec, txq);
	PIN(id, struct nsnw_rec, kind);
	PIN(id, struct nsnw_rec, family);
	PIN(id, struct nsnw_rec, proto);
	PIN(id, struct nsnw_rec, state);
	PIN(id, struct nsnw_rec, v6only);
	PIN(id, struct nsnw_rec, flags);
	PIN(id, struct nsnw_rec, len);
	PIN(id, struct nsnw_rec, in.sport);
	PIN(id, struct nsnw_rec, in.dport);
	PIN(id, struct nsnw_rec, in.ifindex);
	PIN(id, struct nsnw_rec, in.src);
	PIN(id, struct nsnw_rec, in.dst);
	PIN(id, struct nsnw_rec, in.dev);
	PIN(id, struct nsnw_rec, un.peer);
	PIN(id, struct nsnw_rec, un.path);
}

TEST(walk_state_matches_bpf_object)
{
	int id = btf ? struct_id("nsnw_walk") : -1;

	ASSERT_TRUE(id > 0);
	if (id <= 0)
		return;
	ASSERT_EQ(btf__resolve_size(btf, id), sizeof(struct nsnw_walk));
	PIN(id, struct nsnw_walk, base);
	PIN(id, struct nsnw_walk, node);
	PIN(id, struct nsnw_walk, net_cur);
	PIN(id, struct nsnw_walk, phase);
	PIN(id, struct nsnw_walk, bucket);
	PIN(id, struct nsnw_walk, net_pending);
	PIN(id, struct nsnw_walk, done);
}

/* The sizes records are cut to end exactly where the user side stops reading. */
TEST(record_sizes)
{
	ASSERT_EQ(NSNW_NET_SIZE, offsetof(struct nsnw_rec, in));
	ASSERT_EQ(NSNW_INET_SIZE, offsetof(struct nsnw_rec, in.dev) + sizeof(((struct nsnw_rec *)0)->in.dev));
	ASSERT_EQ(NSNW_UNIX_SIZE, offsetof(struct nsnw_rec, un.path));
	ASSERT_EQ(NSNW_REC_MAX, sizeof(struct nsnw_rec));
	ASSERT_TRUE(NSNW_UNIX_SIZE + NSNW_PATH_MAX <= NSNW_REC_MAX);
	ASSERT_EQ(sizeof(((struct nsnw_rec *)0)->un.path), 108); /* sizeof(sun_path) */
	ASSERT_EQ(NSNW_REC_MAX % 8, 0); /* ring records are 8-byte aligned */
}

/* The globals user space writes and reads through the skeleton's .bss exist with the
 * width it assumes. */
TEST(bss_globals)
{
	static const struct {
		const char *name;
		unsigned size;
	} vars[] = {
		{"nsnw_want", 4}, {"nsnw_phase", 4}, {"nsnw_bucket", 4}, {"nsnw_net", 4},
		{"nsnw_force", 4}, {"nsnw_net_pending", 4}, {"nsnw_stopped", 4},
		{"nsnw_records", 8}, {"nsnw_drops", 8}, {"nsnw_capped", 8}, {"nsnw_restarts", 8},
		{"nsnw_nets", 8}, {"nsnw_lost_net", 8},
	};

	for (size_t i = 0; btf && i < sizeof(vars) / sizeof(vars[0]); i++) {
		int id = btf__find_by_name_kind(btf, vars[i].name, BTF_KIND_VAR);
		ASSERT_TRUE(id > 0);
		if (id > 0)
			ASSERT_EQ(btf__resolve_size(btf, btf__type_by_id(btf, id)->type), vars[i].size);
	}
}

TEST(object_has_btf)
{
	btf = btf__parse_elf(NSN_BPF_OBJECT, NULL);
	ASSERT_TRUE(btf != NULL);
	if (!btf)
		fprintf(stderr, "# %s: no BTF\n", NSN_BPF_OBJECT);
}

TEST_MAIN(CASE(object_has_btf), CASE(rec_layout_matches_bpf_object), CASE(walk_state_matches_bpf_object),
	  CASE(record_sizes), CASE(bss_globals))
