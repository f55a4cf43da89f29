/* cli_report: text and JSON reports of a struct mv_result, and the
 * side-by-side comparison of one scenario under each vPMU. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_json.h"
#include "cli_report.h"
#include "cli_text.h"
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
		if (c[i].width && c[i].width < 64 && c[i].truth >> c[i].width)
			fprintf(f, "   %-14s %-22s (a raw %u-bit counter: value modulo 2^%u)\n",
				"", "", c[i].width, c[i].width);
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

static void text_msr_exits(FILE *f, const struct mv_msr_exit_count *m, unsigned n,
			   uint64_t other)
{
	char b[32], name[32];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "MSR 0x%" PRIx32, m[i].msr);
		fprintf(f, "   %-24s %12s\n", name, fmt_count(b, sizeof(b), m[i].count));
	}
	if (other)
		fprintf(f, "   %-24s %12s\n", "MSR other", fmt_count(b, sizeof(b), other));
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

	fprintf(f, "\n Guest image %s: %s%s\n", im->who, im->image,
		im->multiboot ? " (multiboot kernel)" : "");
	if (im->multiboot) {
		static char cmd[4 * sizeof(im->cmdline)];

		cli_escape_str(cmd, sizeof(cmd), im->cmdline, 0);
		fprintf(f, "   command line: %s\n", cmd);
	}
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
	char b[32], fast[32];

	fprintf(f, "\n VM exits: %s (fastpath %s)\n", fmt_count(b, sizeof(b), r->exits_total),
		fmt_count(fast, sizeof(fast), r->exits_fastpath));
	for (unsigned i = 0; i < r->nr_exit_reasons; i++)
		fprintf(f, "   %-24s %12s\n", r->exits[i].reason,
			fmt_count(b, sizeof(b), r->exits[i].count));
	text_msr_exits(f, r->msr_exits, r->nr_msr_exits, r->msr_exits_other);
}

/* Counter MSRs as ranges: "0xc1-0xc8 0x309-0x30b". */
static void text_msr_ranges(FILE *f, const uint32_t *m, unsigned n)
{
	if (!n)
		fprintf(f, "none");
	for (unsigned i = 0; i < n;) {
		unsigned j = i;

		while (j + 1 < n && m[j + 1] == m[j] + 1)
			j++;
		/* AMD's PerfCtrExtCore counters are every other MSR. */
		while (j + 1 < n && m[j + 1] == m[j] + 2 && m[i] + 2 * (j - i) == m[j])
			j++;
		if (j == i)
			fprintf(f, "%s0x%" PRIx32, i ? " " : "", m[i]);
		else
			fprintf(f, "%s0x%" PRIx32 "-0x%" PRIx32, i ? " " : "", m[i], m[j]);
		i = j + 1;
	}
}

static void text_kernel_line(FILE *f, const struct mv_result *r)
{
	fprintf(f, "  Kernel: %s", r->kernel[0] ? r->kernel : "Linux 7.0");
	for (unsigned i = 0; i < MV_NR_PATCHES; i++)
		if (r->patches & (1u << i))
			fprintf(f, " + %s", cli_patch_name(1u << i));
	fputc('\n', f);
}

static void text_kernel(FILE *f, const struct mv_result *r)
{
	text_kernel_line(f, r);
	if (r->kvm_loaded)
		fprintf(f, "  KVM: enable_pmu=%c enable_mediated_pmu=%c\n",
			r->enable_pmu ? 'Y' : 'N', r->enable_mediated_pmu ? 'Y' : 'N');
	if (r->bare)
		fprintf(f, "  Bare metal: %s runs natively, no hypervisor (%u VM(s) not run)\n",
			r->bare_program, r->bare_vms_not_run);
}

/* Each VM: created or not, its vPMU, the guest PMU shape KVM gave it and
 * what passes through, its exits. */
