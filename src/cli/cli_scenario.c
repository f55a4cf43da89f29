/* cli_scenario: YAML scenario files (libyaml's document API) into struct
 * mv_scenario.  Fields are described by tables so every key is checked the same way. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "cli_run.h"
#include "cli_scenario.h"
#include "cli_text.h"
#include "hw/hw_elf.h"
#include "hw/hw_model.h"
#include "hw/hw_x86.h"
#include "host/perf.h"

/* The model's physical CPUs are perf's per-CPU contexts. */
#define CLI_MAX_PCPUS PERF_MAX_CPUS
_Static_assert(PERF_MAX_CPUS == MV_MAX_PCPUS, "scenario.h and perf agree on CPUs");

/* All the work of a scenario: the truth of every context, their sums and
 * simulated time (an instruction is at most 2 events of any kind) stay
 * below 2^64. */
#define CLI_MAX_WORK (1ULL << 62)

struct pctx {
	const char *fname;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	struct mv_scenario *sc;
	unsigned vm;			/* VM being parsed */
	/* Where the vPMU keys were given, to name the line of a conflict. */
	unsigned vpmu_line, kvm_line, vms_line;
	unsigned vm_vpmu_line[MV_MAX_VMS];
	/* Where each pin was given, to check it once pcpus is known. */
	unsigned pin_line[MV_MAX_VMS][MV_MAX_VCPUS];
	unsigned nr_progs[MV_MAX_VMS];	/* checked against vcpus at the end */
	uint64_t work_total;		/* instructions of every workload so far */
};

enum ftype { F_U64, F_UINT, F_U32, F_INT, F_BOOL, F_STR, F_SUB };

typedef int (*sub_fn)(struct pctx *p, yaml_node_t *val, void *obj);

/* One key of a mapping: where its value goes in the object and its range. */
struct field {
	const char *key;
	enum ftype type;
	size_t off, size;
	uint64_t min, max;
	sub_fn sub;
};

#define FNUM(k, t, s, m, lo, hi) { k, t, offsetof(s, m), sizeof(((s *)0)->m), lo, hi, NULL }
#define FBOOL(k, s, m) { k, F_BOOL, offsetof(s, m), sizeof(bool), 0, 1, NULL }
#define FSTR(k, s, m) { k, F_STR, offsetof(s, m), sizeof(((s *)0)->m), 0, 0, NULL }
#define FSUB(k, fn) { k, F_SUB, 0, 0, 0, 0, fn }
#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static unsigned node_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

/* "FILE:LINE: message" in err: the file name escaped, and shortened in
 * the middle rather than cutting the message off when room is short. */
static void vfail_at(char *err, size_t errlen, const char *fname, unsigned line,
		     const char *fmt, va_list ap)
{
	char msg[1024], where[32], path[CLI_ERR_MAX];
	size_t plen, room;

	if (!errlen)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(where, sizeof(where), ":%u: ", line);
	plen = cli_escape_str(path, sizeof(path), fname, 0);
	room = errlen - 1 > strlen(msg) + strlen(where) ?
	       errlen - 1 - strlen(msg) - strlen(where) : 0;
	if (plen > room && room > 16) {
		size_t tail = room - 16;	/* "<12 chars>...<tail>" */

		memmove(path + 15, path + plen - tail, tail + 1);
		memcpy(path + 12, "...", 3);
	}
	snprintf(err, errlen, "%s%s%s", path, where, msg);
}

void cli_scenario_error(char *err, size_t errlen, const char *fname, unsigned line,
			const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(err, errlen, fname, line ? line : 1, fmt, ap);
	va_end(ap);
}

/* Records the first error only: later ones are consequences of it. */
static int fail(struct pctx *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(p->err, p->errlen, p->fname, line, fmt, ap);
	va_end(ap);
	return -1;
}

/* What a node is, for the "got" half of a message. */
static const char *describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->data.scalar.length == 0)
		return "nothing";
	buf[0] = '\'';
	cli_escape(buf + 1, len - 2, (const char *)n->data.scalar.value,
		   n->data.scalar.length, 40);
	strcat(buf, "'");
	return buf;
}

