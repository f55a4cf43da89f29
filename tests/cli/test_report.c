/* test_report: the JSON report of a hand-built result parses back with the
 * contract's fields; the trace export is valid, complete and deterministic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli/cli_json.h"
#include "cli/cli_report.h"
#include "cli/cli_trace.h"

static struct mv_result res;

static void set_counter(struct mv_counter_result *c, const char *name,
			const char *event, uint64_t value, uint64_t truth)
{
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->event, sizeof(c->event), "%s", event);
	c->value = value;
	c->raw = value / 2;
	c->truth = truth;
	c->time_enabled = 1000;
	c->time_running = 500;
}

static void build_result(struct mv_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->scenario, sizeof(r->scenario), "host-and-guest");
	snprintf(r->cpu, sizeof(r->cpu), "zen3");
	r->vpmu = MV_VPMU_MEDIATED;
	r->vpmu_effective = MV_VPMU_EMULATED;
	snprintf(r->fallback_reason, sizeof(r->fallback_reason), "no PerfMonV2");
	r->seed = 42;
	set_counter(&r->guest[0], "vm0/vcpu0", "instructions", 3000000, 3000000);
	set_counter(&r->guest[1], "vm0/vcpu0", "branches", 590000, 600000);
	r->nr_guest = 2;
	r->guest_pmis = 30;
	snprintf(r->labels[0].label, MV_NAME_MAX, "compute");
	r->labels[0].samples = 20;
	r->labels[0].truth_events = 2000000;
	snprintf(r->labels[1].label, MV_NAME_MAX, "syscall");
	r->labels[1].samples = 10;
	r->labels[1].truth_events = 1000000;
	r->nr_labels = 2;
	r->samples = 30;
	r->samples_lost = 1;
	r->rr = (struct mv_rr_result){ true, 10000, 100, 99, 3, 1000000, 1000000 };
	set_counter(&r->host[0], "host/cpu0", "cycles:H", 123, 124);
	r->nr_host = 1;
	r->host_pmis = 2;
	r->exits_total = 7;
	snprintf(r->exits[0].reason, 32, "MSR_WRITE");
	r->exits[0].count = 5;
	snprintf(r->exits[1].reason, 32, "EXTERNAL_INTERRUPT");
	r->exits[1].count = 2;
	r->nr_exit_reasons = 2;
	r->cycles_total = 1000;
	r->cycles_guest = 600;
	r->cycles_transition = 100;
	r->cycles_host_for_guest = 50;
	r->cycles_host = 250;
	r->inv_checked = 12345;
	r->inv_violated = 1;
	r->nr_violations = 1;
	r->violations[0].invariant = 4;
	snprintf(r->violations[0].name, 32, "ordering");
	r->violations[0].seed = 42;
	r->violations[0].step = 77;
	snprintf(r->violations[0].msg, 160, "LVTPC written with GLOBAL_CTRL set");
	snprintf(r->violations[0].trace, 4096, "#1 WRMSR 0x38f\n#2 WRMSR 0x834\n");
	r->trace_hash = 0xfeedULL;
}

static json_t *field(json_t *obj, const char *path)
{
	char buf[128], *save = NULL;
	json_t *cur = obj;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, k);
	if (!cur)
		fail_msg("no field %s", path);
	return cur;
}

static json_int_t int_field(json_t *obj, const char *path)
{
	json_t *v = field(obj, path);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static const char *str_field(json_t *obj, const char *path)
{
	json_t *v = field(obj, path);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* Writes through the same path as the command line, then parses it back. */
static json_t *report_roundtrip(const struct mv_result *r, char **text)
{
	size_t len = 0;
	FILE *f = open_memstream(text, &len);
	json_error_t jerr;
	json_t *doc;

	assert_non_null(f);
	assert_int_equal(cli_report_json_write(f, r), 0);
	fclose(f);
	doc = json_loads(*text, 0, &jerr);
	if (!doc)
		fail_msg("invalid JSON at line %d: %s", jerr.line, jerr.text);
	return doc;
}