static void text_vms(FILE *f, const struct mv_result *r)
{
	char b[32];

	for (unsigned i = 0; i < r->nr_vms; i++) {
		const struct mv_vm_result *v = &r->vms[i];

		if (!v->created) {
			fprintf(f, "\n VM %s: not created: KVM_CREATE_VCPU failed with %s\n",
				v->name, v->error);
			if (v->warning[0])
				fprintf(f, "   kernel log: %s\n", v->warning);
			continue;
		}
		fprintf(f, "\n VM %s: vPMU %s%s%s%s\n", v->name, vpmu_str(v->vpmu),
			v->vpmu_reason[0] ? " (" : "", v->vpmu_reason,
			v->vpmu_reason[0] ? ")" : "");
		if (v->version)
			fprintf(f, "   PMU v%u, %u GP x %u bits, %u fixed x %u bits, "
				"PERF_CAPABILITIES 0x%" PRIx64 "\n", v->version, v->gp,
				v->gp_width, v->fixed, v->fixed_width, v->perf_caps);
		else
			fprintf(f, "   no PMU (CPUID 0xA version 0)\n");
		if (v->vpmu == MV_VPMU_MEDIATED) {
			fprintf(f, "   passed through: counters ");
			text_msr_ranges(f, v->pt_counters, v->nr_pt_counters);
			fprintf(f, "; global MSRs %s, RDPMC %s\n", v->pt_global_msrs ? "yes" : "no",
				v->pt_rdpmc ? "yes" : "no");
		}
		fprintf(f, "   VM exits: %s\n", fmt_count(b, sizeof(b), v->exits.total));
		if (r->nr_vms > 1)
			text_msr_exits(f, v->exits.msrs, v->exits.nr_msrs, v->exits.msr_other);
	}
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
		if (v->site[0] || v->cause[0])
			fprintf(f, "where: %s%s%s\n", v->site[0] ? v->site : "outside the switch",
				v->cause[0] ? ", after injections at " : "", v->cause);
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
	text_kernel(f, r);
	text_vms(f, r);
	if (r->partial)
		fprintf(f, "  PARTIAL: the run %s; the figures cover the work done until then\n",
			r->partial_reason);
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
	if (r->injected && r->points)
		fprintf(f, " Injected: %" PRIu64 " (of %" PRIu64 " injection points)\n",
			r->injected, r->points);
	else if (r->injected)
		fprintf(f, " Injected: %" PRIu64 "\n", r->injected);
	if (r->kernel_warnings)
		fprintf(f, " Kernel warnings: %" PRIu64 ", first: %s\n", r->kernel_warnings,
			r->kernel_warning);
	if (r->inv_violated) {
		fputc('\n', f);
		cli_report_violations(f, r);
	}
}

/* ---- JSON report ---- */

/* Every unsigned value exactly, all 64 bits (cli_json.h). */
static json_t *ju(uint64_t v)
{
	return cli_json_u64(v);
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
	static char cmd[4 * sizeof(im->cmdline)];
	json_t *syms = json_array(), *o;

	for (unsigned i = 0; i < im->nr_sym; i++)
		json_array_append_new(syms, json_symbol(&im->sym[i]));
	if (im->nr_other)
		json_array_append_new(syms, json_symbol(&im->other));
	serial_text(im, serial, sizeof(serial));
	cli_escape_str(cmd, sizeof(cmd), im->cmdline, 0);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:o, s:o, s:o}",
		      "who", im->who, "image", im->image,
		      "kind", im->multiboot ? "multiboot" : "elf64", "exit", im->exit,
		      "exit_message", im->message,
		      "exit_status", im->exited ? ju(im->exit_status) : json_null(),
		      "serial", serial, "serial_truncated", im->serial_truncated,
		      "instructions", json_user_kernel(im->insns_user, im->insns_kernel),
		      "branches", json_user_kernel(im->branches_user, im->branches_kernel),
		      "symbols", syms);
	json_object_set_new(o, "cmdline", im->multiboot ? json_string(cmd) : json_null());
	return o;
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

/* "0x38f" -> exits, lower-case hex; the MSRs past the report's slots
 * under "other". */
static json_t *json_by_msr(const struct mv_msr_exit_count *m, unsigned n, uint64_t other)
{
	json_t *by = json_object();
	char key[16];

	for (unsigned i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "0x%" PRIx32, m[i].msr);
		json_object_set_new(by, key, ju(m[i].count));
	}
	if (other)
		json_object_set_new(by, "other", ju(other));
	return by;
}

static json_t *json_by_reason(const struct mv_exit_count *e, unsigned n)
{
	json_t *by = json_object();

	for (unsigned i = 0; i < n; i++)
		json_object_set_new(by, e[i].reason, ju(e[i].count));
	return by;
}

static json_t *json_exits(const struct mv_result *r)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "total", ju(r->exits_total),
			 "fastpath", ju(r->exits_fastpath),
			 "by_reason", json_by_reason(r->exits, r->nr_exit_reasons),
			 "by_msr", json_by_msr(r->msr_exits, r->nr_msr_exits, r->msr_exits_other));
}

