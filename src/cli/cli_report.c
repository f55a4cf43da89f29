/* cli_report: text and JSON reports of a struct mv_result, and the
 * side-by-side comparison of one scenario under each vPMU. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_report.h"
#include "cli_scenario.h"

/* ---- formatting helpers ---- */

/* 1234567 -> "1,234,567", as perf stat prints counts. */
static const char *fmt_count(char *buf, size_t len, uint64_t v)
{
	char digits[32];
	size_t n = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, v);
	size_t o = 0;

	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
	return buf;
}

/* Relative error in percent; false when the truth is 0 and the value not. */
static bool error_pct(uint64_t value, uint64_t truth, double *pct)
{
	if (!truth) {
		*pct = 0;
		return value == 0;
	}
	*pct = ((double)value - (double)truth) * 100.0 / (double)truth;
	return true;
}

static const char *fmt_error(char *buf, size_t len, uint64_t value, uint64_t truth)
{
	double pct;

	if (!error_pct(value, truth, &pct))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%+.3f%%", pct);
	return buf;
}

static double share(uint64_t part, uint64_t total)
{
	return total ? (double)part * 100.0 / (double)total : 0.0;
}

static const char *vpmu_str(enum mv_vpmu v)
{
	const char *s = cli_vpmu_name(v);

	return s ? s : "?";
}

/* ---- text report ---- */

static void text_counters(FILE *f, const char *title,
			  const struct mv_counter_result *c, unsigned n)
{
	char v[32], t[32], e[32], en[32], ru[32];

	fprintf(f, "\n %s counters:\n\n", title);
	if (!n) {
		fprintf(f, "   (none)\n");
		return;
	}
	fprintf(f, "   %-14s %-22s %18s %18s %10s %8s\n", "who", "event",
		"value", "truth", "error", "running");
	for (unsigned i = 0; i < n; i++) {
		char run[16] = "-";

		if (c[i].time_enabled)
			snprintf(run, sizeof(run), "%.2f%%",
				 share(c[i].time_running, c[i].time_enabled));
		fprintf(f, "   %-14s %-22s %18s %18s %10s %8s\n", c[i].name,
			c[i].event, fmt_count(v, sizeof(v), c[i].value),
			fmt_count(t, sizeof(t), c[i].truth),
			fmt_error(e, sizeof(e), c[i].value, c[i].truth), run);
		/* Multiplexed: perf scaled the raw count by enabled/running. */
		if (c[i].time_running < c[i].time_enabled)
			fprintf(f, "   %-14s %-22s raw %s, enabled %s, running %s cycles\n",
				"", "", fmt_count(v, sizeof(v), c[i].raw),
				fmt_count(en, sizeof(en), c[i].time_enabled),
				fmt_count(ru, sizeof(ru), c[i].time_running));
	}
}

static void text_samples(FILE *f, const struct mv_result *r)
{
	uint64_t truth_total = 0;
	char s[32], l[32];

	if (!r->nr_labels && !r->samples)
		return;
	for (unsigned i = 0; i < r->nr_labels; i++)
		truth_total += r->labels[i].truth_events;
	fprintf(f, "\n Guest samples: %s (lost %s)\n\n",
		fmt_count(s, sizeof(s), r->samples),
		fmt_count(l, sizeof(l), r->samples_lost));
	fprintf(f, "   %-24s %12s %9s %11s %9s\n", "label", "samples", "share",
		"true share", "diff");
	for (unsigned i = 0; i < r->nr_labels; i++) {
		const struct mv_label_result *lb = &r->labels[i];
		double sh = share(lb->samples, r->samples);
		double tr = share(lb->truth_events, truth_total);

		fprintf(f, "   %-24s %12s %8.2f%% %10.2f%% %+8.2f\n", lb->label,
			fmt_count(s, sizeof(s), lb->samples), sh, tr, sh - tr);
	}
}