static void check_counter(json_t *c, const char *name, const char *event,
			  json_int_t value, json_int_t truth)
{
	assert_string_equal(str_field(c, "name"), name);
	assert_string_equal(str_field(c, "event"), event);
	assert_int_equal(int_field(c, "value"), value);
	assert_int_equal(int_field(c, "truth"), truth);
	assert_int_equal(int_field(c, "raw"), value / 2);
	assert_int_equal(int_field(c, "time_enabled"), 1000);
	assert_int_equal(int_field(c, "time_running"), 500);
}

static void test_json_contract(void **state)
{
	char *text = NULL;
	json_t *doc, *arr, *v;

	(void)state;
	build_result(&res);
	doc = report_roundtrip(&res, &text);
	assert_string_equal(str_field(doc, "cpu"), "zen3");
	assert_string_equal(str_field(doc, "vpmu"), "mediated");
	assert_string_equal(str_field(doc, "vpmu_effective"), "emulated");
	assert_string_equal(str_field(doc, "vpmu_fallback_reason"), "no PerfMonV2");
	assert_string_equal(str_field(doc, "scenario"), "host-and-guest");
	assert_int_equal(int_field(doc, "seed"), 42);

	arr = field(doc, "guest.counters");
	assert_int_equal(json_array_size(arr), 2);
	check_counter(json_array_get(arr, 0), "vm0/vcpu0", "instructions", 3000000, 3000000);
	check_counter(json_array_get(arr, 1), "vm0/vcpu0", "branches", 590000, 600000);
	v = field(json_array_get(arr, 1), "error_pct");
	assert_true(json_is_real(v));
	assert_true(json_real_value(v) < -1.66 && json_real_value(v) > -1.67);
	assert_int_equal(int_field(doc, "guest.pmis"), 30);
	assert_int_equal(int_field(doc, "guest.samples.total"), 30);
	assert_int_equal(int_field(doc, "guest.samples.lost"), 1);
	arr = field(doc, "guest.samples.labels");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(str_field(json_array_get(arr, 1), "label"), "syscall");
	assert_int_equal(int_field(json_array_get(arr, 1), "samples"), 10);
	assert_int_equal(int_field(doc, "guest.rr.target"), 10000);
	assert_int_equal(int_field(doc, "guest.rr.exact"), 99);
	assert_int_equal(int_field(doc, "guest.rr.max_overshoot"), 3);

	arr = field(doc, "host.counters");
	assert_int_equal(json_array_size(arr), 1);
	check_counter(json_array_get(arr, 0), "host/cpu0", "cycles:H", 123, 124);
	assert_int_equal(int_field(doc, "host.pmis"), 2);

	assert_int_equal(int_field(doc, "vm_exits.total"), 7);
	assert_int_equal(int_field(doc, "vm_exits.by_reason.MSR_WRITE"), 5);
	assert_int_equal(int_field(doc, "vm_exits.by_reason.EXTERNAL_INTERRUPT"), 2);
	assert_int_equal(int_field(doc, "time.total"), 1000);
	assert_int_equal(int_field(doc, "time.transitions"), 100);
	assert_int_equal(int_field(doc, "time.host_for_guest"), 50);

	assert_int_equal(int_field(doc, "invariants.checked"), 12345);
	assert_int_equal(int_field(doc, "invariants.violated"), 1);
	arr = field(doc, "invariants.violations");
	assert_int_equal(json_array_size(arr), 1);
	v = json_array_get(arr, 0);
	assert_int_equal(int_field(v, "invariant"), 4);
	assert_string_equal(str_field(v, "name"), "ordering");
	assert_int_equal(int_field(v, "seed"), 42);
	assert_int_equal(int_field(v, "step"), 77);
	assert_non_null(strstr(str_field(v, "message"), "LVTPC"));
	assert_non_null(strstr(str_field(v, "trace"), "0x834"));
	json_decref(doc);
	free(text);
}

/* Issue 9's fields: kernel and patches, the module parameters, each VM
 * (created or not, PMU shape, what passes through, exits by MSR keyed in
 * lower-case hex), and the top-level MSR exits. */