static int expect(struct pctx *p, const yaml_node_t *n, const char *what)
{
	char buf[200];

	return fail(p, node_line(n), "expected %s, got %s", what,
		    describe(n, buf, sizeof(buf)));
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* Decimal or 0x hex, nothing else: YAML's own int rules accept more
 * (octal, underscores) than a scenario should. */
static int parse_u64(struct pctx *p, yaml_node_t *n, uint64_t *out)
{
	if (n->type != YAML_SCALAR_NODE)
		return expect(p, n, "an integer");
	switch (cli_parse_u64(scalar(n), out)) {
	case 0:
		return 0;
	case -ERANGE:
		return expect(p, n, "an integer below 2^64");
	default:
		return expect(p, n, "an integer (decimal or 0x hex)");
	}
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	const char *digits = s;
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		digits = s + 2;
	}
	/* Digits only: strtoull would also take spaces, a sign, and a
	 * second 0x after the first ("0x0x2"). */
	if (!digits[0] || digits[strspn(digits, base == 16 ? "0123456789abcdefABCDEF" :
					 "0123456789")])
		return -EINVAL;
	errno = 0;
	*out = strtoull(digits, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	return *end ? -EINVAL : 0;
}

static int parse_ranged(struct pctx *p, yaml_node_t *n, const char *key,
			uint64_t min, uint64_t max, uint64_t *out)
{
	char what[96];

	if (parse_u64(p, n, out))
		return -1;
	if (*out < min || *out > max) {
		snprintf(what, sizeof(what), "%s from %" PRIu64 " to %" PRIu64,
			 key, min, max);
		return expect(p, n, what);
	}
	return 0;
}

static int parse_bool(struct pctx *p, yaml_node_t *n, bool *out)
{
	if (n->type == YAML_SCALAR_NODE && !strcmp(scalar(n), "true"))
		*out = true;
	else if (n->type == YAML_SCALAR_NODE && !strcmp(scalar(n), "false"))
		*out = false;
	else
		return expect(p, n, "true or false");
	return 0;
}

static int parse_str(struct pctx *p, yaml_node_t *n, char *dst, size_t size)
{
	char what[64];

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
		return expect(p, n, "a string");
	if (!cli_text_clean(scalar(n), n->data.scalar.length))
		return expect(p, n, "a string without control characters");
	if (n->data.scalar.length >= size) {
		snprintf(what, sizeof(what), "a string of at most %zu characters",
			 size - 1);
		return expect(p, n, what);
	}
	memcpy(dst, n->data.scalar.value, n->data.scalar.length + 1);
	return 0;
}

/* Stores an integer in a field of whichever width it has. */
static void store_num(void *dst, enum ftype type, uint64_t v)
{
	switch (type) {
	case F_U64: *(uint64_t *)dst = v; break;
	case F_UINT: *(unsigned *)dst = (unsigned)v; break;
	case F_U32: *(uint32_t *)dst = (uint32_t)v; break;
	case F_INT: *(int *)dst = (int)v; break;
	default: break;
	}
}

static int parse_field(struct pctx *p, const struct field *f, yaml_node_t *val,
		       void *obj)
{
	char *dst = (char *)obj + f->off;
	uint64_t v;

	switch (f->type) {
	case F_BOOL:
		return parse_bool(p, val, (bool *)dst);
	case F_STR:
		return parse_str(p, val, dst, f->size);
	case F_SUB:
		return f->sub(p, val, obj);
	default:
		if (parse_ranged(p, val, f->key, f->min, f->max, &v))
			return -1;
		store_num(dst, f->type, v);
		return 0;
	}
}

static void key_list(const struct field *f, size_t nf, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < nf && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s",
				 i ? ", " : "", f[i].key);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Walks a mapping: unknown and repeated keys are errors.  *seen gets one
 * bit per field index given. */
static int walk_map(struct pctx *p, yaml_node_t *map, const char *what,
		    const struct field *f, size_t nf, void *obj, uint64_t *seen)
{
	char buf[400], gotbuf[64];
	yaml_node_pair_t *pair;

	*seen = 0;
	if (map->type != YAML_MAPPING_NODE) {
		snprintf(buf, sizeof(buf), "a mapping (%s)", what);
		return expect(p, map, buf);
	}
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		size_t i;

		for (i = 0; i < nf && k->type == YAML_SCALAR_NODE; i++)
			if (!strcmp(scalar(k), f[i].key))
				break;
		if (k->type != YAML_SCALAR_NODE || i == nf) {
			char keys[300];

			key_list(f, nf, keys, sizeof(keys));
			return fail(p, node_line(k), "expected a key of %s (%s), got %s",
				    what, keys, describe(k, gotbuf, sizeof(gotbuf)));
		}
		if (*seen & (1ULL << i))
			return fail(p, node_line(k), "expected '%s' once in %s, got it again",
				    f[i].key, what);
		*seen |= 1ULL << i;
		if (parse_field(p, &f[i], v, obj))
			return -1;
	}
	return 0;
}

static bool was_seen(const struct field *f, size_t nf, uint64_t seen,
		     const char *key)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].key, key))
			return seen & (1ULL << i);
	return false;
}

static int require(struct pctx *p, yaml_node_t *map, const char *what,
		   const struct field *f, size_t nf, uint64_t seen, const char *key)
{
	if (was_seen(f, nf, seen, key))
		return 0;
	return fail(p, node_line(map), "expected '%s' in %s, got no such key",
		    key, what);
}

static int check_seq(struct pctx *p, yaml_node_t *n, const char *what,
		     size_t max, size_t *count)
{
	char buf[96];

	if (n->type != YAML_SEQUENCE_NODE) {
		snprintf(buf, sizeof(buf), "a list of %s", what);
		return expect(p, n, buf);
	}
	*count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (*count > max)
		return fail(p, node_line(n), "expected at most %zu %s, got %zu",
			    max, what, *count);
	return 0;
}

static yaml_node_t *seq_item(struct pctx *p, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(p->doc, seq->data.sequence.items.start[i]);
}

/* Event specs are checked here, where the line is known; what the
 * model's PMU makes of them is decided when the run starts. */
static int parse_events(struct pctx *p, yaml_node_t *n,
			char (*ev)[MV_NAME_MAX], unsigned *lines, unsigned *nr)
{
	size_t count;

	if (check_seq(p, n, "events", MV_MAX_EVENTS, &count))
		return -1;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = seq_item(p, n, i);
		struct perf_event_attr attr;

		if (parse_str(p, item, ev[i], MV_NAME_MAX))
			return -1;
		lines[i] = node_line(item);
		if (perf_parse_event(ev[i], &attr, NULL, 0))
			return expect(p, item, "a perf event (cycles, instructions, branches, "
				      "branch-misses, cache-references, cache-misses, ref-cycles "
				      "or rHEX, with :u :k :G :H)");
	}
	*nr = (unsigned)count;
	return 0;
}

/* ---- workloads ---- */

static const struct field segment_fields[] = {
	FSTR("label", struct mv_segment, label),
	FNUM("instructions", F_U64, struct mv_segment, instructions, 1, UINT64_MAX / 2),
	FBOOL("kernel", struct mv_segment, kernel),
	FNUM("emulated", F_UINT, struct mv_segment, emulated, 0, CLI_MAX_EMULATED),
};

static int sub_segments(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_workload *w = obj;
	uint64_t seen;
	size_t count;

	if (check_seq(p, n, "segments", MV_MAX_SEGMENTS, &count))
		return -1;
	if (count == 0)
		return expect(p, n, "at least one segment");
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *s = seq_item(p, n, i);

		if (walk_map(p, s, "segment", segment_fields,
			     NFIELDS(segment_fields), &w->seg[i], &seen) ||
		    require(p, s, "segment", segment_fields,
			    NFIELDS(segment_fields), seen, "label") ||
		    require(p, s, "segment", segment_fields,
			    NFIELDS(segment_fields), seen, "instructions"))
			return -1;
	}
	w->nr_seg = (unsigned)count;
	return 0;
}

static const struct field work_fields[] = {
	FNUM("passes", F_U64, struct mv_workload, passes, 1, CLI_MAX_PASSES),
	FNUM("chunk", F_U64, struct mv_workload, chunk, 0, UINT64_MAX / 2),
	FSUB("segments", sub_segments),
};

/* passes x (instructions + emulated) of every segment, added to the
 * scenario's total, which must stay below CLI_MAX_WORK. */