static void text_rr(FILE *f, const struct mv_rr_result *rr)
{
	char a[32], b[32];

	if (!rr->present)
		return;
	fprintf(f, "\n rr tick counter: target %" PRIu64 " ticks, %" PRIu64
		" interrupts, %" PRIu64 " exact, max overshoot %" PRIu64 "\n",
		rr->target, rr->interrupts, rr->exact, rr->max_overshoot);
	fprintf(f, "   ticks counted %s, true %s\n",
		fmt_count(a, sizeof(a), rr->ticks_counted),
		fmt_count(b, sizeof(b), rr->ticks_truth));
}

/* Serial output as text: printable ASCII, tab and newline as they are,
 * any other byte as \xNN, so the report is lossless and valid UTF-8. */
static size_t serial_text(const struct mv_image_result *im, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < im->serial_len && o + 5 < len; i++) {
		unsigned char c = (unsigned char)im->serial[i];

		if ((c >= 0x20 && c < 0x7F && c != '\\') || c == '\n' || c == '\t')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return o;
}

static void text_image(FILE *f, const struct mv_image_result *im)
{
	static char serial[4 * MV_SERIAL_MAX + 1];
	char a[32], b[32], c[32], d[32];
	const char *line;

	fprintf(f, "\n Guest image %s: %s\n", im->who, im->image);
	if (im->exited)
		fprintf(f, "   exit status %u (%s)\n", im->exit_status, im->message);
	else
		fprintf(f, "   ended: %s (%s)\n", im->exit, im->message);
	fprintf(f, "   retired: %s instructions (user %s, kernel %s), %s branches\n",
		fmt_count(a, sizeof(a), im->insns_user + im->insns_kernel),
		fmt_count(b, sizeof(b), im->insns_user), fmt_count(c, sizeof(c), im->insns_kernel),
		fmt_count(d, sizeof(d), im->branches_user + im->branches_kernel));
	fprintf(f, "   serial output%s:\n", im->serial_truncated ? " (truncated)" : "");
	serial_text(im, serial, sizeof(serial));
	line = serial;
	while (*line) {
		size_t n = strcspn(line, "\n");

		fprintf(f, "     | %.*s\n", (int)n, line);
		line += n + (line[n] == '\n');
	}
	if (!im->nr_sym)
		return;
	fprintf(f, "   truth per symbol:\n   %-28s %14s %14s %12s %12s\n", "symbol",
		"user insns", "kernel insns", "user br", "kernel br");
	for (unsigned i = 0; i <= im->nr_sym; i++) {
		const struct mv_symbol_result *s = i < im->nr_sym ? &im->sym[i] : &im->other;

		if (i == im->nr_sym && !im->nr_other)
			break;
		fprintf(f, "   %-28s %14s %14s %12s %12s\n", s->name,
			fmt_count(a, sizeof(a), s->insns_user), fmt_count(b, sizeof(b), s->insns_kernel),
			fmt_count(c, sizeof(c), s->branches_user),
			fmt_count(d, sizeof(d), s->branches_kernel));
	}
}

static void text_exits(FILE *f, const struct mv_result *r)
{
	char b[32];

	fprintf(f, "\n VM exits: %s\n", fmt_count(b, sizeof(b), r->exits_total));
	for (unsigned i = 0; i < r->nr_exit_reasons; i++)
		fprintf(f, "   %-24s %12s\n", r->exits[i].reason,
			fmt_count(b, sizeof(b), r->exits[i].count));
}

static void text_time_row(FILE *f, const char *what, uint64_t v, uint64_t total)
{
	char b[32];

	fprintf(f, "   %-24s %18s %8.2f%%\n", what, fmt_count(b, sizeof(b), v),
		share(v, total));
}

static void text_time(FILE *f, const struct mv_result *r)
{
	char b[32];

	fprintf(f, "\n Simulated time: %s cycles\n",
		fmt_count(b, sizeof(b), r->cycles_total));
	text_time_row(f, "guest", r->cycles_guest, r->cycles_total);
	text_time_row(f, "transitions", r->cycles_transition, r->cycles_total);
	text_time_row(f, "host on behalf of guest", r->cycles_host_for_guest,
		      r->cycles_total);
	text_time_row(f, "host", r->cycles_host, r->cycles_total);
}

