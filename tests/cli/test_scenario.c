/* test_scenario: every built-in scenario parses, and each malformed file in
 * a table fails with status 2 naming its line and what was expected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli_builtin.h"
#include "cli/cli_scenario.h"
#include "cli/cli_text.h"

static struct mv_scenario sc;
static char err[CLI_ERR_MAX];

static int parse(const char *text)
{
	err[0] = 0;
	return cli_scenario_parse("t.yaml", text, strlen(text), &sc, err, sizeof(err));
}

static void test_builtins_parse(void **state)
{
	(void)state;
	assert_true(cli_nr_builtins >= 9);
	for (size_t i = 0; i < cli_nr_builtins; i++) {
		const struct cli_builtin *b = &cli_builtins[i];

		if (cli_scenario_parse(b->path, b->text, b->len, &sc, err, sizeof(err)))
			fail_msg("%s: %s", b->name, err);
		/* The file name is the name users type; the two must agree. */
		assert_string_equal(sc.name, b->name);
		assert_true(strlen(sc.desc) > 10);
		assert_null(strchr(sc.desc, '\n'));
	}
	assert_null(cli_builtins[cli_nr_builtins].name);
}

static void test_required_builtins(void **state)
{
	static const char *const names[] = {
		"host-and-guest", "host-multiplex", "contention", "filter-deny",
		"emulated-instructions", "rr-ticks", "record-labels",
		"rfc-sampling-basic", "rfc-sampling-mux",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!cli_builtin_find(names[i]))
			fail_msg("built-in %s missing", names[i]);
	assert_null(cli_builtin_find("no-such-scenario"));
}

static void test_host_and_guest(void **state)
{
	const struct cli_builtin *b = cli_builtin_find("host-and-guest");
	const struct mv_program *p;

	(void)state;
	assert_non_null(b);
	assert_int_equal(cli_scenario_parse(b->path, b->text, b->len, &sc, err,
					    sizeof(err)), 0);
	assert_int_equal(sc.nr_pcpus, 1);
	assert_int_equal(sc.vpmu, MV_VPMU_MEDIATED);
	assert_int_equal(sc.host.nr_events, 2);
	assert_string_equal(sc.host.events[0], "cycles:H");
	assert_true(sc.host.system_wide);
	assert_true(sc.host.has_work);
	assert_int_equal(sc.nr_vms, 1);
	assert_string_equal(sc.vm[0].name, "vm0");
	assert_int_equal(sc.vm[0].pin[0], 0);
	assert_int_equal(sc.vm[0].pmu_version, -1);
	assert_int_equal(sc.vm[0].perf_caps, -1);
	p = &sc.vm[0].prog[0];
	assert_int_equal(p->kind, MV_PROG_RECORD);
	assert_int_equal(p->period, 100000);
	assert_int_equal(p->work.nr_seg, 3);
	assert_string_equal(p->work.seg[2].label, "syscall");
	assert_true(p->work.seg[2].kernel);
	/* Without a bare: section, bare metal runs vm0's first program. */
	assert_memory_equal(&sc.bare, p, sizeof(*p));
}

static const char full[] =
	"name: full\n"
	"description: every key\n"
	"cpu: zen4\n"
	"pcpus: 2\n"
	"vpmu: emulated\n"
	"kvm: {enable_pmu: true, enable_mediated_pmu: false}\n"
	"patches: [fixed-counter-3, nested-amd-host-guest-only]\n"
	"seed: 0x10\n"
	"tick_cycles: 100000\n"
	"skid: 3\n"
	"host: {events: [cycles], system_wide: false}\n"
	"vms:\n"
	"  - name: a\n"
	"    vcpus: 2\n"
	"    vpmu: emulated\n"
	"    disable_pmu: true\n"
	"    irqchip: false\n"
	"    pmu: {version: 2, gp: 4, fixed: 3, perf_capabilities: 0x2000}\n"
	"    filter: {action: 1, events: [0x00c0, 196], fixed_counter_bitmap: 0x1, flags: 0}\n"
	"    programs:\n"
	"      - {kind: rr, rr_ticks: 500, pin: 1, work: {segments: [{label: x, instructions: 10}]}}\n"
	"      - {kind: emulated, events: [instructions], preset: 5}\n"
	"  - vcpus: 3\n"
	"    programs: [{kind: idle}]\n"
	"bare: {kind: record, events: [instructions], freq: 1000}\n";