static int count_work(struct pctx *p, yaml_node_t *n, const struct mv_workload *w)
{
	unsigned __int128 per_pass = 0, total;

	for (unsigned i = 0; i < w->nr_seg; i++)
		per_pass += (unsigned __int128)w->seg[i].instructions + w->seg[i].emulated;
	total = per_pass * w->passes + p->work_total;
	if (total > CLI_MAX_WORK)
		return fail(p, node_line(n), "expected at most 2^62 instructions of work in "
			    "the whole scenario (passes x instructions, all workloads), got more");
	p->work_total = (uint64_t)total;
	return 0;
}

static int parse_work(struct pctx *p, yaml_node_t *n, struct mv_workload *w)
{
	uint64_t seen;

	memset(w, 0, sizeof(*w));
	w->passes = 1;
	if (walk_map(p, n, "work", work_fields, NFIELDS(work_fields), w, &seen) ||
	    require(p, n, "work", work_fields, NFIELDS(work_fields), seen, "segments"))
		return -1;
	return count_work(p, n, w);
}

/* ---- programs ---- */

struct prog_in {
	struct mv_program prog;
	uint64_t pin;
	unsigned pin_line;
	unsigned image_line, boot_line;
};

static const char *const kind_names[] = {
	[MV_PROG_STAT] = "stat", [MV_PROG_RECORD] = "record", [MV_PROG_RR] = "rr",
	[MV_PROG_EMULATED] = "emulated", [MV_PROG_IDLE] = "idle",
	[MV_PROG_IMAGE] = "image",
};

static int sub_kind(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct prog_in *in = obj;

	for (size_t i = 0; n->type == YAML_SCALAR_NODE && i < NFIELDS(kind_names); i++) {
		if (!strcmp(scalar(n), kind_names[i])) {
			in->prog.kind = (enum mv_program_kind)i;
			return 0;
		}
	}
	return expect(p, n, "a program kind (stat, record, rr, emulated, idle, image)");
}

static int sub_prog_events(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct prog_in *in = obj;

	return parse_events(p, n, in->prog.events, in->prog.event_line,
			    &in->prog.nr_events);
}

static int sub_prog_work(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct prog_in *in = obj;

	return parse_work(p, n, &in->prog.work);
}

static int sub_pin(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct prog_in *in = obj;

	in->pin_line = node_line(n);
	return parse_ranged(p, n, "pin", 0, CLI_MAX_PCPUS - 1, &in->pin);
}

/* A path relative to the directory of the scenario file. */
static int rel_path(struct pctx *p, yaml_node_t *n, const char *rel, char *out, size_t len,
		    const char *what)
{
	const char *slash = strrchr(p->fname, '/');
	int k;

	if (rel[0] == '/' || !slash)
		k = snprintf(out, len, "%s", rel);
	else
		k = snprintf(out, len, "%.*s/%s", (int)(slash - p->fname), p->fname, rel);
	if (k < 0 || (size_t)k >= len)
		return expect(p, n, what);
	return 0;
}

static int sub_image(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct prog_in *in = obj;
	char rel[MV_PATH_MAX];

	if (parse_str(p, n, rel, sizeof(rel)) ||
	    rel_path(p, n, rel, in->prog.image, sizeof(in->prog.image),
		     "an image path shorter than 512 characters with the scenario's directory"))
		return -1;
	in->image_line = node_line(n);
	return 0;
}

/* A multiboot kernel's command line, as QEMU's -append. */
static int sub_cmdline(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct prog_in *in = obj;

	if (parse_str(p, n, in->prog.cmdline, sizeof(in->prog.cmdline)))
		return -1;
	in->prog.cmdline_set = true;
	in->boot_line = in->boot_line ? in->boot_line : node_line(n);
	return 0;
}

/* Its modules: "FILE [ARGS]" each, FILE relative to the scenario's
 * directory, and readable now (the error names the line). */
static int sub_modules(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct prog_in *in = obj;
	size_t count;

	if (check_seq(p, n, "modules", MV_MAX_MODULES, &count))
		return -1;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *it = seq_item(p, n, i);
		char rel[MV_PATH_MAX], *mod = in->prog.modules[i];
		FILE *f;

		if (parse_str(p, it, rel, sizeof(rel)) ||
		    rel_path(p, it, rel, mod, MV_PATH_MAX,
			     "a module shorter than 512 characters with the scenario's directory"))
			return -1;
		mod[strcspn(mod, " ")] = '\0';
		f = fopen(mod, "rb");
		if (!f)
			return fail(p, node_line(it), "expected a module file mvpmu can read, got '%s' (%s)",
				    mod, strerror(errno));
		fclose(f);
		if (strchr(rel, ' ') && rel_path(p, it, rel, mod, MV_PATH_MAX,
						 "a module shorter than 512 characters with the scenario's directory"))
			return -1;
	}
	in->prog.nr_modules = (unsigned)count;
	in->boot_line = in->boot_line ? in->boot_line : node_line(n);
	return 0;
}

static int sub_mem(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct prog_in *in = obj;

	if (n->type != YAML_SCALAR_NODE || cli_parse_mem(scalar(n), &in->prog.mem))
		return expect(p, n, "a memory size (MiB, or a number with K, M or G) "
			      "from 2M to 3G, a multiple of 4K");
	return 0;
}

static const struct field prog_fields[] = {
	FSUB("kind", sub_kind),
	FSUB("image", sub_image),
	FSUB("mem", sub_mem),
	FSUB("cmdline", sub_cmdline),
	FSUB("modules", sub_modules),
	FNUM("insn_limit", F_U64, struct prog_in, prog.insn_limit, 1, UINT64_MAX / 2),
	FSUB("events", sub_prog_events),
	FNUM("period", F_U64, struct prog_in, prog.period, 1, UINT64_MAX / 2),
	FNUM("freq", F_U64, struct prog_in, prog.freq, 1, CLI_MAX_FREQ),
	FNUM("rr_ticks", F_U64, struct prog_in, prog.rr_ticks, 1, UINT64_MAX / 2),
	FNUM("preset", F_U64, struct prog_in, prog.preset, 1, UINT32_MAX),
	FNUM("handler_work", F_U64, struct prog_in, prog.handler_work, 1, 1000000),
	FSUB("pin", sub_pin),
	FSUB("work", sub_prog_work),
};

/* An image is its own program: the file must be an image mvpmu can run
 * (checked now, so the error names the line), with no workload. */