void cli_report_violations(FILE *f, const struct mv_result *res)
{
	for (unsigned i = 0; i < res->nr_violations; i++) {
		const struct mv_violation_result *v = &res->violations[i];

		fprintf(f, "invariant %d (%s) violated: seed %" PRIu64 ", step %"
			PRIu64 ": %s\n", v->invariant, v->name, v->seed, v->step,
			v->msg);
		if (v->trace[0])
			fprintf(f, "trace leading to it:\n%s%s", v->trace,
				v->trace[strlen(v->trace) - 1] == '\n' ? "" : "\n");
	}
	if (res->inv_violated > res->nr_violations)
		fprintf(f, "(%" PRIu64 " more violations not kept)\n",
			res->inv_violated - res->nr_violations);
}

void cli_report_text(FILE *f, const struct mv_result *r)
{
	char b[32];

	fprintf(f, "Scenario %s on %s, vPMU %s (effective %s), seed %" PRIu64 "\n",
		r->scenario, r->cpu, vpmu_str(r->vpmu), vpmu_str(r->vpmu_effective),
		r->seed);
	if (r->fallback_reason[0])
		fprintf(f, "  fell back: %s\n", r->fallback_reason);
	text_counters(f, "Guest", r->guest, r->nr_guest);
	text_samples(f, r);
	text_rr(f, &r->rr);
	for (unsigned i = 0; i < r->nr_images; i++)
		text_image(f, &r->images[i]);
	fprintf(f, "\n Guest PMIs: %s\n", fmt_count(b, sizeof(b), r->guest_pmis));
	text_counters(f, "Host", r->host, r->nr_host);
	fprintf(f, "\n Host PMIs: %s\n", fmt_count(b, sizeof(b), r->host_pmis));
	text_exits(f, r);
	text_time(f, r);
	fprintf(f, "\n Invariants: %" PRIu64 " checks, %" PRIu64 " violated\n",
		r->inv_checked, r->inv_violated);
	if (r->inv_violated) {
		fputc('\n', f);
		cli_report_violations(f, r);
	}
}

/* ---- JSON report ---- */

/* Counts never reach 2^63 in a simulated run; clamp rather than wrap. */
static json_t *ju(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *json_counter(const struct mv_counter_result *c)
{
	double pct;

	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "name", c->name, "event", c->event,
			 "value", ju(c->value), "truth", ju(c->truth),
			 "raw", ju(c->raw),
			 "time_enabled", ju(c->time_enabled),
			 "time_running", ju(c->time_running),
			 "error_pct", error_pct(c->value, c->truth, &pct) ?
				json_real(pct) : json_null());
}

static json_t *json_counters(const struct mv_counter_result *c, unsigned n)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(arr, json_counter(&c[i]));
	return arr;
}

static json_t *json_samples(const struct mv_result *r)
{
	json_t *labels = json_array();
	uint64_t truth_total = 0;

	for (unsigned i = 0; i < r->nr_labels; i++)
		truth_total += r->labels[i].truth_events;
	for (unsigned i = 0; i < r->nr_labels; i++) {
		const struct mv_label_result *lb = &r->labels[i];

		json_array_append_new(labels, json_pack(
			"{s:s, s:o, s:o, s:f, s:f}", "label", lb->label,
			"samples", ju(lb->samples),
			"truth_events", ju(lb->truth_events),
			"share", share(lb->samples, r->samples),
			"true_share", share(lb->truth_events, truth_total)));
	}
	return json_pack("{s:o, s:o, s:o}", "labels", labels,
			 "total", ju(r->samples), "lost", ju(r->samples_lost));
}

static json_t *json_rr(const struct mv_rr_result *rr)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
			 "target", ju(rr->target), "interrupts", ju(rr->interrupts),
			 "exact", ju(rr->exact), "max_overshoot", ju(rr->max_overshoot),
			 "ticks_counted", ju(rr->ticks_counted),
			 "ticks_truth", ju(rr->ticks_truth));
}

