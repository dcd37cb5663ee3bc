/* SPDX-License-Identifier: MIT */
/*
 * The recording nsn-loadgen replays: one agent session, read whole, every frame
 * decoded once to check the conversation and to index it. Replaying then only
 * copies byte ranges: the full resync and each scan are contiguous on the wire.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loadgen.h"

int nsn__read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	size_t off = 0;
	uint8_t *buf;
	int r, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return r;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = 0;
	*ret = buf;
	*ret_len = off;
	return 0;
}

static int bad(char *err, size_t err_len, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(char *err, size_t err_len, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return r;
}

/* Count the established TCP sockets of each local port, to pick a port that a
 * filtered query matches a few times per node. */
static void count_ports(const Nsnet__V1__NamespaceSnapshot *s, unsigned *ports)
{
	for (size_t i = 0; i < s->n_sockets; i++) {
		const Nsnet__V1__Socket *k = s->sockets[i];

		if (k->proto == NSNET__V1__PROTO__TCP && k->state == 1 /* TCP_ESTABLISHED */ &&
		    k->local_port < 65536 && ports[k->local_port] < 0xffff)
			ports[k->local_port]++;
	}
}

/* Frame @p i of the full resync (0 is the Hello). Returns 1 once it was the
 * ScanDone(full), 0 for a snapshot, or -EBADMSG. */
static int full_frame(struct recording *rec, size_t i, const NsnFrame *f, unsigned *ports,
		      char *err, size_t err_len)
{
	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_SNAPSHOT:
		rec->full_sockets += f->snapshot->n_sockets;
		rec->full_namespaces++;
		count_ports(f->snapshot, ports);
		if (!rec->first_ns[0] && f->snapshot->n_names && !f->snapshot->host)
			snprintf(rec->first_ns, sizeof(rec->first_ns), "%s", f->snapshot->names[0]);
		return 0;
	case NSNET__V1__FRAME__BODY_SCAN_DONE:
		if (!f->scan_done->full)
			return bad(err, err_len, -EBADMSG,
				   "frame %zu: the first ScanDone is not full", i + 1);
		rec->full_end = i + 1;
		rec->full_done_sockets = f->scan_done->sockets;
		return 1;
	default:
		return bad(err, err_len, -EBADMSG, "frame %zu: %s inside the full resync", i + 1,
			   nsn_wire_body_name(f));
	}
}

/* Frame @p i after the full resync, into the scan being read (*cur; NULL before its
 * first frame). Returns 0 or -errno. */
static int scan_frame(struct recording *rec, size_t i, const NsnFrame *f, size_t off, size_t len,
		      struct rec_scan **cur, char *err, size_t err_len)
{
	struct rec_scan *s = *cur;