static int check_image(struct pctx *p, yaml_node_t *n, const struct prog_in *in,
		       uint64_t seen)
{
	struct hw_elf *elf;
	char msg[400];

	if (!in->image_line)
		return fail(p, node_line(n), "expected image for kind: image, got no such key");
	if (was_seen(prog_fields, NFIELDS(prog_fields), seen, "work") ||
	    was_seen(prog_fields, NFIELDS(prog_fields), seen, "events"))
		return fail(p, node_line(n), "expected no work or events for kind: image "
			    "(the image is the program), got them");
	if (hw_elf_open(in->prog.image, in->prog.mem ? in->prog.mem : HW_X86_MEM_DEFAULT,
			&elf, msg, sizeof(msg)))
		return fail(p, in->image_line, "expected an x86-64 ELF image or a multiboot "
			    "kernel mvpmu can run, got %s", msg);
	if (!elf->multiboot && in->boot_line) {
		hw_elf_free(elf);
		return fail(p, in->boot_line, "expected cmdline and modules only for a multiboot "
			    "kernel, got them for the ELF64 image %s", in->prog.image);
	}
	hw_elf_free(elf);
	return 0;
}

/* Keys that only make sense for one kind, and what that kind needs. */
static int check_program(struct pctx *p, yaml_node_t *n, const struct prog_in *in,
			 uint64_t seen)
{
	static const struct { const char *key; enum mv_program_kind kind; } only[] = {
		{ "period", MV_PROG_RECORD }, { "freq", MV_PROG_RECORD },
		{ "rr_ticks", MV_PROG_RR }, { "preset", MV_PROG_EMULATED },
		{ "handler_work", MV_PROG_EMULATED },
		{ "image", MV_PROG_IMAGE }, { "mem", MV_PROG_IMAGE },
		{ "insn_limit", MV_PROG_IMAGE }, { "cmdline", MV_PROG_IMAGE },
		{ "modules", MV_PROG_IMAGE },
	};
	const struct mv_program *pr = &in->prog;

	for (size_t i = 0; i < NFIELDS(only); i++)
		if (was_seen(prog_fields, NFIELDS(prog_fields), seen, only[i].key) &&
		    pr->kind != only[i].kind)
			return fail(p, node_line(n), "expected '%s' only with kind: %s, got kind: %s",
				    only[i].key, kind_names[only[i].kind],
				    kind_names[pr->kind]);
	if (pr->kind == MV_PROG_RECORD && !pr->period == !pr->freq)
		return fail(p, node_line(n), "expected one of period or freq for kind: record, got %s",
			    pr->period ? "both" : "neither");
	if (pr->kind == MV_PROG_RR && !pr->rr_ticks)
		return fail(p, node_line(n), "expected rr_ticks for kind: rr, got no such key");
	if ((pr->kind == MV_PROG_STAT || pr->kind == MV_PROG_RECORD ||
	     pr->kind == MV_PROG_EMULATED) && !pr->nr_events)
		return fail(p, node_line(n), "expected events for kind: %s, got none",
			    kind_names[pr->kind]);
	if (pr->kind == MV_PROG_IMAGE)
		return check_image(p, n, in, seen);
	return 0;
}

static int parse_program(struct pctx *p, yaml_node_t *n, struct prog_in *in)
{
	uint64_t seen;

	memset(in, 0, sizeof(*in));
	in->prog.work.passes = 1;
	in->prog.line = node_line(n);
	if (walk_map(p, n, "program", prog_fields, NFIELDS(prog_fields), in, &seen) ||
	    require(p, n, "program", prog_fields, NFIELDS(prog_fields), seen, "kind"))
		return -1;
	return check_program(p, n, in, seen);
}

/* ---- VMs ---- */

static int sub_vm_vpmu(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_vm_config *vm = obj;

	if (n->type != YAML_SCALAR_NODE || cli_vpmu_parse(scalar(n), &vm->vpmu))
		return expect(p, n, "a vPMU (none, emulated, mediated)");
	vm->vpmu_set = true;
	p->vm_vpmu_line[p->vm] = node_line(n);
	return 0;
}

/* irqchip: false is a VM without KVM_CREATE_IRQCHIP (no in-kernel LAPIC). */
static int sub_irqchip(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_vm_config *vm = obj;
	bool in_kernel = true;

	if (parse_bool(p, n, &in_kernel))
		return -1;
	vm->no_irqchip = !in_kernel;
	return 0;
}

/* pmi_ack: where the guest kernel's Intel PMI handler unmasks LVTPC. */
static int sub_pmi_ack(struct pctx *p, yaml_node_t *n, void *obj)
{
	static const char *const names[] = { "auto", "early", "mid", "late" };
	struct mv_vm_config *vm = obj;
	const char *s = n->type == YAML_SCALAR_NODE ? scalar(n) : "";

	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			vm->pmi_ack = i;
			return 0;
		}
	return expect(p, n, "a PMI ack point (auto, early, mid, late)");
}

static int sub_perf_caps(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_vm_config *vm = obj;
	uint64_t v;

	if (parse_ranged(p, n, "perf_capabilities", 0, INT64_MAX, &v))
		return -1;
	vm->perf_caps = (int64_t)v;
	return 0;
}

/* The guest PMU's version and counter counts (at most what hardware has). */
static const struct field pmu_fields[] = {
	FNUM("version", F_INT, struct mv_vm_config, pmu_version, 0, 5),
	FNUM("gp", F_INT, struct mv_vm_config, nr_gp, 0, 8),
	FNUM("fixed", F_INT, struct mv_vm_config, nr_fixed, 0, 4),
	FSUB("perf_capabilities", sub_perf_caps),
};

static int sub_pmu(struct pctx *p, yaml_node_t *n, void *obj)
{
	uint64_t seen;

	return walk_map(p, n, "pmu", pmu_fields, NFIELDS(pmu_fields), obj, &seen);
}

static int sub_filter_action(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_filter *f = obj;
	const char *s = n->type == YAML_SCALAR_NODE ? scalar(n) : "";

	/* KVM_PMU_EVENT_ALLOW is 0, KVM_PMU_EVENT_DENY is 1. */
	if (!strcmp(s, "allow") || !strcmp(s, "0"))
		f->action = 0;
	else if (!strcmp(s, "deny") || !strcmp(s, "1"))
		f->action = 1;
	else
		return expect(p, n, "a filter action (allow, deny, 0, 1)");
	return 0;
}