static void test_json_vms(void **state)
{
	char *text = NULL;
	json_t *doc, *vm, *arr;
	struct mv_vm_result *v;

	(void)state;
	build_result(&res);
	snprintf(res.kernel, sizeof(res.kernel), "Linux 7.0");
	res.patches = MV_PATCH_FIXED_COUNTER_3;
	res.kvm_loaded = res.enable_pmu = res.enable_mediated_pmu = true;
	res.msr_exits[0] = (struct mv_msr_exit_count){ 0x38F, 5 };
	res.nr_msr_exits = 1;
	res.nr_vms = 2;
	v = &res.vms[0];
	snprintf(v->name, sizeof(v->name), "a");
	v->created = true;
	v->vpmu = MV_VPMU_MEDIATED;
	v->version = 2, v->gp = 8, v->fixed = 4, v->gp_width = 48, v->fixed_width = 48;
	v->perf_caps = 0x2000;
	v->pt_global_msrs = true;
	v->pt_counters[0] = 0xC1;
	v->pt_counters[1] = 0x4C1;
	v->nr_pt_counters = 2;
	v->exits.total = 7;
	v->exits.msrs[0] = (struct mv_msr_exit_count){ 0xC0010200, 5 };
	v->exits.nr_msrs = 1;
	v = &res.vms[1];
	snprintf(v->name, sizeof(v->name), "b");
	snprintf(v->error, sizeof(v->error), "EBUSY");
	snprintf(v->warning, sizeof(v->warning), "kvm: Failed to enable mediated vPMU");
	doc = report_roundtrip(&res, &text);
	assert_string_equal(str_field(doc, "kernel"), "Linux 7.0");
	arr = field(doc, "patches");
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_array_get(arr, 0)), "fixed-counter-3");
	assert_true(json_is_true(field(doc, "kvm.enable_mediated_pmu")));
	assert_true(json_is_null(field(doc, "bare_metal")));
	assert_int_equal(int_field(doc, "vm_exits.by_msr.0x38f"), 5);
	arr = field(doc, "vms");
	assert_int_equal(json_array_size(arr), 2);
	vm = json_array_get(arr, 0);
	assert_true(json_is_true(field(vm, "created")));
	assert_true(json_is_null(field(vm, "error")));
	assert_int_equal(int_field(vm, "pmu.fixed"), 4);
	assert_int_equal(int_field(vm, "pmu.perf_capabilities"), 0x2000);
	assert_true(json_is_true(field(vm, "passthrough.global_msrs")));
	assert_true(json_is_false(field(vm, "passthrough.rdpmc")));
	assert_string_equal(json_string_value(json_array_get(field(vm, "passthrough.counters"), 1)),
			    "0x4c1");
	assert_int_equal(int_field(vm, "vm_exits.by_msr.0xc0010200"), 5);
	vm = json_array_get(arr, 1);
	assert_true(json_is_false(field(vm, "created")));
	assert_string_equal(str_field(vm, "error"), "EBUSY");
	assert_non_null(strstr(str_field(vm, "warning"), "Failed"));
	assert_true(json_is_null(field(vm, "pmu")));
	assert_true(json_is_null(field(vm, "passthrough")));
	json_decref(doc);
	free(text);
}

/* Without rr results there is no rr object; an empty run is still valid. */
static void test_json_empty(void **state)
{
	char *text = NULL;
	json_t *doc;

	(void)state;
	memset(&res, 0, sizeof(res));
	doc = report_roundtrip(&res, &text);
	assert_null(json_object_get(json_object_get(doc, "guest"), "rr"));
	assert_int_equal(json_array_size(field(doc, "guest.counters")), 0);
	assert_int_equal(json_object_size(field(doc, "vm_exits.by_reason")), 0);
	assert_string_equal(str_field(doc, "vpmu"), "none");
	json_decref(doc);
	free(text);
}

/* Fills every byte of `s` after its terminating NUL with `c`: what a
 * result holds past the end of its strings must not reach the report. */