	if (!s) {
		struct rec_scan *v = realloc(rec->scans, (rec->n_scans + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rec->scans = v;
		s = *cur = &rec->scans[rec->n_scans++];
		*s = (struct rec_scan){.first = i, .off = off};
	}
	s->n++;
	s->bytes += len;
	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_DELTA:
		s->added += f->delta->n_added;
		s->removed += f->delta->n_removed;
		s->changed += f->delta->n_changed;
		return 0;
	case NSNET__V1__FRAME__BODY_SNAPSHOT: /* a namespace that appeared */
		s->snapshots++;
		s->added += f->snapshot->n_sockets;
		return 0;
	case NSNET__V1__FRAME__BODY_GONE: s->gone++; return 0;
	case NSNET__V1__FRAME__BODY_SCAN_DONE:
		if (f->scan_done->full)
			return bad(err, err_len, -EBADMSG,
				   "frame %zu: a second full ScanDone (a second session?)", i + 1);
		s->sockets = f->scan_done->sockets;
		rec->delta_added += s->added;
		rec->delta_removed += s->removed;
		rec->delta_changed += s->changed;
		rec->delta_bytes += s->bytes;
		*cur = NULL;
		return 0;
	default:
		return bad(err, err_len, -EBADMSG, "frame %zu: an agent does not send %s", i + 1,
			   nsn_wire_body_name(f));
	}
}

static int index_frames(struct recording *rec, unsigned *ports, char *err, size_t err_len)
{
	struct rec_scan *cur = NULL;
	bool full_seen = false;
	size_t off = 0, cap = 0;
	int r;

	while (off < rec->size) {
		size_t i = rec->n_frames;
		uint32_t len;
		NsnFrame *f;

		if (rec->size - off < NSN_FRAME_HDR)
			return bad(err, err_len, -EBADMSG, "%zu trailing bytes after frame %zu",
				   rec->size - off, i);
		len = nsn_frame_get_header(rec->data + off);
		if (len > rec->size - off - NSN_FRAME_HDR)
			return bad(err, err_len, -EBADMSG,
				   "frame %zu truncated (%u bytes announced)", i + 1, len);
		r = nsn_wire_unpack(rec->data + off + NSN_FRAME_HDR, len, NSN_FRAME_MAX_LIMIT, &f);
		if (r < 0)
			return bad(err, err_len, r, "frame %zu at offset %zu: %s", i + 1, off,
				   strerror(-r));
		if (f->seq != i + 1) {
			r = bad(err, err_len, -EBADMSG,
				"frame %zu has seq %" PRIu64
				": one session's frames have 1, 2, 3, ...",
				i + 1, f->seq);
			nsn_wire_free(f);
			return r;
		}
		if (i == cap) {
			struct rec_frame *v;

			cap = cap ? cap * 2 : 1024;
			v = realloc(rec->frames, cap * sizeof(*v));
			if (!v) {
				nsn_wire_free(f);
				return -ENOMEM;
			}
			rec->frames = v;
		}
		rec->frames[i] = (struct rec_frame){off, NSN_FRAME_HDR + len, (int)f->body_case};

		if (i == 0) {
			if (f->body_case != NSNET__V1__FRAME__BODY_HELLO ||
			    f->hello->role != NSNET__V1__HELLO__ROLE__AGENT)
				r = bad(err, err_len, -EBADMSG,
					"the first frame is %s, not an agent's hello",
					nsn_wire_body_name(f));
			else
				rec->hello = f;
		} else if (!full_seen) {
			r = full_frame(rec, i, f, ports, err, err_len);
			full_seen = r == 1;
		} else {
			r = scan_frame(rec, i, f, off, NSN_FRAME_HDR + len, &cur, err, err_len);
		}
		if (r >= 0 && f->body_case == NSNET__V1__FRAME__BODY_SCAN_DONE) {
			nsn_wire_free(rec->last_done);
			rec->last_done = f;
		} else if (f != rec->hello) {
			nsn_wire_free(f);
		}
		if (r < 0)
			return r;
		rec->n_frames++;
		off += NSN_FRAME_HDR + len;
	}
	if (!full_seen)
		return bad(err, err_len, -EBADMSG, "no full ScanDone: not a complete recording");
	if (cur) /* a scan cut short by the end of the recording: not replayed */
		rec->n_scans--;
	return 0;
}

int nsn__rec_load(const char *path, struct recording *rec, char *err, size_t err_len)
{
	unsigned *ports = calloc(65536, sizeof(*ports));
	char why[300];
	int r;

	*rec = (struct recording){0};
	if (!ports)
		return -ENOMEM;
	r = nsn__read_file(path, &rec->data, &rec->size);
	if (r < 0) {
		free(ports);
		return bad(err, err_len, r, "%s: %s", path, strerror(-r));
	}
	why[0] = '\0';
	r = index_frames(rec, ports, why, sizeof(why));
	if (r < 0) {
		free(ports);
		return bad(err, err_len, r, "%s: %s", path, why[0] ? why : strerror(-r));
	}
	rec->full_off = rec->frames[1].off;
	rec->full_bytes =
	    rec->frames[rec->full_end - 1].off + rec->frames[rec->full_end - 1].len - rec->full_off;
	rec->interval_ms = rec->hello->hello->interval_ms ? rec->hello->hello->interval_ms : 10000;
	/* The port with the most established sockets among those with at most 3: a filter
	 * on it matches "a few sockets per node". */
	for (unsigned p = 1024; p < 65536; p++)
		if (ports[p] && ports[p] <= 3 && ports[p] > rec->rare_count) {
			rec->rare_port = p;
			rec->rare_count = ports[p];
		}
	free(ports);
	return 0;
}

void nsn__rec_release(struct recording *rec)
{
	nsn_wire_free(rec->hello);
	nsn_wire_free(rec->last_done);
	free(rec->frames);
	free(rec->scans);
	free(rec->data);
	*rec = (struct recording){0};
}