static void test_every_key(void **state)
{
	(void)state;
	assert_int_equal(parse(full), 0);
	assert_string_equal(sc.cpu, "zen4");
	assert_int_equal(sc.nr_pcpus, 2);
	assert_int_equal(sc.vpmu, MV_VPMU_EMULATED);
	assert_int_equal(sc.seed, 16);
	assert_int_equal(sc.tick_cycles, 100000);
	assert_int_equal(sc.skid, 3);
	assert_false(sc.host.has_work);
	assert_int_equal(sc.nr_vms, 2);
	assert_true(sc.vpmu_set);
	assert_true(sc.kvm.set && sc.kvm.enable_pmu && !sc.kvm.enable_mediated_pmu);
	assert_int_equal(sc.patches, MV_PATCH_FIXED_COUNTER_3 | MV_PATCH_NESTED_AMD_HG);
	assert_true(sc.vm[0].vpmu_set);
	assert_int_equal(sc.vm[0].vpmu, MV_VPMU_EMULATED);
	assert_true(sc.vm[0].disable_pmu);
	assert_true(sc.vm[0].no_irqchip);
	assert_false(sc.vm[1].no_irqchip);
	assert_int_equal(sc.vm[0].pmu_version, 2);
	assert_int_equal(sc.vm[0].nr_gp, 4);
	assert_int_equal(sc.vm[0].nr_fixed, 3);
	assert_int_equal(sc.vm[0].perf_caps, 0x2000);
	assert_true(sc.vm[0].filter.present);
	assert_int_equal(sc.vm[0].filter.action, 1);
	assert_int_equal(sc.vm[0].filter.nevents, 2);
	assert_int_equal(sc.vm[0].filter.events[0], 0xc0);
	assert_int_equal(sc.vm[0].filter.events[1], 196);
	assert_int_equal(sc.vm[0].filter.fixed_counter_bitmap, 1);
	assert_int_equal(sc.vm[0].prog[0].kind, MV_PROG_RR);
	assert_int_equal(sc.vm[0].prog[0].rr_ticks, 500);
	assert_int_equal(sc.vm[0].prog[0].work.passes, 1);
	assert_int_equal(sc.vm[0].pin[0], 1);
	assert_int_equal(sc.vm[0].prog[1].preset, 5);
	assert_string_equal(sc.vm[1].name, "vm1");
	assert_false(sc.vm[1].vpmu_set);
	assert_false(sc.vm[1].filter.present);
	/* Unprogrammed vCPUs idle; unpinned ones spread over the CPUs. */
	assert_int_equal(sc.vm[1].prog[2].kind, MV_PROG_IDLE);
	for (unsigned i = 0; i < 3; i++)
		assert_true(sc.vm[1].pin[i] >= 0 && sc.vm[1].pin[i] < 2);
	assert_int_equal(sc.bare.kind, MV_PROG_RECORD);
	assert_int_equal(sc.bare.freq, 1000);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse("host: {events: [cycles]}\n"), 0);
	assert_string_equal(sc.name, "t");	/* from the file name */
	assert_string_equal(sc.cpu, "skylake");
	assert_int_equal(sc.nr_pcpus, 1);
	assert_int_equal(sc.nr_vms, 0);
}

struct bad {
	const char *yaml;
	unsigned line;
	const char *fragment;
};