/* The storage cap is KVM's own limit, so a longer list could never be set. */
static int sub_filter_events(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_filter *f = obj;
	size_t count;

	if (check_seq(p, n, "filter events", MV_MAX_FILTER_EVENTS, &count))
		return -1;
	for (size_t i = 0; i < count; i++)
		if (parse_u64(p, seq_item(p, n, i), &f->events[i]))
			return -1;
	f->nevents = (uint32_t)count;
	return 0;
}

static const struct field filter_fields[] = {
	FSUB("action", sub_filter_action),
	FSUB("events", sub_filter_events),
	FNUM("fixed_counter_bitmap", F_U32, struct mv_filter, fixed_counter_bitmap, 0, UINT32_MAX),
	FNUM("flags", F_U32, struct mv_filter, flags, 0, UINT32_MAX),
};

static int sub_filter(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_vm_config *vm = obj;
	uint64_t seen;

	memset(&vm->filter, 0, sizeof(vm->filter));
	vm->filter.present = true;
	vm->filter.line = node_line(n);
	if (walk_map(p, n, "filter", filter_fields, NFIELDS(filter_fields),
		     &vm->filter, &seen))
		return -1;
	return require(p, n, "filter", filter_fields, NFIELDS(filter_fields),
		       seen, "action");
}

static int sub_programs(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_vm_config *vm = obj;
	struct prog_in in;
	size_t count;

	if (check_seq(p, n, "programs", MV_MAX_VCPUS, &count))
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (parse_program(p, seq_item(p, n, i), &in))
			return -1;
		vm->prog[i] = in.prog;
		vm->pin[i] = in.pin_line ? (int)in.pin : -1;
		p->pin_line[p->vm][i] = in.pin_line;
	}
	p->nr_progs[p->vm] = (unsigned)count;
	return 0;
}

static const struct field vm_fields[] = {
	FSTR("name", struct mv_vm_config, name),
	FNUM("vcpus", F_UINT, struct mv_vm_config, nr_vcpus, 1, MV_MAX_VCPUS),
	FSUB("vpmu", sub_vm_vpmu),
	FBOOL("disable_pmu", struct mv_vm_config, disable_pmu),
	FSUB("irqchip", sub_irqchip),
	FSUB("pmi_ack", sub_pmi_ack),
	FSUB("pmu", sub_pmu),
	FSUB("filter", sub_filter),
	FSUB("programs", sub_programs),
};

/* vCPUs beyond the programs given run idle. */
static int finish_vm(struct pctx *p, yaml_node_t *n, struct mv_vm_config *vm)
{
	unsigned given = p->nr_progs[p->vm];

	if (given > vm->nr_vcpus)
		return fail(p, node_line(n), "expected at most %u programs (one per vCPU), got %u",
			    vm->nr_vcpus, given);
	/* An image is the whole guest, kernel included: one vCPU. */
	for (unsigned i = 0; i < given; i++)
		if (vm->prog[i].kind == MV_PROG_IMAGE && vm->nr_vcpus != 1)
			return fail(p, node_line(n), "expected kind: image on a VM of one vCPU, "
				    "got %u vCPUs", vm->nr_vcpus);
	for (unsigned i = given; i < MV_MAX_VCPUS; i++) {
		memset(&vm->prog[i], 0, sizeof(vm->prog[i]));
		vm->prog[i].kind = MV_PROG_IDLE;
		vm->pin[i] = -1;
	}
	return 0;
}

static int parse_vm(struct pctx *p, yaml_node_t *n, struct mv_vm_config *vm)
{
	uint64_t seen;

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->name, sizeof(vm->name), "vm%u", p->vm);
	vm->nr_vcpus = 1;
	vm->pmu_version = vm->nr_gp = vm->nr_fixed = -1;
	vm->perf_caps = -1;
	vm->line = node_line(n);
	if (walk_map(p, n, "vm", vm_fields, NFIELDS(vm_fields), vm, &seen))
		return -1;
	return finish_vm(p, n, vm);
}

static int sub_vms(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_scenario *sc = obj;
	size_t count;

	p->vms_line = node_line(n);
	if (check_seq(p, n, "vms", MV_MAX_VMS, &count))
		return -1;
	for (size_t i = 0; i < count; i++) {
		p->vm = (unsigned)i;
		if (parse_vm(p, seq_item(p, n, i), &sc->vm[i]))
			return -1;
	}
	sc->nr_vms = (unsigned)count;
	return 0;
}

/* ---- host and top level ---- */

static int sub_host_events(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_host_config *h = obj;

	return parse_events(p, n, h->events, h->event_line, &h->nr_events);
}

static int sub_host_work(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_host_config *h = obj;

	h->has_work = true;
	return parse_work(p, n, &h->work);
}

static const struct field host_fields[] = {
	FSUB("events", sub_host_events),
	FBOOL("system_wide", struct mv_host_config, system_wide),
	FSUB("work", sub_host_work),
};

static int sub_host(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_scenario *sc = obj;
	uint64_t seen;

	return walk_map(p, n, "host", host_fields, NFIELDS(host_fields),
			&sc->host, &seen);
}

static int sub_vpmu(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_scenario *sc = obj;

	if (n->type != YAML_SCALAR_NODE || cli_vpmu_parse(scalar(n), &sc->vpmu))
		return expect(p, n, "a vPMU (none, emulated, mediated)");
	sc->vpmu_set = true;
	p->vpmu_line = node_line(n);
	return 0;
}

/* kvm: the module parameters, as `modprobe kvm enable_pmu=...`. */
static const struct field kvm_fields[] = {
	FBOOL("enable_pmu", struct mv_kvm_params, enable_pmu),
	FBOOL("enable_mediated_pmu", struct mv_kvm_params, enable_mediated_pmu),
	FBOOL("force_emulation_prefix", struct mv_kvm_params, force_emulation_prefix),
};

static int sub_kvm(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_scenario *sc = obj;
	uint64_t seen;

	/* The defaults of a freshly loaded 7.0 KVM. */
	sc->kvm = (struct mv_kvm_params){ .set = true, .enable_pmu = true };
	p->kvm_line = node_line(n);
	return walk_map(p, n, "kvm", kvm_fields, NFIELDS(kvm_fields), &sc->kvm, &seen);
}

static int sub_patches(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_scenario *sc = obj;
	char what[160];
	size_t count;

	if (check_seq(p, n, "patches", MV_NR_PATCHES, &count))
		return -1;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *it = seq_item(p, n, i);
		uint32_t bit = it->type == YAML_SCALAR_NODE ? cli_patch_parse(scalar(it)) : 0;

		if (!bit) {
			cli_patch_list(what, sizeof(what));
			return expect(p, it, what);
		}
		sc->patches |= bit;
	}
	return 0;
}