static json_t *json_user_kernel(uint64_t user, uint64_t kernel)
{
	return json_pack("{s:o, s:o}", "user", ju(user), "kernel", ju(kernel));
}

static json_t *json_symbol(const struct mv_symbol_result *s)
{
	return json_pack("{s:s, s:o, s:o}", "name", s->name,
			 "instructions", json_user_kernel(s->insns_user, s->insns_kernel),
			 "branches", json_user_kernel(s->branches_user, s->branches_kernel));
}

static json_t *json_image(const struct mv_image_result *im)
{
	static char serial[4 * MV_SERIAL_MAX + 1];
	json_t *syms = json_array();

	for (unsigned i = 0; i < im->nr_sym; i++)
		json_array_append_new(syms, json_symbol(&im->sym[i]));
	if (im->nr_other)
		json_array_append_new(syms, json_symbol(&im->other));
	serial_text(im, serial, sizeof(serial));
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:o, s:o, s:o}",
			 "who", im->who, "image", im->image, "exit", im->exit,
			 "exit_message", im->message,
			 "exit_status", im->exited ? ju(im->exit_status) : json_null(),
			 "serial", serial, "serial_truncated", im->serial_truncated,
			 "instructions", json_user_kernel(im->insns_user, im->insns_kernel),
			 "branches", json_user_kernel(im->branches_user, im->branches_kernel),
			 "symbols", syms);
}

static json_t *json_guest(const struct mv_result *r)
{
	json_t *g = json_pack("{s:o, s:o, s:o}",
			      "counters", json_counters(r->guest, r->nr_guest),
			      "pmis", ju(r->guest_pmis),
			      "samples", json_samples(r));

	if (r->rr.present)
		json_object_set_new(g, "rr", json_rr(&r->rr));
	if (r->nr_images) {
		/* The first image's fields at the top, every image in images[]. */
		json_t *images = json_array(), *first = json_image(&r->images[0]);
		const char *key;
		json_t *val;

		json_object_foreach(first, key, val)
			if (strcmp(key, "who"))
				json_object_set(g, key, val);
		json_decref(first);
		for (unsigned i = 0; i < r->nr_images; i++)
			json_array_append_new(images, json_image(&r->images[i]));
		json_object_set_new(g, "images", images);
	}
	return g;
}

static json_t *json_exits(const struct mv_result *r)
{
	json_t *by = json_object();

	for (unsigned i = 0; i < r->nr_exit_reasons; i++)
		json_object_set_new(by, r->exits[i].reason, ju(r->exits[i].count));
	return json_pack("{s:o, s:o}", "total", ju(r->exits_total), "by_reason", by);
}

static json_t *json_invariants(const struct mv_result *r)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < r->nr_violations; i++) {
		const struct mv_violation_result *v = &r->violations[i];

		json_array_append_new(arr, json_pack(
			"{s:i, s:s, s:o, s:o, s:s, s:s}",
			"invariant", v->invariant, "name", v->name,
			"seed", ju(v->seed), "step", ju(v->step),
			"message", v->msg, "trace", v->trace));
	}
	return json_pack("{s:o, s:o, s:o, s:o}", "checked", ju(r->inv_checked),
			 "violated", ju(r->inv_violated), "violations", arr,
			 "injected", ju(r->injected));
}

json_t *cli_report_json(const struct mv_result *r)
{
	char hash[24];

	snprintf(hash, sizeof(hash), "0x%016" PRIx64, r->trace_hash);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
		"scenario", r->scenario, "cpu", r->cpu,
		"vpmu", vpmu_str(r->vpmu),
		"vpmu_effective", vpmu_str(r->vpmu_effective),
		"vpmu_fallback_reason", r->fallback_reason,
		"seed", ju(r->seed),
		"guest", json_guest(r),
		"host", json_pack("{s:o, s:o}",
				  "counters", json_counters(r->host, r->nr_host),
				  "pmis", ju(r->host_pmis)),
		"vm_exits", json_exits(r),
		"time", json_pack("{s:o, s:o, s:o, s:o, s:o}",
				  "total", ju(r->cycles_total),
				  "guest", ju(r->cycles_guest),
				  "transitions", ju(r->cycles_transition),
				  "host_for_guest", ju(r->cycles_host_for_guest),
				  "host", ju(r->cycles_host)),
		"invariants", json_invariants(r),
		"trace_hash", hash);
}