static const struct bad bad_files[] = {
	{ "", 1, "expected a scenario mapping, got an empty document" },
	{ "- a\n- b\n", 1, "expected a mapping (scenario), got a list" },
	{ "name: x\nbogus: 1\n", 2, "expected a key of scenario (name, description" },
	{ "name: x\nname: y\n", 2, "expected 'name' once in scenario, got it again" },
	{ "name: [a: b\n", 2, "expected valid YAML, got" },
	{ "a: b\n c: d\n", 2, "expected valid YAML, got mapping values are not allowed" },
	{ "pcpus: abc\n", 1, "expected an integer (decimal or 0x hex), got 'abc'" },
	{ "pcpus: -1\n", 1, "expected an integer (decimal or 0x hex), got '-1'" },
	{ "pcpus: 1.5\n", 1, "expected an integer (decimal or 0x hex), got '1.5'" },
	{ "pcpus: 0x\n", 1, "expected an integer (decimal or 0x hex), got '0x'" },
	{ "pcpus: 0\n", 1, "expected pcpus from 1 to 8, got '0'" },
	{ "pcpus: 99\n", 1, "expected pcpus from 1 to 8, got '99'" },
	{ "seed: 99999999999999999999\n", 1, "expected an integer below 2^64" },
	{ "vpmu: full\n", 1, "expected a vPMU (none, emulated, mediated), got 'full'" },
	{ "name:\n", 1, "expected a string, got nothing" },
	{ "name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  1, "expected a string of at most 63 characters" },
	{ "host:\n  system_wide: maybe\n", 2, "expected true or false, got 'maybe'" },
	{ "host:\n  events: cycles\n", 2, "expected a list of events, got 'cycles'" },
	{ "host:\n  events: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]\n",
	  2, "expected at most 16 events, got 17" },
	{ "host:\n  work: {passes: 2}\n", 2, "expected 'segments' in work, got no such key" },
	{ "host:\n  work:\n    segments: []\n", 3, "expected at least one segment, got a list" },
	{ "host:\n  work:\n    segments:\n      - {label: a}\n", 4,
	  "expected 'instructions' in segment, got no such key" },
	{ "host:\n  work:\n    segments:\n      - {label: a, instructions: 0}\n", 4,
	  "expected instructions from 1 to" },
	{ "host:\n  work:\n    segments:\n      - {label: a, instructions: 5, colour: red}\n",
	  4, "expected a key of segment (label, instructions, kernel, emulated), got 'colour'" },
	{ "vms: {name: a}\n", 1, "expected a list of vms, got a mapping" },
	{ "vms: [{}, {}, {}, {}, {}]\n", 1, "expected at most 4 vms, got 5" },
	{ "vms:\n  - vcpus: 5\n", 2, "expected vcpus from 1 to 4, got '5'" },
	{ "vms:\n  - vcpus: 1\n    programs: [{kind: idle}, {kind: idle}]\n", 2,
	  "expected at most 1 programs (one per vCPU), got 2" },
	{ "vms:\n  - programs:\n      - {events: [instructions]}\n", 3,
	  "expected 'kind' in program, got no such key" },
	{ "vms:\n  - programs:\n      - {kind: perf}\n", 3,
	  "expected a program kind (stat, record, rr, emulated, idle, image), got 'perf'" },
	{ "vms:\n  - programs:\n      - {kind: record, events: [instructions]}\n", 3,
	  "expected one of period or freq for kind: record, got neither" },
	{ "vms:\n  - programs:\n      - {kind: record, events: [cycles], period: 1, freq: 2}\n", 3,
	  "expected one of period or freq for kind: record, got both" },
	{ "vms:\n  - programs:\n      - {kind: stat, events: [cycles], period: 10}\n", 3,
	  "expected 'period' only with kind: record, got kind: stat" },
	{ "vms:\n  - programs:\n      - {kind: rr}\n", 3,
	  "expected rr_ticks for kind: rr, got no such key" },
	{ "vms:\n  - programs:\n      - {kind: stat}\n", 3,
	  "expected events for kind: stat, got none" },
	{ "vms:\n  - programs:\n      - kind: idle\n        pin: 1\n", 4,
	  "expected pin below pcpus (1), got 1" },
	{ "vms:\n  - pmu: {version: 7}\n", 2, "expected version from 0 to 5, got '7'" },
	{ "vms:\n  - pmu: {counters: 7}\n", 2, "expected a key of pmu" },
	{ "vms:\n  - filter: {events: [1]}\n", 2, "expected 'action' in filter, got no such key" },
	{ "vms:\n  - filter: {action: block}\n", 2,
	  "expected a filter action (allow, deny, 0, 1), got 'block'" },
	{ "vms:\n  - filter:\n      action: deny\n      events: [1, two]\n", 4,
	  "expected an integer (decimal or 0x hex), got 'two'" },
	{ "vms:\n  - disable_pmu: 1\n", 2, "expected true or false, got '1'" },
	{ "bare: {kind: idle, period: 5}\n", 1, "expected 'period' only with kind: record" },
	{ "tick_cycles: 10\n", 1, "expected tick_cycles from 1000 to" },
	/* Issue 14: what libyaml or strtoull accepted silently. */
	{ "seed: 0x0x2\n", 1, "expected an integer (decimal or 0x hex), got '0x0x2'" },
	{ "seed: 0x 2\n", 1, "expected an integer (decimal or 0x hex)" },
	{ "name: a\n---\nname: b\n", 2, "expected one YAML document, got a second" },
	{ "name: a\n...\n---\n", 3, "expected one YAML document, got a second" },
	{ "name: \"a\\0b\"\n", 1, "expected text without NUL or control characters, got 'a\\x00b'" },
	{ "name: \"a\\x1b[31m\"\n", 1, "got 'a\\x1b[31m'" },
	{ "name: !!str a\n", 1, "expected no YAML tags, got 'tag:yaml.org,2002:str'" },
	{ "vms: !frob [1]\n", 1, "expected no YAML tags, got '!frob'" },
	{ "name: x\ndescription: caf\xc3\n", 2, "expected valid UTF-8 text" },
	{ "name: x\n\xff: 1\n", 2, "expected valid UTF-8 text, got invalid leading UTF-8 octet (byte 0xff)" },
	{ "name: x\n\"k\\x01\": 1\n", 2, "got 'k\\x01'" },
	{ "host:\n  events: [cycles, frob]\n", 2, "expected a perf event (cycles, instructions" },
	{ "host:\n  events: [cycles:q]\n", 2, "got 'cycles:q'" },
	{ "vms:\n  - programs:\n      - {kind: record, events: [cycles], freq: 100001}\n", 3,
	  "expected freq from 1 to 100000, got '100001'" },
	{ "host:\n  work: {passes: 1000001, segments: [{label: a, instructions: 1}]}\n", 2,
	  "expected passes from 1 to 1000000" },
	{ "host:\n  work: {segments: [{label: a, instructions: 1, emulated: 1000001}]}\n", 2,
	  "expected emulated from 0 to 1000000" },
	{ "tick_cycles: 1000000001\n", 1, "expected tick_cycles from 1000 to 1000000000" },
	/* 2 x 2^61: the truth of all work must not wrap 64 bits. */
	{ "host:\n  work:\n    passes: 2\n    segments: [{label: a, instructions: 0x2000000000000001}]\n",
	  3, "expected at most 2^62 instructions of work in the whole scenario" },
	{ "host:\n  work: {segments: [{label: a, instructions: 0x3000000000000000}]}\n"
	  "vms:\n  - programs:\n      - kind: idle\n        work: {segments: [{label: b, instructions: 0x1000000000000001}]}\n",
	  6, "expected at most 2^62 instructions" },
	{ "max_cycles: 0\n", 1, "expected max_cycles from 1 to" },
};

static void check_bad(const struct bad *b)
{
	char where[32];

	snprintf(where, sizeof(where), "t.yaml:%u: ", b->line);
	if (parse(b->yaml) != 2)
		fail_msg("accepted:\n%s", b->yaml);
	if (strncmp(err, where, strlen(where)) || !strstr(err, b->fragment))
		fail_msg("for:\n%s\ngot:      %s\nexpected: %s...%s", b->yaml, err,
			 where, b->fragment);
	/* One printable line: no control characters, valid UTF-8. */
	if (!cli_text_clean(err, strlen(err)))
		fail_msg("raw bytes in: %s", err);
}

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++)
		check_bad(&bad_files[i]);
}