static int sub_bare(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_scenario *sc = obj;
	struct prog_in in;

	if (parse_program(p, n, &in))
		return -1;
	sc->bare = in.prog;
	sc->bare_set = true;
	return 0;
}

/* The CPU model must be one the model has, named at its line. */
static int sub_cpu(struct pctx *p, yaml_node_t *n, void *obj)
{
	struct mv_scenario *sc = obj;
	char what[160];
	size_t used = 0;

	if (parse_str(p, n, sc->cpu, sizeof(sc->cpu)))
		return -1;
	sc->cpu_line = node_line(n);
	if (hw_model_find(sc->cpu))
		return 0;
	used = (size_t)snprintf(what, sizeof(what), "a CPU model (");
	for (size_t i = 0; i < hw_nr_models && used < sizeof(what); i++)
		used += (size_t)snprintf(what + used, sizeof(what) - used, "%s%s",
					 i ? ", " : "", hw_models[i].name);
	if (used < sizeof(what))
		snprintf(what + used, sizeof(what) - used, ")");
	return expect(p, n, what);
}

static const struct field top_fields[] = {
	FSTR("name", struct mv_scenario, name),
	FSTR("description", struct mv_scenario, desc),
	FSUB("cpu", sub_cpu),
	FNUM("pcpus", F_UINT, struct mv_scenario, nr_pcpus, 1, CLI_MAX_PCPUS),
	FSUB("vpmu", sub_vpmu),
	FSUB("kvm", sub_kvm),
	FSUB("patches", sub_patches),
	FNUM("seed", F_U64, struct mv_scenario, seed, 0, UINT64_MAX),
	FNUM("tick_cycles", F_U64, struct mv_scenario, tick_cycles, 1000, CLI_MAX_TICK),
	FNUM("skid", F_U64, struct mv_scenario, skid, 0, 1000000),
	FNUM("max_cycles", F_U64, struct mv_scenario, budget.max_cycles, 1, UINT64_MAX),
	FNUM("max_insns", F_U64, struct mv_scenario, budget.max_insns, 1, UINT64_MAX),
	FNUM("max_steps", F_U64, struct mv_scenario, budget.max_steps, 1, UINT64_MAX),
	FSUB("host", sub_host),
	FSUB("vms", sub_vms),
	FSUB("bare", sub_bare),
};

/* The file's base name without its extension names an unnamed scenario
 * (escaped: a file name may hold any byte). */
static void name_from_file(const char *fname, char *dst, size_t size)
{
	const char *base = strrchr(fname, '/');

	base = base ? base + 1 : fname;
	cli_escape(dst, size, base, strcspn(base, "."), 0);
}

/* The vPMU rule (one vPMU for the whole host), with the line to blame. */
static int check_host(struct pctx *p, const struct mv_scenario *sc)
{
	struct cli_host h;
	char msg[256];
	int where;
	unsigned line;

	if (!cli_scenario_host(sc, &h, &where, msg, sizeof(msg)))
		return 0;
	if (where >= 0 && where < MV_MAX_VMS)
		line = p->vm_vpmu_line[where];
	else if (where == MV_MAX_VMS)
		line = p->vms_line;
	else
		line = p->vpmu_line > p->kvm_line ? p->vpmu_line : p->kvm_line;
	return fail(p, line ? line : 1, "%s", msg);
}

/* Checks pins against pcpus and spreads unpinned vCPUs over the CPUs. */
static int finish_scenario(struct pctx *p, struct mv_scenario *sc)
{
	unsigned next = 0;

	for (unsigned v = 0; v < sc->nr_vms; v++) {
		for (unsigned i = 0; i < sc->vm[v].nr_vcpus; i++) {
			int *pin = &sc->vm[v].pin[i];

			if (*pin < 0)
				*pin = (int)(next % sc->nr_pcpus);
			else if ((unsigned)*pin >= sc->nr_pcpus)
				return fail(p, p->pin_line[v][i],
					    "expected pin below pcpus (%u), got %d",
					    sc->nr_pcpus, *pin);
			next++;
		}
	}
	if (!sc->bare_set && sc->nr_vms)
		sc->bare = sc->vm[0].prog[0];
	if (!sc->name[0])
		name_from_file(p->fname, sc->name, sizeof(sc->name));
	return check_host(p, sc);
}

static int parse_root(struct pctx *p, struct mv_scenario *sc)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	uint64_t seen;

	if (!root)
		return fail(p, 1, "expected a scenario mapping, got an empty document");
	if (walk_map(p, root, "scenario", top_fields, NFIELDS(top_fields), sc, &seen))
		return -1;
	return finish_scenario(p, sc);
}

/* Line (1-based) of byte `off` of the text. */
static unsigned line_at(const char *text, size_t len, size_t off)
{
	unsigned line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		line += text[i] == '\n';
	return line;
}

/* libyaml's own error, as "FILE:LINE: expected ..., got ..." on one line. */
static int yaml_fail(struct pctx *p, const yaml_parser_t *y, const char *text, size_t len)
{
	if (y->error == YAML_MEMORY_ERROR)
		return fail(p, (unsigned)y->mark.line + 1, "out of memory");
	if (y->error == YAML_READER_ERROR) {
		unsigned line = line_at(text, len, y->problem_offset);

		if (y->problem_value >= 0)
			return fail(p, line, "expected valid UTF-8 text, got %s (byte 0x%02x)",
				    y->problem ? y->problem : "an error",
				    (unsigned)y->problem_value & 0xFF);
		return fail(p, line, "expected valid UTF-8 text, got %s",
			    y->problem ? y->problem : "an error");
	}
	return fail(p, (unsigned)y->problem_mark.line + 1, "expected valid YAML, got %s",
		    y->problem ? y->problem : "an error");
}

static const char *event_tag(const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_SCALAR_EVENT: return (const char *)e->data.scalar.tag;
	case YAML_SEQUENCE_START_EVENT: return (const char *)e->data.sequence_start.tag;
	case YAML_MAPPING_START_EVENT: return (const char *)e->data.mapping_start.tag;
	default: return NULL;
	}
}