static json_t *json_str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static json_t *json_vm(const struct mv_vm_result *v)
{
	json_t *pt = json_array();
	char key[16];

	for (unsigned i = 0; i < v->nr_pt_counters; i++) {
		snprintf(key, sizeof(key), "0x%" PRIx32, v->pt_counters[i]);
		json_array_append_new(pt, json_string(key));
	}
	if (!v->created) {
		json_decref(pt);
		return json_pack("{s:s, s:b, s:o, s:o, s:s, s:s, s:n, s:n, s:o}",
				 "name", v->name, "created", 0,
				 "error", json_str_or_null(v->error),
				 "warning", json_str_or_null(v->warning),
				 "vpmu", vpmu_str(v->vpmu), "vpmu_reason", v->vpmu_reason,
				 "pmu", "passthrough",
				 "vm_exits", json_pack("{s:o, s:o, s:o, s:o}", "total", ju(0),
						       "fastpath", ju(0), "by_reason", json_object(),
						       "by_msr", json_object()));
	}
	return json_pack("{s:s, s:b, s:n, s:o, s:s, s:s, s:o, s:o, s:o}",
		"name", v->name, "created", 1, "error",
		"warning", json_str_or_null(v->warning),
		"vpmu", vpmu_str(v->vpmu), "vpmu_reason", v->vpmu_reason,
		"pmu", json_pack("{s:i, s:i, s:i, s:i, s:i, s:o}",
				 "version", (int)v->version, "gp", (int)v->gp,
				 "fixed", (int)v->fixed, "gp_width", (int)v->gp_width,
				 "fixed_width", (int)v->fixed_width,
				 "perf_capabilities", ju(v->perf_caps)),
		"passthrough", json_pack("{s:b, s:b, s:o}", "global_msrs", v->pt_global_msrs,
					 "rdpmc", v->pt_rdpmc, "counters", pt),
		"vm_exits", json_pack("{s:o, s:o, s:o, s:o}", "total", ju(v->exits.total),
				      "fastpath", ju(v->exits.fastpath),
				      "by_reason", json_by_reason(v->exits.reasons, v->exits.nr_reasons),
				      "by_msr", json_by_msr(v->exits.msrs, v->exits.nr_msrs,
							    v->exits.msr_other)));
}

static json_t *json_vms(const struct mv_result *r)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < r->nr_vms; i++)
		json_array_append_new(arr, json_vm(&r->vms[i]));
	return arr;
}

static json_t *json_patches(uint32_t patches)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < MV_NR_PATCHES; i++)
		if (patches & (1u << i))
			json_array_append_new(arr, json_string(cli_patch_name(1u << i)));
	return arr;
}

/* The module parameters in force; null on bare metal or without VMs. */
static json_t *json_kvm(const struct mv_result *r)
{
	if (!r->kvm_loaded)
		return json_null();
	return json_pack("{s:b, s:b}", "enable_pmu", r->enable_pmu,
			 "enable_mediated_pmu", r->enable_mediated_pmu);
}

static json_t *json_bare(const struct mv_result *r)
{
	if (!r->bare)
		return json_null();
	return json_pack("{s:s, s:i}", "program", r->bare_program,
			 "vms_not_run", (int)r->bare_vms_not_run);
}

static json_t *json_invariants(const struct mv_result *r)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < r->nr_violations; i++) {
		const struct mv_violation_result *v = &r->violations[i];

		json_array_append_new(arr, json_pack(
			"{s:i, s:s, s:o, s:o, s:s, s:s, s:s, s:s}",
			"invariant", v->invariant, "name", v->name,
			"seed", ju(v->seed), "step", ju(v->step),
			"message", v->msg, "trace", v->trace,
			"site", v->site, "cause", v->cause));
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "checked", ju(r->inv_checked),
			 "violated", ju(r->inv_violated), "violations", arr,
			 "injected", ju(r->injected), "points", ju(r->points),
			 "kernel_warnings", json_pack("{s:o, s:s}", "count", ju(r->kernel_warnings),
						      "first", r->kernel_warning));
}

json_t *cli_report_json(const struct mv_result *r)
{
	char hash[24];

	json_t *doc;

	snprintf(hash, sizeof(hash), "0x%016" PRIx64, r->trace_hash);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
			 "s:o, s:o, s:o, s:s}",
		"scenario", r->scenario, "cpu", r->cpu,
		"vpmu", vpmu_str(r->vpmu),
		"vpmu_effective", vpmu_str(r->vpmu_effective),
		"vpmu_fallback_reason", r->fallback_reason,
		"seed", ju(r->seed),
		"kernel", r->kernel[0] ? r->kernel : "Linux 7.0",
		"patches", json_patches(r->patches),
		"kvm", json_kvm(r),
		"bare_metal", json_bare(r),
		"vms", json_vms(r),
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
	/* Whether the run stopped at its budget, and the budget. */
	json_object_set_new(doc, "partial", json_boolean(r->partial));
	json_object_set_new(doc, "partial_reason", json_string(r->partial_reason));
	json_object_set_new(doc, "budget", json_pack("{s:o, s:o, s:o, s:o, s:o}",
		"max_cycles", ju(r->budget.max_cycles), "max_insns", ju(r->budget.max_insns),
		"max_steps", ju(r->budget.max_steps), "instructions", ju(r->insns_total),
		"steps", ju(r->steps_total)));
	return doc;
}

static int json_write(FILE *f, json_t *doc)
{
	int ret;

	if (!doc)
		return -1;
	ret = cli_json_dumpf(doc, f);
	json_decref(doc);
	return ret;
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

	fprintf(f, "Scenario %s on %s, seed %" PRIu64 ": counter value (error vs truth)\n",
		res[0].scenario, res[0].cpu, res[0].seed);
	text_kernel_line(f, &res[2]);
	fputc('\n', f);
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