/* More filter events than KVM accepts cannot even be stored. */
static void test_filter_cap(void **state)
{
	size_t cap = 64 + 6 * (MV_MAX_FILTER_EVENTS + 1);
	char *y = malloc(cap);
	size_t n;

	(void)state;
	assert_non_null(y);
	n = (size_t)snprintf(y, cap, "vms:\n  - filter:\n      action: allow\n      events: [");
	for (int i = 0; i <= MV_MAX_FILTER_EVENTS; i++)
		n += (size_t)snprintf(y + n, cap - n, "%s%d", i ? "," : "", i);
	snprintf(y + n, cap - n, "]\n");
	assert_int_equal(parse(y), 2);
	assert_non_null(strstr(err, "t.yaml:4: expected at most 300 filter events, got 301"));
	/* Exactly the cap is fine. */
	strcpy(strrchr(y, ','), "]\n");
	assert_int_equal(parse(y), 0);
	assert_int_equal(sc.vm[0].filter.nevents, MV_MAX_FILTER_EVENTS);
	free(y);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/mvpmu-test-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "name: from-file\nskid: [1]\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
	close(fd);
	assert_int_equal(cli_scenario_load(path, &sc, err, sizeof(err)), 2);
	assert_non_null(strstr(err, ":2: expected an integer, got a list"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	/* A path that exists is read as a file, before any built-in name. */
	assert_int_equal(cli_scenario_lookup(path, &sc, err, sizeof(err)), 2);
	unlink(path);
	assert_int_equal(cli_scenario_load(path, &sc, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "expected a readable file"));
	assert_int_equal(cli_scenario_lookup("no-such", &sc, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "unknown scenario 'no-such'"));
	assert_int_equal(cli_scenario_lookup("rr-ticks", &sc, err, sizeof(err)), 0);
	assert_int_equal(sc.vm[0].prog[0].kind, MV_PROG_RR);
}

/* Deep flow nesting stops at the cap (before libyaml's quadratic work). */
static void test_depth_cap(void **state)
{
	size_t depth = 200000;
	char *y = malloc(2 * depth + 16);
	size_t n;

	(void)state;
	assert_non_null(y);
	n = (size_t)sprintf(y, "name: ");
	memset(y + n, '[', depth);
	memset(y + n + depth, ']', depth);
	strcpy(y + n + 2 * depth, "\n");
	assert_int_equal(parse(y), 2);
	assert_string_equal(err, "t.yaml:1: expected at most 16 levels of nesting, got more");
	/* The format's own depth (8) is well within the cap. */
	n = (size_t)sprintf(y, "vms: [{programs: [{kind: idle, work: {segments: [{label: a, "
			    "instructions: 1}]}}]}]\n");
	assert_int_equal(parse(y), 0);
	free(y);
}

/* Over 1 MiB is refused, naming the line where the cap is crossed. */
static void test_size_cap(void **state)
{
	size_t len = CLI_MAX_FILE + 1;
	char *y = malloc(len + 1);

	(void)state;
	assert_non_null(y);
	memset(y, '#', len);
	memcpy(y, "name: x\n", 8);
	y[100] = '\n';
	y[len] = 0;
	assert_int_equal(cli_scenario_parse("t.yaml", y, len, &sc, err, sizeof(err)), 2);
	assert_string_equal(err, "t.yaml:3: expected at most 1048576 bytes (1 MiB), got more");
	/* Exactly the cap is read. */
	assert_int_equal(cli_scenario_parse("t.yaml", y, len - 1, &sc, err, sizeof(err)), 0);
	free(y);
}

/* Non-regular files are refused without reading (a FIFO would block). */
static void test_not_regular(void **state)
{
	char dir[] = "/tmp/mvpmu-test-XXXXXX", fifo[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/f.yaml", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(cli_scenario_lookup(fifo, &sc, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "/f.yaml:1: expected a regular file, got a FIFO"));
	assert_int_equal(cli_scenario_lookup("/dev/zero", &sc, err, sizeof(err)), 2);
	assert_string_equal(err, "/dev/zero:1: expected a regular file, got a character device");
	assert_int_equal(cli_scenario_lookup(dir, &sc, err, sizeof(err)), 2);
	assert_non_null(strstr(err, ":1: expected a regular file, got a directory"));
	unlink(fifo);
	rmdir(dir);
}

/* Run-time checks name the line: the parser keeps it in the scenario. */
static void test_lines_kept(void **state)
{
	(void)state;
	assert_int_equal(parse(full), 0);
	assert_string_equal(sc.file, "t.yaml");
	assert_int_equal(sc.cpu_line, 3);
	/* Lines of `full` above, counted from its first line. */
	assert_int_equal(sc.host.event_line[0], 11);
	assert_int_equal(sc.vm[0].line, 13);
	assert_int_equal(sc.vm[0].filter.line, 19);
	assert_int_equal(sc.vm[0].prog[0].line, 21);
	assert_int_equal(sc.vm[0].prog[1].line, 22);
	assert_int_equal(sc.vm[0].prog[1].event_line[0], 22);
	assert_int_equal(sc.vm[1].line, 23);
	assert_int_equal(sc.bare.line, 25);
}

/* A long path is shortened in the middle; the message is never cut. */
static void test_long_path(void **state)
{
	char path[6000], small[300];

	(void)state;
	memset(path, 'd', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	cli_scenario_error(err, sizeof(err), path, 7, "expected %s, got %s", "this", "that");
	assert_int_equal(strncmp(err, "dddd", 4), 0);
	assert_non_null(strstr(err, "dd:7: expected this, got that"));
	cli_scenario_error(small, sizeof(small), path, 7, "expected %s, got %s", "this", "that");
	assert_true(strlen(small) < sizeof(small));
	assert_non_null(strstr(small, "ddd...ddd"));
	assert_non_null(strstr(small, "dd:7: expected this, got that"));
	/* A path's control characters are escaped too. */
	cli_scenario_error(small, sizeof(small), "a\nb\x1b.yaml", 2, "x");
	assert_string_equal(small, "a\\x0ab\\x1b.yaml:2: x");
}

static void test_escape(void **state)
{
	char buf[64];

	(void)state;
	cli_escape_str(buf, sizeof(buf), "ok \x1b[31m\xff\\ \xc3\xa9 \xc2\x9b", 0);
	assert_string_equal(buf, "ok \\x1b[31m\\xff\\\\ \xc3\xa9 \\xc2\\x9b");
	cli_escape_str(buf, sizeof(buf), "abcdef", 3);
	assert_string_equal(buf, "abc...");
	/* A cut never splits a UTF-8 character. */
	cli_escape_str(buf, sizeof(buf), "ab\xc3\xa9", 3);
	assert_string_equal(buf, "ab...");
	assert_true(cli_text_clean("caf\xc3\xa9", 5));
	assert_false(cli_text_clean("a\tb", 3));
	assert_false(cli_text_clean("\xed\xa0\x80", 3));	/* a surrogate */
}

static void test_parse_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(cli_parse_u64("010", &v), 0);
	assert_int_equal(v, 10);		/* never octal */
	assert_int_equal(cli_parse_u64("0x10", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(cli_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cli_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(cli_parse_u64("0x0x2", &v), -EINVAL);
	assert_int_equal(cli_parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(cli_parse_u64("+1", &v), -EINVAL);
	assert_int_equal(cli_parse_u64("-1", &v), -EINVAL);
	assert_int_equal(cli_parse_u64("0x", &v), -EINVAL);
	assert_int_equal(cli_parse_u64("", &v), -EINVAL);
}

static void test_vpmu_names(void **state)
{
	enum mv_vpmu v;

	(void)state;
	assert_string_equal(cli_vpmu_name(MV_VPMU_NONE), "none");
	assert_string_equal(cli_vpmu_name(MV_VPMU_MEDIATED), "mediated");
	assert_null(cli_vpmu_name((enum mv_vpmu)7));
	assert_int_equal(cli_vpmu_parse("emulated", &v), 0);
	assert_int_equal(v, MV_VPMU_EMULATED);
	assert_int_equal(cli_vpmu_parse("Mediated", &v), -1);
}

/* The ranges docs/scenarios.md gives for numeric keys: both ends taken
 * (and kept), one past either end refused naming the range. */
static const struct {
	const char *key, *before, *after;	/* the YAML around the value */
	uint64_t lo, hi;
	size_t off;				/* where the value lands, or -1 */
} ranges[] = {
	{ "pcpus", "pcpus: ", "\n", 1, 8, offsetof(struct mv_scenario, nr_pcpus) },
	{ "tick_cycles", "tick_cycles: ", "\n", 1000, 1000000000,
	  offsetof(struct mv_scenario, tick_cycles) },
	{ "skid", "skid: ", "\n", 0, 1000000, offsetof(struct mv_scenario, skid) },
	{ "freq", "vms:\n  - programs:\n      - {kind: record, events: [cycles], freq: ", "}\n",
	  1, 100000, (size_t)-1 },
	{ "preset", "vms:\n  - programs:\n      - {kind: emulated, events: [instructions], preset: ", "}\n",
	  1, 4294967295ULL, (size_t)-1 },
	{ "handler_work", "vms:\n  - programs:\n      - {kind: emulated, events: [instructions], handler_work: ", "}\n",
	  1, 1000000, (size_t)-1 },
};

static uint64_t value_at(size_t i)
{
	const char *p = (const char *)&sc + ranges[i].off;

	if (!strcmp(ranges[i].key, "pcpus"))
		return *(const unsigned *)p;
	return *(const uint64_t *)p;
}

static void test_documented_ranges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		uint64_t v[4] = { ranges[i].lo, ranges[i].hi, ranges[i].lo - 1, ranges[i].hi + 1 };

		for (int k = 0; k < 4; k++) {
			char text[256], want[96];

			if (k == 2 && ranges[i].lo == 0)
				continue;
			snprintf(text, sizeof(text), "%s%llu%s", ranges[i].before,
				 (unsigned long long)v[k], ranges[i].after);
			if (k < 2) {
				if (parse(text))
					fail_msg("%s %llu refused: %s", ranges[i].key,
						 (unsigned long long)v[k], err);
				if (ranges[i].off != (size_t)-1)
					assert_int_equal(value_at(i), v[k]);
				continue;
			}
			assert_int_equal(parse(text), 2);
			snprintf(want, sizeof(want), "expected %s from %llu to %llu", ranges[i].key,
				 (unsigned long long)ranges[i].lo, (unsigned long long)ranges[i].hi);
			if (!strstr(err, want))
				fail_msg("%s %llu: '%s', want '%s'", ranges[i].key,
					 (unsigned long long)v[k], err, want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtins_parse),
		cmocka_unit_test(test_required_builtins),
		cmocka_unit_test(test_host_and_guest),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_filter_cap),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_vpmu_names),
		cmocka_unit_test(test_documented_ranges),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_lines_kept),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_parse_u64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