static void scribble(char *s, size_t size, char c)
{
	size_t n = strlen(s) + 1;

	if (n < size)
		memset(s + n, c, size - n);
}

/* The report is a function of the result's content alone: the same
 * content with other bytes behind its strings, and the counters and exit
 * reasons of another result, give the same text; key order is the
 * contract's, not a hash table's. */
static void test_json_deterministic(void **state)
{
	static struct mv_result other;
	char *a = NULL, *b = NULL;
	json_t *da, *db;

	(void)state;
	build_result(&res);
	da = report_roundtrip(&res, &a);
	memset(&other, 0x5A, sizeof(other));
	build_result(&other);
	scribble(other.scenario, sizeof(other.scenario), 'x');
	scribble(other.cpu, sizeof(other.cpu), 'x');
	scribble(other.fallback_reason, sizeof(other.fallback_reason), 'x');
	for (unsigned i = 0; i < MV_MAX_COUNTERS; i++) {
		scribble(other.guest[i].name, sizeof(other.guest[i].name), 'y');
		scribble(other.guest[i].event, sizeof(other.guest[i].event), 'y');
		scribble(other.host[i].name, sizeof(other.host[i].name), 'y');
		scribble(other.host[i].event, sizeof(other.host[i].event), 'y');
	}
	for (unsigned i = 0; i < MV_MAX_LABELS; i++)
		scribble(other.labels[i].label, sizeof(other.labels[i].label), 'z');
	for (unsigned i = 0; i < MV_MAX_EXIT_REASONS; i++)
		scribble(other.exits[i].reason, sizeof(other.exits[i].reason), 'z');
	scribble(other.violations[0].msg, sizeof(other.violations[0].msg), 'v');
	scribble(other.violations[0].trace, sizeof(other.violations[0].trace), 'v');
	/* Entries past the counts are not part of the result. */
	other.guest[2] = other.guest[0];
	other.host[1] = other.host[0];
	db = report_roundtrip(&other, &b);
	assert_string_equal(a, b);
	/* Key order is the contract's order, not a hash order. */
	assert_true(strstr(a, "\"cpu\"") < strstr(a, "\"guest\""));
	assert_true(strstr(a, "\"guest\"") < strstr(a, "\"host\""));
	json_decref(da);
	json_decref(db);
	free(a);
	free(b);
}

static char *capture_text(void (*fn)(FILE *, const struct mv_result *),
			  const struct mv_result *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fn(f, r);
	fclose(f);
	return text;
}

static void test_text_report(void **state)
{
	static const char *const want[] = {
		"Scenario host-and-guest on zen3", "fell back: no PerfMonV2",
		"Guest counters", "3,000,000", "-1.667%", "50.00%",
		"raw 295,000, enabled 1,000, running 500", "compute", "66.67%",
		"rr tick counter: target 10000", "Guest PMIs: 30", "Host counters",
		"cycles:H", "VM exits: 7", "MSR_WRITE", "transitions",
		"host on behalf of guest", "Invariants: 12345 checks, 1 violated",
		"invariant 4 (ordering) violated: seed 42, step 77", "#2 WRMSR 0x834",
	};
	char *text;

	(void)state;
	build_result(&res);
	text = capture_text(cli_report_text, &res);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i]))
			fail_msg("'%s' missing from:\n%s", want[i], text);
	free(text);
}

static void test_compare(void **state)
{
	static struct mv_result three[3];
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_t *doc, *runs;

	(void)state;
	for (int i = 0; i < 3; i++) {
		build_result(&three[i]);
		three[i].vpmu = three[i].vpmu_effective = (enum mv_vpmu)i;
		three[i].cycles_total = 1000 + 100 * (uint64_t)i;
	}
	doc = cli_compare_json(three);
	runs = field(doc, "runs");
	assert_int_equal(json_array_size(runs), 3);
	assert_string_equal(str_field(json_array_get(runs, 2), "vpmu"), "mediated");
	assert_true(json_is_null(field(json_array_get(runs, 0), "overhead_vs_bare_pct")));
	assert_true(json_real_value(field(json_array_get(runs, 2),
					  "overhead_vs_bare_pct")) > 19.99);
	json_decref(doc);
	f = open_memstream(&text, &len);
	cli_compare_text(f, three);
	fclose(f);
	assert_non_null(strstr(text, "bare metal"));
	assert_non_null(strstr(text, "guest branches"));
	assert_non_null(strstr(text, "+20.00%"));
	free(text);
}