/* One pass over libyaml's events before the document is built: refuses
 * what the document API would accept silently (a second document, tags,
 * text that hides a NUL or control characters) and stops at the nesting
 * cap, so that deep flow nesting fails after CLI_MAX_DEPTH levels instead
 * of costing libyaml quadratic time. */
static int prescan(struct pctx *p, const char *text, size_t len)
{
	yaml_parser_t y;
	yaml_event_t e;
	unsigned depth = 0, docs = 0;
	int ret = 0;

	if (!yaml_parser_initialize(&y))
		return fail(p, 1, "out of memory");
	yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
	for (;;) {
		unsigned line;
		const char *tag;
		char got[64];

		if (!yaml_parser_parse(&y, &e)) {
			ret = yaml_fail(p, &y, text, len);
			break;
		}
		line = (unsigned)e.start_mark.line + 1;
		tag = event_tag(&e);
		if (e.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		if (e.type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			ret = fail(p, line, "expected one YAML document, got a second");
		else if (tag) {
			cli_escape_str(got, sizeof(got), tag, 40);
			ret = fail(p, line, "expected no YAML tags, got '%s'", got);
		} else if ((e.type == YAML_MAPPING_START_EVENT ||
			    e.type == YAML_SEQUENCE_START_EVENT) && ++depth > CLI_MAX_DEPTH)
			ret = fail(p, line, "expected at most %d levels of nesting, got more",
				   CLI_MAX_DEPTH);
		else if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		else if (e.type == YAML_SCALAR_EVENT &&
			 !cli_text_clean((const char *)e.data.scalar.value, e.data.scalar.length)) {
			cli_escape(got, sizeof(got), (const char *)e.data.scalar.value,
				   e.data.scalar.length, 40);
			ret = fail(p, line, "expected text without NUL or control characters, got '%s'",
				   got);
		}
		yaml_event_delete(&e);
		if (ret)
			break;
	}
	yaml_parser_delete(&y);
	return ret;
}

int cli_scenario_parse(const char *fname, const char *text, size_t len,
		       struct mv_scenario *sc, char *err, size_t errlen)
{
	struct pctx p = { .fname = fname, .err = err, .errlen = errlen, .sc = sc };
	yaml_parser_t parser;
	yaml_document_t doc;
	int ret;

	cli_scenario_defaults(sc);
	sc->file = fname;
	if (len > CLI_MAX_FILE) {
		fail(&p, line_at(text, len, CLI_MAX_FILE),
		     "expected at most %d bytes (1 MiB), got more", CLI_MAX_FILE);
		return 2;
	}
	if (prescan(&p, text, len))
		return 2;
	if (!yaml_parser_initialize(&parser)) {
		fail(&p, 1, "out of memory");
		return 2;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_fail(&p, &parser, text, len);
		yaml_parser_delete(&parser);
		return 2;
	}
	p.doc = &doc;
	ret = parse_root(&p, sc) ? 2 : 0;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
	       S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int cli_scenario_load(const char *path, struct mv_scenario *sc,
		      char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t len = 0;
	int ret;

	if (fd < 0) {
		cli_scenario_error(err, errlen, path, 1, "expected a readable file, got %s",
				   strerror(errno));
		return 2;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		cli_scenario_error(err, errlen, path, 1, "expected a regular file, got %s",
				   file_kind(st.st_mode));
		close(fd);
		return 2;
	}
	/* One byte past the cap tells a file that is too long. */
	buf = malloc(CLI_MAX_FILE + 1);
	if (!buf) {
		cli_scenario_error(err, errlen, path, 1, "out of memory");
		close(fd);
		return 2;
	}
	while (len < CLI_MAX_FILE + 1) {
		ssize_t n = read(fd, buf + len, CLI_MAX_FILE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_scenario_error(err, errlen, path, line_at(buf, len, len),
					   "expected a readable file, got %s", strerror(errno));
			free(buf);
			close(fd);
			return 2;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	ret = cli_scenario_parse(path, buf, len, sc, err, errlen);
	free(buf);
	return ret;
}

/* The vPMU rule, docs/scenarios.md "One vPMU for the host". */
int cli_scenario_host(const struct mv_scenario *sc, struct cli_host *h, int *where,
		      char *err, size_t errlen)
{
	enum mv_vpmu host = MV_VPMU_NONE;
	char src[96] = "";
	bool have = false;

	*where = -1;
	if (sc->kvm.set) {
		enum mv_vpmu kv = sc->kvm.enable_mediated_pmu ? MV_VPMU_MEDIATED : MV_VPMU_EMULATED;

		if (sc->vpmu_set && sc->vpmu != kv) {
			snprintf(err, errlen, "expected vpmu: %s, as kvm: enable_mediated_pmu: %s "
				 "says (one vPMU for the whole host), got '%s'", cli_vpmu_name(kv),
				 sc->kvm.enable_mediated_pmu ? "true" : "false",
				 cli_vpmu_name(sc->vpmu));
			return -1;
		}
		host = kv;
		have = true;
		snprintf(src, sizeof(src), "kvm: enable_mediated_pmu says");
	} else if (sc->vpmu_set) {
		host = sc->vpmu;
		have = true;
		snprintf(src, sizeof(src), "the top-level vpmu: says");
	}
	for (unsigned i = 0; i < sc->nr_vms && i < MV_MAX_VMS; i++) {
		const struct mv_vm_config *vm = &sc->vm[i];

		if (!vm->vpmu_set)
			continue;
		if (!have) {
			host = vm->vpmu;
			have = true;
			snprintf(src, sizeof(src), "VM %.*s asks", 40, vm->name);
			continue;
		}
		if (vm->vpmu != host) {
			*where = (int)i;
			snprintf(err, errlen, "expected vpmu: %s, as %s (one vPMU for the whole "
				 "host, as KVM's module parameters), got '%s'",
				 cli_vpmu_name(host), src, cli_vpmu_name(vm->vpmu));
			return -1;
		}
	}
	if (!have)	/* a freshly loaded 7.0 KVM: the legacy vPMU */
		host = sc->nr_vms ? MV_VPMU_EMULATED : MV_VPMU_NONE;
	h->vpmu = host;
	h->enable_pmu = host != MV_VPMU_NONE && (!sc->kvm.set || sc->kvm.enable_pmu);
	h->enable_mediated_pmu = host == MV_VPMU_MEDIATED;
	if (host == MV_VPMU_NONE && sc->nr_vms && !sc->bare_set &&
	    (sc->nr_vms > 1 || sc->vm[0].nr_vcpus > 1)) {
		*where = MV_MAX_VMS;
		snprintf(err, errlen, "expected one VM with one vCPU, or a bare: program, for "
			 "vpmu: none (bare metal runs one program natively), got %u VM(s), "
			 "%u vCPU(s) in the first", sc->nr_vms,
			 sc->vm[0].nr_vcpus ? sc->vm[0].nr_vcpus : 1);
		return -1;
	}
	return 0;
}

static const char *const patch_names[MV_NR_PATCHES] = {
	"fixed-counter-3", "nested-amd-host-guest-only",
};

static const struct {
	const char *name;
	size_t off;
} knob_names[] = {
	{ "no-global-ctrl-clear", offsetof(struct mv_knobs, no_global_ctrl_clear_on_load) },
	{ "no-counter-clear", offsetof(struct mv_knobs, no_counter_clear_on_put) },
	{ "no-write-elision", offsetof(struct mv_knobs, no_write_elision) },
	{ "assert-instead-of-clear", offsetof(struct mv_knobs, assert_instead_of_clear) },
	{ "lvtpc-before-clear", offsetof(struct mv_knobs, lvtpc_before_clear) },
	{ "lvtpc-outside-switch", offsetof(struct mv_knobs, lvtpc_outside_switch) },
	{ "no-mask-copy", offsetof(struct mv_knobs, no_mask_copy) },
	{ "no-guestonly", offsetof(struct mv_knobs, no_guestonly) },
	{ "no-fastpath-bail", offsetof(struct mv_knobs, no_fastpath_bail) },
	{ "inject-after-load", offsetof(struct mv_knobs, inject_after_load) },
};

const size_t cli_nr_knobs = NFIELDS(knob_names);

int cli_knob_set(struct mv_knobs *k, const char *name)
{
	for (size_t i = 0; i < NFIELDS(knob_names); i++) {
		if (!strcmp(name, knob_names[i].name)) {
			*(bool *)((char *)k + knob_names[i].off) = true;
			return 0;
		}
	}
	return -1;
}

const char *cli_knob_name(size_t i)
{
	return i < NFIELDS(knob_names) ? knob_names[i].name : NULL;
}

bool cli_knob_get(const struct mv_knobs *k, size_t i)
{
	return i < NFIELDS(knob_names) && *(const bool *)((const char *)k + knob_names[i].off);
}

uint32_t cli_patch_parse(const char *s)
{
	for (unsigned i = 0; i < MV_NR_PATCHES; i++)
		if (!strcmp(s, patch_names[i]))
			return 1u << i;
	return 0;
}

const char *cli_patch_name(uint32_t bit)
{
	for (unsigned i = 0; i < MV_NR_PATCHES; i++)
		if (bit == 1u << i)
			return patch_names[i];
	return NULL;
}

void cli_patch_list(char *buf, size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "a patch name (");

	for (unsigned i = 0; i < MV_NR_PATCHES && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 patch_names[i]);
	if (used < len)
		snprintf(buf + used, len - used, ")");
}

static const char *const vpmu_names[] = {
	[MV_VPMU_NONE] = "none", [MV_VPMU_EMULATED] = "emulated",
	[MV_VPMU_MEDIATED] = "mediated",
};

const char *cli_vpmu_name(enum mv_vpmu v)
{
	return (unsigned)v < NFIELDS(vpmu_names) ? vpmu_names[v] : NULL;
}

int cli_vpmu_parse(const char *s, enum mv_vpmu *out)
{
	for (size_t i = 0; i < NFIELDS(vpmu_names); i++) {
		if (!strcmp(s, vpmu_names[i])) {
			*out = (enum mv_vpmu)i;
			return 0;
		}
	}
	return -1;
}

int cli_parse_mem(const char *s, uint64_t *out)
{
	uint64_t v = 0, unit = 1ULL << 20;
	const char *q = s;

	if (!(*q >= '0' && *q <= '9'))
		return -1;
	for (; *q >= '0' && *q <= '9'; q++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*q - '0');
	}
	switch (*q) {
	case 'K': case 'k': unit = 1ULL << 10; q++; break;
	case 'M': case 'm': unit = 1ULL << 20; q++; break;
	case 'G': case 'g': unit = 1ULL << 30; q++; break;
	default: break;
	}
	if (*q == 'i' && q[1] == 'B')
		q += 2;
	else if (*q == 'B')
		q++;
	if (*q || v > HW_X86_MEM_MAX / unit)
		return -1;
	v *= unit;
	if (v < HW_X86_MEM_MIN || v > HW_X86_MEM_MAX || (v & 4095))
		return -1;
	*out = v;
	return 0;
}

int cli_scenario_image(const char *path, uint64_t mem, struct mv_scenario *sc,
		       char *err, size_t errlen)
{
	struct mv_program *pr;
	struct hw_elf *elf;
	const char *base = strrchr(path, '/');

	cli_scenario_defaults(sc);
	base = base ? base + 1 : path;
	snprintf(sc->name, sizeof(sc->name), "image:%.*s", (int)sizeof(sc->name) - 7, base);
	snprintf(sc->desc, sizeof(sc->desc), "the real-code image %.*s on one vCPU",
		 (int)sizeof(sc->desc) - 40, base);
	sc->vpmu = MV_VPMU_MEDIATED;
	sc->nr_vms = 1;
	snprintf(sc->vm[0].name, sizeof(sc->vm[0].name), "vm0");
	sc->vm[0].nr_vcpus = 1;
	pr = &sc->vm[0].prog[0];
	pr->kind = MV_PROG_IMAGE;
	if (strlen(path) >= sizeof(pr->image)) {
		snprintf(err, errlen, "%.100s...: image path longer than %d characters",
			 path, MV_PATH_MAX - 1);
		return 2;
	}
	snprintf(pr->image, sizeof(pr->image), "%s", path);
	pr->mem = mem;
	for (unsigned i = 1; i < MV_MAX_VCPUS; i++) {
		sc->vm[0].prog[i].kind = MV_PROG_IDLE;
		sc->vm[0].pin[i] = -1;
	}
	sc->vm[0].pin[0] = 0;
	sc->bare = *pr;
	if (hw_elf_open(path, mem ? mem : HW_X86_MEM_DEFAULT, &elf, err, errlen))
		return 2;
	hw_elf_free(elf);
	return 0;
}