static int json_write(FILE *f, json_t *doc)
{
	int ret;

	if (!doc)
		return -1;
	ret = json_dumpf(doc, f, CLI_JSON_FLAGS);
	json_decref(doc);
	if (ret || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

int cli_report_json_write(FILE *f, const struct mv_result *res)
{
	return json_write(f, cli_report_json(res));
}

/* ---- comparison ---- */

/* A counter row of the comparison: the k-th counter of `event` in a section. */
struct cmp_row {
	bool host;
	const char *event, *name;
	unsigned k;
};

static const struct mv_counter_result *cmp_find(const struct mv_result *r,
						const struct cmp_row *row)
{
	const struct mv_counter_result *c = row->host ? r->host : r->guest;
	unsigned n = row->host ? r->nr_host : r->nr_guest, k = 0;

	for (unsigned i = 0; i < n; i++)
		if (!strcmp(c[i].event, row->event) && k++ == row->k)
			return &c[i];
	return NULL;
}

static bool cmp_has_row(const struct cmp_row *rows, unsigned nr,
			const struct cmp_row *row)
{
	for (unsigned i = 0; i < nr; i++)
		if (rows[i].host == row->host && rows[i].k == row->k &&
		    !strcmp(rows[i].event, row->event))
			return true;
	return false;
}

/* Rows for every counter any run reported, in first-seen order. */
static unsigned cmp_rows(const struct mv_result res[3], struct cmp_row *rows,
			 unsigned max)
{
	unsigned nr = 0;

	for (int host = 0; host < 2; host++) {
		for (int r = 0; r < 3; r++) {
			const struct mv_counter_result *c = host ? res[r].host : res[r].guest;
			unsigned n = host ? res[r].nr_host : res[r].nr_guest;

			for (unsigned i = 0; i < n && nr < max; i++) {
				struct cmp_row row = { host, c[i].event, c[i].name, 0 };

				for (unsigned j = 0; j < i; j++)
					row.k += !strcmp(c[j].event, c[i].event);
				if (!cmp_has_row(rows, nr, &row))
					rows[nr++] = row;
			}
		}
	}
	return nr;
}

#define CMP_ROWS (2 * 3 * MV_MAX_COUNTERS)

static void cmp_line(FILE *f, const char *what, const char *cell[3])
{
	fprintf(f, "%-34s %24s %24s %24s\n", what, cell[0], cell[1], cell[2]);
}

static void cmp_counter(FILE *f, const struct mv_result res[3],
			const struct cmp_row *row)
{
	char what[160], buf[3][48], v[32], e[32];
	const char *cell[3];

	snprintf(what, sizeof(what), "%s %s", row->host ? "host" : "guest",
		 row->event);
	for (int r = 0; r < 3; r++) {
		const struct mv_counter_result *c = cmp_find(&res[r], row);

		if (c)
			snprintf(buf[r], sizeof(buf[r]), "%s (%s)",
				 fmt_count(v, sizeof(v), c->value),
				 fmt_error(e, sizeof(e), c->value, c->truth));
		else
			snprintf(buf[r], sizeof(buf[r]), "-");
		cell[r] = buf[r];
	}
	cmp_line(f, what, cell);
}

/* One figure per run, formatted as a count. */
static void cmp_figure(FILE *f, const char *what, const uint64_t v[3])
{
	char buf[3][32];
	const char *cell[3];

	for (int r = 0; r < 3; r++)
		cell[r] = fmt_count(buf[r], sizeof(buf[r]), v[r]);
	cmp_line(f, what, cell);
}

/* Simulated cycles against the bare-metal run, in percent. */
static double overhead_pct(const struct mv_result res[3], int r)
{
	return share(res[r].cycles_total, res[0].cycles_total) - 100.0;
}

static void cmp_overhead(FILE *f, const struct mv_result res[3])
{
	char buf[3][32];
	const char *cell[3];

	for (int r = 0; r < 3; r++) {
		if (r == 0 || !res[0].cycles_total)
			snprintf(buf[r], sizeof(buf[r]), "-");
		else
			snprintf(buf[r], sizeof(buf[r]), "%+.2f%%", overhead_pct(res, r));
		cell[r] = buf[r];
	}
	cmp_line(f, "overhead vs bare metal", cell);
}

void cli_compare_text(FILE *f, const struct mv_result res[3])
{
	struct cmp_row rows[CMP_ROWS];
	unsigned nr = cmp_rows(res, rows, CMP_ROWS);
	const char *asked[3], *eff[3];

	fprintf(f, "Scenario %s on %s, seed %" PRIu64 ": counter value (error vs truth)\n\n",
		res[0].scenario, res[0].cpu, res[0].seed);
	for (int r = 0; r < 3; r++) {
		asked[r] = r ? vpmu_str(res[r].vpmu) : "bare metal";
		eff[r] = vpmu_str(res[r].vpmu_effective);
	}
	cmp_line(f, "", asked);
	cmp_line(f, "effective vPMU", eff);
	for (unsigned i = 0; i < nr; i++)
		cmp_counter(f, res, &rows[i]);
	cmp_figure(f, "guest PMIs", (uint64_t[3]){ res[0].guest_pmis,
		   res[1].guest_pmis, res[2].guest_pmis });
	for (unsigned i = 0; i < res[0].nr_images; i++) {
		char what[96], buf[3][32];
		const char *cell[3];

		snprintf(what, sizeof(what), "%s exit", res[0].images[i].who);
		for (int r = 0; r < 3; r++) {
			const struct mv_image_result *im = i < res[r].nr_images ? &res[r].images[i] : NULL;

			if (im && im->exited)
				snprintf(buf[r], sizeof(buf[r]), "status %u", im->exit_status);
			else
				snprintf(buf[r], sizeof(buf[r]), "%s", im ? im->exit : "-");
			cell[r] = buf[r];
		}
		cmp_line(f, what, cell);
	}
	cmp_figure(f, "guest samples", (uint64_t[3]){ res[0].samples,
		   res[1].samples, res[2].samples });
	cmp_figure(f, "host PMIs", (uint64_t[3]){ res[0].host_pmis,
		   res[1].host_pmis, res[2].host_pmis });
	cmp_figure(f, "VM exits", (uint64_t[3]){ res[0].exits_total,
		   res[1].exits_total, res[2].exits_total });
	cmp_figure(f, "simulated cycles", (uint64_t[3]){ res[0].cycles_total,
		   res[1].cycles_total, res[2].cycles_total });
	cmp_overhead(f, res);
	cmp_figure(f, "invariants violated", (uint64_t[3]){ res[0].inv_violated,
		   res[1].inv_violated, res[2].inv_violated });
	for (int r = 0; r < 3; r++)
		if (res[r].fallback_reason[0])
			fprintf(f, "\n%s fell back: %s\n", vpmu_str(res[r].vpmu),
				res[r].fallback_reason);
}

json_t *cli_compare_json(const struct mv_result res[3])
{
	json_t *runs = json_array();

	for (int r = 0; r < 3; r++) {
		json_t *rep = cli_report_json(&res[r]);

		json_object_set_new(rep, "overhead_vs_bare_pct",
				    r && res[0].cycles_total ?
				    json_real(overhead_pct(res, r)) : json_null());
		json_array_append_new(runs, rep);
	}
	return json_pack("{s:s, s:s, s:o, s:o}", "scenario", res[0].scenario,
			 "cpu", res[0].cpu, "seed", ju(res[0].seed), "runs", runs);
}