/* ---- trace export ---- */

static const struct sim_trace_rec recs[] = {
	{ 1, 0, 0, 0, TR_PMU_LOAD, 0, 0, 0, "perf_load_guest_context" },
	{ 2, 10, 0, 0, TR_WRMSR, 0x38f, 0, 0, "" },
	{ 3, 20, 0, 0, TR_WRMSR, 0xc1, 0xfffffffffffb, 0, "" },
	{ 4, 21, 0, 0, TR_WRMSR, 0x186, 0x4300c0, 0, "" },	/* selector: no track */
	{ 5, 30, 0, 1, TR_VMENTRY, 0, 0xf, 0, "" },
	{ 6, 3000, 0, 1, TR_WORK, 0, 1000, 500, "" },
	{ 7, 3100, 0, 1, TR_OVERFLOW, 0, 0, 0, "" },
	{ 8, 3200, 0, 0, TR_IRQ, 0xf5, 0, 0, "" },
	{ 9, 3300, 0, 1, TR_VMEXIT, 1, 0, 0, "" },
	{ 10, 3400, 0, 0, TR_PMI, 0xf5, 0, 0, "" },
	{ 11, 3500, 0, 1, TR_INJECT, 0xfe, 0, 0, "" },
	{ 12, 3600, 0, 1, TR_VMENTRY, 0, 0xf, 0, "" },
	{ 13, 6000, 0, 1, TR_VMEXIT, 32, 0x38f, 0, "" },
	{ 14, 6100, 0, 0, TR_PMU_PUT, 0, 0, 0, "save_counters" },
	{ 15, 6200, 1, 2, TR_VMENTRY, 0, 0, 0, "" },	/* still in guest at the end */
	{ 16, 6300, -1, 0, TR_NOTE, 0, 0, 0, "done" },
};

static char *export_trace(const struct sim_trace_rec *r, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(cli_trace_write(f, r, n), 0);
	fclose(f);
	return text;
}

static unsigned count_events(json_t *evs, const char *ph, const char *name)
{
	unsigned n = 0;
	size_t i;
	json_t *ev;

	json_array_foreach(evs, i, ev) {
		const char *p = json_string_value(json_object_get(ev, "ph"));
		const char *nm = json_string_value(json_object_get(ev, "name"));

		if (!strcmp(p, ph) && (!name || (nm && !strcmp(nm, name))))
			n++;
	}
	return n;
}

static void test_trace_json(void **state)
{
	char *text = export_trace(recs, sizeof(recs) / sizeof(recs[0]));
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr), *evs, *ev;
	size_t i;

	(void)state;
	if (!doc)
		fail_msg("invalid JSON at line %d: %s\n%s", jerr.line, jerr.text, text);
	assert_string_equal(str_field(doc, "displayTimeUnit"), "ns");
	evs = field(doc, "traceEvents");
	assert_true(json_is_array(evs));
	/* Guest slices balance, including the one open at the end. */
	assert_int_equal(count_events(evs, "B", "guest"), 3);
	assert_int_equal(count_events(evs, "E", "guest"), 3);
	assert_int_equal(count_events(evs, "i", "exit EXTERNAL_INTERRUPT"), 1);
	assert_int_equal(count_events(evs, "i", "exit MSR_WRITE"), 1);
	assert_int_equal(count_events(evs, "i", "PMI"), 1);
	assert_int_equal(count_events(evs, "i", "inject 0xfe"), 1);
	assert_int_equal(count_events(evs, "i", "perf_load_guest_context"), 1);
	assert_int_equal(count_events(evs, "i", "save_counters"), 1);
	assert_int_equal(count_events(evs, "i", "overflow"), 1);
	assert_int_equal(count_events(evs, "C", "msr 0xc1"), 1);
	assert_int_equal(count_events(evs, "C", "msr 0x38f"), 1);
	assert_int_equal(count_events(evs, "C", "msr 0x186"), 0);
	assert_int_equal(count_events(evs, "M", "process_name"), 2);
	assert_true(count_events(evs, "M", "thread_name") >= 3);
	json_array_foreach(evs, i, ev) {
		const char *ph = json_string_value(json_object_get(ev, "ph"));

		assert_true(json_is_integer(json_object_get(ev, "pid")));
		if (strcmp(ph, "M"))
			assert_true(json_is_number(json_object_get(ev, "ts")));
		/* 3 GHz: cycle 3000 is 1 microsecond. */
		if (!strcmp(ph, "B") && json_integer_value(json_object_get(ev, "tid")) == 1 &&
		    json_number_value(json_object_get(ev, "ts")) > 1.0)
			assert_true(json_number_value(json_object_get(ev, "ts")) == 1.2);
	}
	json_decref(doc);
	free(text);
}

/* The trace document depends on the records' content only: the same
 * records with their strings at other addresses give the same text; one
 * record less gives another. */
static void test_trace_deterministic(void **state)
{
	size_t n = sizeof(recs) / sizeof(recs[0]);
	struct sim_trace_rec copy[sizeof(recs) / sizeof(recs[0])];
	char *a = export_trace(recs, n), *b, *c = export_trace(recs, n - 1);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		copy[i] = recs[i];
		copy[i].what = strdup(recs[i].what);
		assert_non_null(copy[i].what);
		assert_ptr_not_equal(copy[i].what, recs[i].what);
	}
	b = export_trace(copy, n);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	for (size_t i = 0; i < n; i++)
		free((void *)copy[i].what);
	free(a);
	free(b);
	free(c);
}

static void test_trace_empty(void **state)
{
	char *text = export_trace(NULL, 0);
	json_t *doc = json_loads(text, 0, NULL);

	(void)state;
	assert_non_null(doc);
	assert_int_equal(json_array_size(field(doc, "traceEvents")), 0);
	json_decref(doc);
	free(text);
}

/* Issue 14: unsigned values above 2^63 are printed exactly (jansson alone
 * clamped them), and the placeholder never leaks nor matches a string. */
static void test_json_u64_exact(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_t *doc;

	(void)state;
	build_result(&res);
	res.seed = UINT64_MAX;
	res.guest[0].truth = (1ULL << 63) + 5;
	res.violations[0].seed = 0x8000000000000000ULL;
	/* A string that looks like the placeholder stays a string. */
	snprintf(res.guest[1].event, sizeof(res.guest[1].event), "\001u64:12");
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(cli_report_json_write(f, &res), 0);
	fclose(f);
	assert_non_null(strstr(text, "\"seed\": 18446744073709551615,"));
	assert_non_null(strstr(text, "\"truth\": 9223372036854775813,"));
	assert_non_null(strstr(text, "\"seed\": 9223372036854775808,"));
	assert_non_null(strstr(text, "\"event\": \"\\\\x01u64:12\""));
	assert_null(strstr(text, "u0001"));
	free(text);
	/* The tree keeps the value for C users. */
	doc = cli_json_u64(UINT64_MAX);
	assert_true(cli_json_u64_value(doc) == UINT64_MAX);
	json_decref(doc);
	doc = cli_json_u64(7);
	assert_true(json_is_integer(doc) && cli_json_u64_value(doc) == 7);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_contract),
		cmocka_unit_test(test_json_vms),
		cmocka_unit_test(test_json_empty),
		cmocka_unit_test(test_json_deterministic),
		cmocka_unit_test(test_text_report),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_trace_json),
		cmocka_unit_test(test_trace_deterministic),
		cmocka_unit_test(test_trace_empty),
		cmocka_unit_test(test_json_u64_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
