/* mvpmu: the command line (DESIGN.md "Command line", docs/cli.md).
 * Exit status: 0 success, 1 invariant violated, 2 bad usage or bad input,
 * 3 the run reached its budget (partial report), 4 output incomplete (stdout
 * or the --trace file could not be written). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_builtin.h"
#include "cli_exhaustive.h"
#include "cli_explore.h"
#include "cli_race.h"
#include "cli_json.h"
#include "cli_report.h"
#include "cli_run.h"
#include "cli_scenario.h"
#include "cli_text.h"
#include "cli_trace.h"
#include "hw/hw_model.h"

#define MVPMU_VERSION "0.1.0"
#define DEFAULT_SCENARIO "host-and-guest"

enum { EXIT_VIOLATION = 1, EXIT_USAGE = 2, EXIT_PARTIAL = 3, EXIT_OUTPUT = 4 };

static const char usage[] =
	"usage: mvpmu run [SCENARIO|FILE|--image ELF] [--cpu MODEL] [--vpmu none|emulated|mediated]\n"
	"                 [--seed N] [--json] [--trace FILE] [--knob NAME]... [--inject PPM]\n"
	"                 [--inject-at N,N,...] [--patch NAME]... [--mem SIZE] [budget]\n"
	"                 [--cmdline STR] [--module FILE]... [--force-emulation-prefix]\n"
	"       mvpmu compare [SCENARIO|FILE|--image ELF] [--cpu MODEL] [--seed N] [--json] [--patch NAME]...\n"
	"                 [--mem SIZE] [budget]\n"
	"       mvpmu explore [SCENARIO|FILE|--image ELF] [--cpu MODEL] [--vpmu MODE] [--seed FIRST]\n"
	"                 [--seeds N] [--inject PPM] [--shrink] [--knob NAME]... [--patch NAME]...\n"
	"                 [--jobs N] [--shard K/N] [--json] [--mem SIZE] [budget]\n"
	"       mvpmu explore [SCENARIO|FILE] --exhaustive [--depth K] [--strict]\n"
	"                 [--max-executions N] [--cpu MODEL] [--seed N] [--knob NAME]...\n"
	"                 [--patch NAME]... [--jobs N] [--json] [budget]\n"
	"       mvpmu explore --race [--cpu MODEL] [--knob unlocked-mediated-accounting] [--json]\n"
	"       mvpmu merge SUMMARY.json... [--json]\n"
	"       mvpmu cpus\n"
	"       mvpmu scenarios\n"
	"       mvpmu --help | --version\n"
	"\n"
	"run       runs a built-in scenario or a scenario file (default " DEFAULT_SCENARIO ")\n"
	"compare   runs it bare metal, with the emulated and the mediated vPMU, side by side\n"
	"explore   runs it under N seeds, reporting every seed that breaks an invariant;\n"
	"          --jobs N runs seeds in N processes (default: one per CPU), --shard K/N\n"
	"          runs the K-th of N slices of the seeds and prints a JSON summary;\n"
	"          --shrink reduces the first bad seed's injections to a minimal set\n"
	"explore --exhaustive  injects at every injection point of the run, and every\n"
	"          combination of up to K points (--depth, default 1), checking every\n"
	"          invariant; violations are shrunk and printed with a replay command;\n"
	"          known findings of the real design do not fail it unless --strict\n"
	"explore --race  every interleaving of a perf_event_open racing the first\n"
	"          vCPU's creation on another CPU, checking the exclusion invariant\n"
	"merge     combines the summaries of every shard into the whole campaign's result\n"
	"--trace FILE streams a timeline of the run to FILE ('-': standard output)\n"
	"--inject-at N,... injects at exactly these injection points (a replay)\n"
	"\n"
	"--knob NAME undoes one decision of the real design (a design variant):\n"
	"  no-global-ctrl-clear    skip GLOBAL_CTRL=0 at mediated load\n"
	"  no-counter-clear        leave guest values in the PMU at put\n"
	"  no-write-elision        write every counter at load\n"
	"  assert-instead-of-clear WARN if GLOBAL_CTRL != 0 after perf's load, do not clear\n"
	"  lvtpc-before-clear      switch LVTPC before clearing GLOBAL_CTRL\n"
	"  lvtpc-outside-switch    switch LVTPC before perf's load and after its put\n"
	"  no-mask-copy            do not carry the guest's LVTPC mask into the hardware\n"
	"  no-guestonly            AMD: do not force guest selectors GuestOnly\n"
	"  no-fastpath-bail        take the fastpath while instructions are counted\n"
	"  inject-after-load       inject a pending guest PMI after the mediated load\n"
	"--inject PPM delivers a host PMU NMI at each step of the mediated PMU\n"
	"  switch with probability PPM per million, chosen by the seed.\n"
	"The kernel is Linux 7.0 as merged; --patch NAME applies a later proposal:\n"
	"  fixed-counter-3             mediated Intel guests get fixed counter 3 (Feb 2026)\n"
	"  nested-amd-host-guest-only  AMD Host/Guest-Only bits for L2 (Jan 2026)\n"
	"budget: --max-cycles, --max-insns, --max-steps N stop the run (partial report)\n"
	"  after N simulated cycles, workload instructions or program steps; the\n"
	"  defaults are 1e10, 1e11 and 1e8.  --progress shows progress on stderr even\n"
	"  when it is not a terminal (on a terminal it shows after about two seconds).\n"
	"--image ELF runs an x86-64 ELF image or a multiboot v1 kernel as real machine\n"
	"  code on one vCPU (the mediated vPMU unless --vpmu says otherwise;\n"
	"  docs/realcode.md).\n"
	"--mem SIZE gives image guests SIZE of RAM (MiB, or with K/M/G; default 256M).\n"
	"--cmdline STR, --module FILE give a multiboot kernel its command line and up to\n"
	"  4 modules (\"FILE [ARGS]\"), as QEMU's -append and -initrd do.\n"
	"--force-emulation-prefix turns on KVM's force_emulation_prefix (off by default).\n"
	"cpus      lists the CPU models\n"
	"scenarios lists the built-in scenarios\n"
	"\n"
	"Exit status: 0 success, 1 an invariant was violated, 2 bad usage or input,\n"
	"3 the run reached its budget, or explore --exhaustive --max-executions\n"
	"(partial report), 4 output incomplete (a write to stdout or to the --trace\n"
	"file failed).\n"
	"See docs/cli.md, docs/explore.md and docs/scenarios.md.\n";

struct opts {
	const char *cmd;
	const char *scenario;
	const char *cpu;
	bool vpmu_set, seed_set, json;
	enum mv_vpmu vpmu;
	uint64_t seed;
	const char *trace;
	struct mv_knobs knobs;
	bool exhaustive, strict, shrink, race, race_unlocked, depth_set, seeds_set;
	unsigned depth;
	uint64_t max_executions;
	uint32_t *inject_at;		/* --inject-at, malloc'ed */
	unsigned nr_inject_at;
	bool inject_at_set;
	uint32_t inject_ppm;
	uint64_t seeds;
	unsigned jobs;			/* 0: one per CPU */
	unsigned shard, nr_shards;	/* 0/0: no --shard */
	uint32_t patches;
	struct mv_budget budget;	/* 0: the scenario's or the default */
	bool progress;
	const char *image;
	bool mem_set;
	uint64_t mem;
	const char *cmdline;		/* --cmdline */
	const char *modules[MV_MAX_MODULES];	/* --module, in order */
	unsigned nr_modules;
	bool fep;			/* --force-emulation-prefix */
};


static int usage_error(const char *cmd, const char *what, const char *arg)
{
	char esc[CLI_ERR_MAX];

	cli_escape_str(esc, sizeof(esc), arg, 0);
	fprintf(stderr, "mvpmu %s: %s '%s' (see mvpmu --help)\n", cmd, what, esc);
	return EXIT_USAGE;
}

/* Decimal or 0x hex, as in scenario files (never octal). */
static int parse_seed(const char *s, uint64_t *out)
{
	return cli_parse_u64(s, out) ? -1 : 0;
}

/* "K/N", decimal, 1 <= K <= N <= 1000000. */
static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
	unsigned long v[2];

	for (int i = 0; i < 2; i++) {
		char *end;

		if (!(s[0] >= '0' && s[0] <= '9'))
			return -1;
		errno = 0;
		v[i] = strtoul(s, &end, 10);
		if (errno || v[i] == 0 || v[i] > 1000000 || *end != (i ? '\0' : '/'))
			return -1;
		s = end + 1;
	}
	if (v[0] > v[1])
		return -1;
	*k = (unsigned)v[0];
	*n = (unsigned)v[1];
	return 0;
}

/* "N,N,...": decimal point numbers, strictly ascending, below 2^32. */
static int parse_points(const char *s, uint32_t **out, unsigned *n)
{
	size_t cap = 1;
	uint32_t *p;

	for (const char *c = s; *c; c++)
		cap += *c == ',';
	if (cap > 1000000 || !(p = malloc(cap * sizeof(*p))))
		return -1;
	*n = 0;
	if (!strcmp(s, "none")) {	/* numbered, injected nowhere */
		free(*out);
		*out = p;
		return 0;
	}
	for (;;) {
		char *end;
		unsigned long long v;

		if (!(s[0] >= '0' && s[0] <= '9'))
			break;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || v > UINT32_MAX || (*n && v <= p[*n - 1]) ||
		    (*end != ',' && *end != '\0'))
			break;
		p[(*n)++] = (uint32_t)v;
		if (!*end) {
			free(*out);
			*out = p;
			return 0;
		}
		s = end + 1;
	}
	free(p);
	return -1;
}

/* The knobs in force, by name, in the order of the table. */
static void knob_list(const struct mv_knobs *k, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cli_nr_knobs; i++)
		if (cli_knob_get(k, i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						cli_knob_name(i));
}

/* The patches in force, by name, in bit order (as reports list them). */
static void patch_names(uint32_t patches, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < MV_NR_PATCHES; i++)
		if (patches & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						cli_patch_name(1u << i));
}

/* One option's value into `o`; `allowed` lists the short names accepted. */
static int take_opt(struct opts *o, int c, const char *arg, const char *allowed)
{
	if (!strchr(allowed, c))
		return -1;
	switch (c) {
	case 'c': o->cpu = arg; break;
	case 'j': o->json = true; break;
	case 't': o->trace = arg; break;
	case 'v':
		if (cli_vpmu_parse(arg, &o->vpmu))
			return usage_error(o->cmd, "expected --vpmu none, emulated or mediated, got", arg);
		o->vpmu_set = true;
		break;
	case 's':
		if (parse_seed(arg, &o->seed))
			return usage_error(o->cmd, "expected --seed as a non-negative integer, got", arg);
		o->seed_set = true;
		break;
	case 'k':
		/* The race explorer's test-only variant (explore --race). */
		if (!strcmp(arg, "unlocked-mediated-accounting")) {
			o->race_unlocked = true;
			break;
		}
		if (cli_knob_set(&o->knobs, arg))
			return usage_error(o->cmd, "expected --knob no-global-ctrl-clear, "
					   "no-counter-clear, no-write-elision, assert-instead-of-clear, "
					   "lvtpc-before-clear, lvtpc-outside-switch, no-mask-copy, "
					   "no-guestonly, no-fastpath-bail or inject-after-load, got", arg);
		break;
	case 'X': o->exhaustive = true; break;
	case 'Z': o->strict = true; break;
	case 'R': o->shrink = true; break;
	case 'r': o->race = true; break;
	case 'D': {
		uint64_t d;

		if (parse_seed(arg, &d) || d < 1 || d > CLI_EXH_MAX_DEPTH)
			return usage_error(o->cmd, "expected --depth as 1..4, got", arg);
		o->depth = (unsigned)d;
		o->depth_set = true;
		break;
	}
	case 'M':
		if (parse_seed(arg, &o->max_executions) || !o->max_executions)
			return usage_error(o->cmd, "expected --max-executions as a positive integer, got", arg);
		break;
	case 'A':
		if (parse_points(arg, &o->inject_at, &o->nr_inject_at))
			return usage_error(o->cmd, "expected --inject-at as ascending point numbers "
					   "N,N,... (below 2^32) or none, got", arg);
		o->inject_at_set = true;
		break;
	case 'J': {
		uint64_t n;

		if (parse_seed(arg, &n) || n == 0 || n > CLI_EXPLORE_MAX_JOBS)
			return usage_error(o->cmd, "expected --jobs as 1..256, got", arg);
		o->jobs = (unsigned)n;
		break;
	}
	case 'S':
		if (parse_shard(arg, &o->shard, &o->nr_shards))
			return usage_error(o->cmd, "expected --shard K/N with 1 <= K <= N <= 1000000, got", arg);
		break;
	case 'i': {
		uint64_t ppm;

		if (parse_seed(arg, &ppm) || ppm > 1000000)
			return usage_error(o->cmd, "expected --inject as 0..1000000 per million, got", arg);
		o->inject_ppm = (uint32_t)ppm;
		break;
	}
	case 'n':
		if (parse_seed(arg, &o->seeds) || o->seeds == 0 || o->seeds > 1000000000000ULL)
			return usage_error(o->cmd, "expected --seeds as 1..10^12, got", arg);
		o->seeds_set = true;
		break;
	case 'p': {
		uint32_t bit = cli_patch_parse(arg);

		if (!bit)
			return usage_error(o->cmd, "expected --patch fixed-counter-3 or "
					   "nested-amd-host-guest-only, got", arg);
		o->patches |= bit;
		break;
	}
	case 'C': case 'I': case 'T': {
		uint64_t *dst = c == 'C' ? &o->budget.max_cycles :
				c == 'I' ? &o->budget.max_insns : &o->budget.max_steps;

		if (parse_seed(arg, dst) || !*dst)
			return usage_error(o->cmd, c == 'C' ? "expected --max-cycles as 1 or more, got" :
					   c == 'I' ? "expected --max-insns as 1 or more, got" :
					   "expected --max-steps as 1 or more, got", arg);
		break;
	}
	case 'P': o->progress = true; break;
	case 'G':
		o->image = arg;
		break;
	case 'm':
		if (cli_parse_mem(arg, &o->mem))
			return usage_error(o->cmd, "expected --mem as MiB or a size with K/M/G "
					   "from 2M to 3G, a multiple of 4K, got", arg);
		o->mem_set = true;
		break;
	case 'L':
		if (strlen(arg) >= MV_CMDLINE_MAX)
			return usage_error(o->cmd, "expected --cmdline shorter than 1024 characters, got",
					   arg);
		o->cmdline = arg;
		break;
	case 'O':
		if (o->nr_modules == MV_MAX_MODULES)
			return usage_error(o->cmd, "expected at most 4 --module options, got also", arg);
		if (!arg[0] || strlen(arg) >= MV_PATH_MAX)
			return usage_error(o->cmd, "expected --module as a file name (and arguments) "
					   "shorter than 512 characters, got", arg);
		o->modules[o->nr_modules++] = arg;
		break;
	case 'F': o->fep = true; break;
	}
	return 0;
}

/* argv[0] is the command.  Returns 0, EXIT_USAGE, or -1 for --help. */
static int parse_opts(int argc, char **argv, const char *allowed, struct opts *o)
{
	static const struct option longopts[] = {
		{ "exhaustive", no_argument, NULL, 'X' },
		{ "depth", required_argument, NULL, 'D' },
		{ "strict", no_argument, NULL, 'Z' },
		{ "shrink", no_argument, NULL, 'R' },
		{ "race", no_argument, NULL, 'r' },
		{ "max-executions", required_argument, NULL, 'M' },
		{ "inject-at", required_argument, NULL, 'A' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "vpmu", required_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "trace", required_argument, NULL, 't' },
		{ "knob", required_argument, NULL, 'k' },
		{ "inject", required_argument, NULL, 'i' },
		{ "seeds", required_argument, NULL, 'n' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "shard", required_argument, NULL, 'S' },
		{ "patch", required_argument, NULL, 'p' },
		{ "max-cycles", required_argument, NULL, 'C' },
		{ "max-insns", required_argument, NULL, 'I' },
		{ "max-steps", required_argument, NULL, 'T' },
		{ "progress", no_argument, NULL, 'P' },
		{ "image", required_argument, NULL, 'G' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cmdline", required_argument, NULL, 'L' },
		{ "module", required_argument, NULL, 'O' },
		{ "force-emulation-prefix", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, idx = 0;

	o->cmd = argv[0];
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		if (c == 'h')
			return -1;
		if (c == ':')
			return usage_error(o->cmd, "missing value for", argv[optind - 1]);
		if (c == '?')
			return usage_error(o->cmd, "unknown option", argv[optind - 1]);
		c = take_opt(o, c, optarg, allowed);
		if (c < 0) {
			fprintf(stderr, "mvpmu %s: option --%s does not apply here (see mvpmu --help)\n",
				o->cmd, longopts[idx].name);
			return EXIT_USAGE;
		}
		if (c)
			return c;
	}
	if (optind < argc)
		o->scenario = argv[optind++];
	if (optind < argc)
		return usage_error(o->cmd, "expected at most one scenario, got also", argv[optind]);
	return 0;
}

/* --mem for every image program of the scenario. */
static int apply_mem(const struct opts *o, struct mv_scenario *sc)
{
	unsigned n = 0;

	if (!o->mem_set)
		return 0;
	if (sc->bare.kind == MV_PROG_IMAGE) {
		sc->bare.mem = o->mem;
		n++;
	}
	for (unsigned v = 0; v < sc->nr_vms; v++)
		for (unsigned i = 0; i < MV_MAX_VCPUS; i++)
			if (sc->vm[v].prog[i].kind == MV_PROG_IMAGE) {
				sc->vm[v].prog[i].mem = o->mem;
				n++;
			}
	if (!n) {
		fprintf(stderr, "mvpmu %s: --mem applies to image programs, and %s has none\n",
			o->cmd, sc->name);
		return EXIT_USAGE;
	}
	return 0;
}

/* --cmdline and --module for every image program of the scenario (the
 * loader refuses them for an ELF64 image). */
static int apply_boot(const struct opts *o, struct mv_scenario *sc)
{
	struct mv_program *pr[1 + MV_MAX_VMS * MV_MAX_VCPUS];
	unsigned n = 0;

	if (!o->cmdline && !o->nr_modules)
		return 0;
	if (sc->bare.kind == MV_PROG_IMAGE)
		pr[n++] = &sc->bare;
	for (unsigned v = 0; v < sc->nr_vms; v++)
		for (unsigned i = 0; i < MV_MAX_VCPUS; i++)
			if (sc->vm[v].prog[i].kind == MV_PROG_IMAGE)
				pr[n++] = &sc->vm[v].prog[i];
	if (!n) {
		fprintf(stderr, "mvpmu %s: --cmdline and --module apply to image programs, and %s "
			"has none\n", o->cmd, sc->name);
		return EXIT_USAGE;
	}
	for (unsigned k = 0; k < n; k++) {
		if (o->cmdline) {
			snprintf(pr[k]->cmdline, sizeof(pr[k]->cmdline), "%s", o->cmdline);
			pr[k]->cmdline_set = true;
		}
		if (o->nr_modules) {
			pr[k]->nr_modules = o->nr_modules;
			for (unsigned i = 0; i < o->nr_modules; i++)
				snprintf(pr[k]->modules[i], sizeof(pr[k]->modules[i]), "%s", o->modules[i]);
		}
	}
	return 0;
}

/* Loads the scenario and applies the command line over it. */
static int load_scenario(const struct opts *o, struct mv_scenario *sc)
{
	static char err[CLI_ERR_MAX];

	if (o->image && o->scenario) {
		fprintf(stderr, "mvpmu %s: --image runs its own scenario, got also '%s'\n",
			o->cmd, o->scenario);
		return EXIT_USAGE;
	}
	if (o->image) {
		if (cli_scenario_image(o->image, o->mem, sc, err, sizeof(err))) {
			fprintf(stderr, "mvpmu: %s\n", err);
			return EXIT_USAGE;
		}
	} else if (cli_scenario_lookup(o->scenario ? o->scenario : DEFAULT_SCENARIO,
				       sc, err, sizeof(err))) {
		/* File errors start with FILE:LINE, as compilers print them. */
		fprintf(stderr, "%s%s\n", strncmp(err, "unknown", 7) ? "" : "mvpmu: ", err);
		return EXIT_USAGE;
	}
	if (apply_mem(o, sc) || apply_boot(o, sc))
		return EXIT_USAGE;
	if (o->fep)
		sc->kvm.force_emulation_prefix = true;
	if (o->cpu) {
		if (!hw_model_find(o->cpu))
			return usage_error(o->cmd, "unknown CPU model (see mvpmu cpus)", o->cpu);
		snprintf(sc->cpu, sizeof(sc->cpu), "%s", o->cpu);
		sc->cpu_line = 0;
	}
	if (o->seed_set)
		sc->seed = o->seed;
	sc->knobs = o->knobs;
	sc->inject_ppm = o->inject_ppm;
	sc->patches |= o->patches;
	sc->inject_at = o->inject_at;
	sc->nr_inject_at = o->nr_inject_at;
	sc->points = o->inject_at_set;
	if (o->budget.max_cycles)
		sc->budget.max_cycles = o->budget.max_cycles;
	if (o->budget.max_insns)
		sc->budget.max_insns = o->budget.max_insns;
	if (o->budget.max_steps)
		sc->budget.max_steps = o->budget.max_steps;
	return 0;
}

/* ---- progress on stderr (wall-clock time is used here only) ---- */

struct progress {
	bool tty, shown;
	double start, last;
};

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 12345678901 -> "12.3G" */
static const char *si(char *buf, size_t len, double v)
{
	static const char unit[] = " kMGTPE";
	int u = 0;

	while (v >= 1000 && u < 6) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%c" : "%.0f", v, unit[u]);
	return buf;
}

static void show_progress(const struct mv_progress *pr, void *arg)
{
	struct progress *st = arg;
	double now = wall_seconds(), t = now - st->start;
	char a[16], b[16], c[16], d[16], e[16];

	/* On a terminal only runs longer than about two seconds show it. */
	if ((st->tty && !st->shown && t < 2.0) || now - st->last < 0.5)
		return;
	st->last = now;
	st->shown = true;
	fprintf(stderr, "%smvpmu: %s of %s cycles (%.0f%%), %s instructions, %s steps, "
		"%s cycles/s%s", st->tty ? "\r" : "",
		si(a, sizeof(a), (double)pr->cycles), si(b, sizeof(b), (double)pr->budget->max_cycles),
		100.0 * (double)pr->cycles / (double)pr->budget->max_cycles,
		si(c, sizeof(c), (double)pr->insns), si(d, sizeof(d), (double)pr->steps),
		si(e, sizeof(e), t > 0 ? (double)pr->cycles / t : 0), st->tty ? "\033[K" : "\n");
}

static struct progress progress_state;

/* Progress when stderr is a terminal or --progress asks; never otherwise. */
static void set_progress(const struct opts *o, struct mv_scenario *sc)
{
	progress_state.tty = isatty(STDERR_FILENO);
	if (!progress_state.tty && !o->progress)
		return;
	progress_state.start = wall_seconds();
	sc->progress = show_progress;
	sc->progress_arg = &progress_state;
}

static void end_progress(void)
{
	if (progress_state.shown && progress_state.tty)
		fputs("\r\033[K", stderr);
	progress_state.shown = false;
}

/* --vpmu is the host's module parameters (none: bare metal): it replaces
 * the scenario's vpmu: and kvm: keys and every VM's vpmu:. */
static void set_vpmu(struct mv_scenario *sc, enum mv_vpmu v)
{
	sc->vpmu = v;
	sc->vpmu_set = true;
	sc->kvm.set = false;
	for (unsigned i = 0; i < sc->nr_vms; i++) {
		sc->vm[i].vpmu = v;
		sc->vm[i].vpmu_set = true;
	}
}

static int run_one(const struct mv_scenario *sc, struct mv_result *res,
		   const struct sim_trace_sink *sink)
{
	static char err[CLI_ERR_MAX];
	int rc = sink ? cli_run_scenario_stream(sc, res, sink, err, sizeof(err)) :
			cli_run_scenario(sc, res, NULL, NULL, err, sizeof(err));

	end_progress();
	if (rc) {
		/* With a file, the message starts with FILE:LINE. */
		fprintf(stderr, "%s%s\n", sc->file ? "" : "mvpmu: ", err);
		return EXIT_USAGE;
	}
	return 0;
}

static int print_result(const struct opts *o, FILE *out, const struct mv_result *res)
{
	if (o->json) {
		if (cli_report_json_write(out, res))
			return EXIT_OUTPUT;
		/* stdout holds one JSON document; the details go to stderr. */
		cli_report_violations(stderr, res);
	} else {
		cli_report_text(out, res);
	}
	if (res->partial)
		fprintf(stderr, "mvpmu: partial result: %s\n", res->partial_reason);
	return res->inv_violated ? EXIT_VIOLATION : res->partial ? EXIT_PARTIAL : 0;
}

/* The common start of run, compare and explore: options, then the
 * scenario with the command line applied.  Returns 0 to go on, a status
 * to exit with, or -1 after printing --help. */
static int prepare(int argc, char **argv, const char *allowed, struct opts *o,
		   struct mv_scenario *sc)
{
	int ret = parse_opts(argc, argv, allowed, o);

	if (ret < 0) {
		fputs(usage, stdout);
		return -1;
	}
	if (!ret && o->race_unlocked && !o->race) {
		fprintf(stderr, "mvpmu %s: --knob unlocked-mediated-accounting applies only to "
			"explore --race (see mvpmu --help)\n", o->cmd);
		return EXIT_USAGE;
	}
	if (ret || (ret = load_scenario(o, sc)))
		return ret;
	if (o->vpmu_set)
		set_vpmu(sc, o->vpmu);
	set_progress(o, sc);
	return 0;
}

/* Where --trace may write, checked before the run: not the scenario file
 * it reads (the same device and inode, whatever the names), and not
 * standard output when the JSON report goes there.  With the trace on
 * standard output the text report goes to stderr.  Opens the trace. */
static int open_trace(const struct opts *o, FILE **report, struct cli_trace_out **out)
{
	struct stat st;
	bool to_stdout = !strcmp(o->trace, "-");
	char err[512];

	/* The scenario argument was read as a file when one exists there
	 * (cli_scenario_lookup). */
	if (o->scenario && !stat(o->scenario, &st) && !S_ISDIR(st.st_mode) &&
	    cli_trace_same_file(o->trace, &st)) {
		fprintf(stderr, "mvpmu %s: --trace %s is the scenario file %s; refusing to overwrite it\n",
			o->cmd, o->trace, o->scenario);
		return EXIT_USAGE;
	}
	if (!to_stdout && !fstat(STDOUT_FILENO, &st) && cli_trace_same_file(o->trace, &st))
		to_stdout = true;	/* e.g. /dev/stdout, or the file stdout goes to */
	if (to_stdout && o->json) {
		fprintf(stderr, "mvpmu %s: --json and --trace %s cannot both go to standard output\n",
			o->cmd, o->trace);
		return EXIT_USAGE;
	}
	if (to_stdout)
		*report = stderr;
	*out = cli_trace_open(o->trace, err, sizeof(err));
	if (!*out) {
		fprintf(stderr, "mvpmu %s: %s\n", o->cmd, err);
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct opts o = { 0 };
	struct mv_scenario *sc = calloc(1, sizeof(*sc));
	struct mv_result *res = calloc(1, sizeof(*res));
	struct cli_trace_out *trace = NULL;
	struct sim_trace_sink sink;
	FILE *report = stdout;
	char err[512];
	int ret;

	if (!sc || !res) {
		ret = EXIT_USAGE;
		goto out;
	}
	if ((ret = prepare(argc, argv, "cvsjtkipCITPAGmLOF", &o, sc))) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	if (o.trace && (ret = open_trace(&o, &report, &trace)))
		goto out;
	if (trace)
		sink = cli_trace_sink(trace);
	if ((ret = run_one(sc, res, trace ? &sink : NULL)))
		goto out;
	ret = print_result(&o, report, res);
out:
	/* A trace that could not be written in full is never left silent:
	 * the report is still printed, the status says it (docs/cli.md). */
	if (trace && cli_trace_close(trace, err, sizeof(err))) {
		fprintf(stderr, "mvpmu: %s\n", err);
		if (ret != EXIT_USAGE)
			ret = EXIT_OUTPUT;
	}
	free(sc);
	free(res);
	free(o.inject_at);
	return ret;
}

static int print_compare(const struct opts *o, const struct mv_result res[3])
{
	int ret = 0;

	if (o->json) {
		json_t *doc = cli_compare_json(res);

		if (cli_json_dumpf(doc, stdout))
			ret = EXIT_OUTPUT;
		json_decref(doc);
	} else {
		cli_compare_text(stdout, res);
	}
	for (int r = 0; r < 3; r++) {
		if (res[r].partial) {
			fprintf(stderr, "mvpmu: partial result with --vpmu %s: %s\n",
				cli_vpmu_name(res[r].vpmu) ? cli_vpmu_name(res[r].vpmu) : "?",
				res[r].partial_reason);
			if (!ret)
				ret = EXIT_PARTIAL;
		}
		if (!res[r].inv_violated)
			continue;
		fprintf(stderr, "with --vpmu %s:\n", cli_vpmu_name(res[r].vpmu) ?
			cli_vpmu_name(res[r].vpmu) : "?");
		cli_report_violations(stderr, &res[r]);
		if (!ret || ret == EXIT_PARTIAL)
			ret = EXIT_VIOLATION;
	}
	return ret;
}

static int cmd_compare(int argc, char **argv)
{
	static const enum mv_vpmu modes[3] = {
		MV_VPMU_NONE, MV_VPMU_EMULATED, MV_VPMU_MEDIATED,
	};
	struct opts o = { 0 };
	struct mv_scenario *base = calloc(1, sizeof(*base));
	struct mv_scenario *sc = calloc(1, sizeof(*sc));
	struct mv_result *res = calloc(3, sizeof(*res));
	int ret;

	if (!base || !sc || !res) {
		ret = EXIT_USAGE;
		goto out;
	}
	if ((ret = prepare(argc, argv, "csjpCITPGmLOF", &o, base))) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	for (int r = 0; r < 3; r++) {
		*sc = *base;
		set_vpmu(sc, modes[r]);
		if ((ret = run_one(sc, &res[r], NULL)))
			goto out;
	}
	ret = print_compare(&o, res);
out:
	free(base);
	free(sc);
	free(res);
	return ret;
}

static unsigned default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > CLI_EXPLORE_MAX_JOBS ? CLI_EXPLORE_MAX_JOBS : (unsigned)n;
}

static int print_json(json_t *doc)
{
	int ret = cli_json_dumpf(doc, stdout);

	json_decref(doc);
	return ret ? EXIT_OUTPUT : 0;
}

/* Appends `arg` to the command line in `buf`, quoted for a POSIX shell
 * when it holds anything but [A-Za-z0-9_./,=+-]. */
static void add_arg(char *buf, size_t len, const char *arg)
{
	size_t off = strlen(buf);
	bool plain = *arg != '\0';

	for (const char *c = arg; *c && plain; c++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./,=+-",
			       *c) != NULL;
	if (off + 1 < len)
		buf[off++] = ' ';
	if (plain) {
		snprintf(buf + off, len - off, "%s", arg);
		return;
	}
	if (off + 1 < len)
		buf[off++] = '\'';
	for (const char *c = arg; *c && off + 5 < len; c++) {
		if (*c == '\'') {
			memcpy(buf + off, "'\\''", 4);
			off += 4;
		} else {
			buf[off++] = *c;
		}
	}
	if (off + 1 < len)
		buf[off++] = '\'';
	buf[off < len ? off : len - 1] = '\0';
}

/* The `mvpmu run` line that replays one execution of this exploration,
 * without its --inject-at: scenario, CPU, vPMU, seed, knobs, patches. */
static void replay_prefix(const struct opts *o, const struct mv_scenario *sc, bool ppm,
			  char *buf, size_t len)
{
	char num[32];

	snprintf(buf, len, "mvpmu run");
	add_arg(buf, len, o->scenario ? o->scenario : DEFAULT_SCENARIO);
	add_arg(buf, len, "--cpu");
	add_arg(buf, len, hw_model_find(sc->cpu)->name);
	if (o->vpmu_set) {
		add_arg(buf, len, "--vpmu");
		add_arg(buf, len, cli_vpmu_name(o->vpmu));
	}
	snprintf(num, sizeof(num), "%" PRIu64, sc->seed);
	add_arg(buf, len, "--seed");
	add_arg(buf, len, num);
	for (size_t i = 0; i < cli_nr_knobs; i++)
		if (cli_knob_get(&sc->knobs, i)) {
			add_arg(buf, len, "--knob");
			add_arg(buf, len, cli_knob_name(i));
		}
	for (unsigned i = 0; i < MV_NR_PATCHES; i++)
		if (sc->patches & (1u << i)) {
			add_arg(buf, len, "--patch");
			add_arg(buf, len, cli_patch_name(1u << i));
		}
	if (ppm) {
		snprintf(num, sizeof(num), "%" PRIu32, sc->inject_ppm);
		add_arg(buf, len, "--inject");
		add_arg(buf, len, num);
	}
}

/* explore --race: every interleaving of the mediated-PMU race. */
static int explore_race(struct opts *o, struct mv_scenario *sc)
{
	struct cli_race_result r;
	const char *cpu = hw_model_find(sc->cpu)->name;
	char err[512];
	int ret;

	if (o->scenario || o->exhaustive || o->seeds_set || o->inject_ppm || o->nr_shards ||
	    o->shrink || o->depth_set || o->strict || o->max_executions || o->vpmu_set ||
	    o->patches || memcmp(&o->knobs, &(struct mv_knobs){ 0 }, sizeof(o->knobs))) {
		fprintf(stderr, "mvpmu explore: --race takes only --cpu, --knob "
			"unlocked-mediated-accounting and --json (see mvpmu --help)\n");
		return EXIT_USAGE;
	}
	if (cli_race_run(cpu, o->race_unlocked, &r, err, sizeof(err))) {
		fprintf(stderr, "mvpmu: %s\n", err);
		return EXIT_USAGE;
	}
	if (o->json)
		ret = print_json(cli_race_json(cpu, o->race_unlocked, &r));
	else
		ret = cli_race_print(stdout, cpu, o->race_unlocked, &r) < 0 ? EXIT_USAGE : 0;
	if (!ret)
		ret = r.broken ? EXIT_VIOLATION : 0;
	return ret;
}

/* explore --exhaustive: every injection point and combination up to
 * --depth, in a fixed order; the exit status counts new violations (and
 * known findings with --strict), 3 when --max-executions cut it. */
static int explore_exhaustive(struct opts *o, struct mv_scenario *sc)
{
	struct cli_exh_opts eo = {
		.depth = o->depth_set ? o->depth : 1, .strict = o->strict,
		.jobs = o->jobs ? o->jobs : default_jobs(),
		.max_executions = o->max_executions ? o->max_executions : 200000,
	};
	struct cli_exh_result r;
	char replay[1024], err[512];
	int ret;

	if (o->seeds_set || o->inject_ppm || o->nr_shards || o->shrink || o->inject_at_set) {
		fprintf(stderr, "mvpmu explore: --exhaustive takes no --seeds, --inject, --shard, "
			"--shrink or --inject-at (see mvpmu --help)\n");
		return EXIT_USAGE;
	}
	snprintf(sc->cpu, sizeof(sc->cpu), "%s", hw_model_find(sc->cpu)->name);
	replay_prefix(o, sc, false, replay, sizeof(replay));
	eo.replay = replay;
	if (cli_exhaustive_run(sc, &eo, &r, err, sizeof(err))) {
		fprintf(stderr, "mvpmu: %s\n", err);
		return EXIT_USAGE;
	}
	if (o->json)
		ret = print_json(cli_exhaustive_json(sc, &eo, &r));
	else
		ret = cli_exhaustive_print(stdout, sc, &eo, &r) < 0 ? EXIT_USAGE : 0;
	if (!ret)
		ret = cli_exhaustive_status(&eo, &r);
	cli_exhaustive_free(&r);
	return ret;
}

/* Runs the scenario under seeds FIRST..FIRST+N-1 (or shard K of them) and
 * reports each seed that breaks an invariant, with the first violation's
 * details; in seed order, whatever --jobs.  Or --exhaustive, or --race. */
static int cmd_explore(int argc, char **argv)
{
	struct opts o = { .seeds = 100 };
	struct mv_scenario *sc = calloc(1, sizeof(*sc));
	struct cli_explore_summary sum = { 0 };
	struct cli_campaign c = { 0 };
	struct cli_host host;
	json_t *shrunk = NULL;
	int where;
	char err[512];
	int ret;

	if (!sc) {
		ret = EXIT_USAGE;
		goto out;
	}
	if ((ret = prepare(argc, argv, "cvsnikJSjpCITPXDZRrMGmLOF", &o, sc))) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	if (o.race) {
		ret = explore_race(&o, sc);
		goto out;
	}
	/* The campaign names the host's vPMU as the runs will have it; a
	 * scenario breaking the one-vPMU rule fails here, before any run. */
	if (cli_scenario_host(sc, &host, &where, err, sizeof(err))) {
		fprintf(stderr, "mvpmu: %s\n", err);
		ret = EXIT_USAGE;
		goto out;
	}
	if (o.exhaustive) {
		ret = explore_exhaustive(&o, sc);
		goto out;
	}
	if (o.depth_set || o.strict || o.max_executions) {
		fprintf(stderr, "mvpmu explore: --depth, --strict and --max-executions go with "
			"--exhaustive (see mvpmu --help)\n");
		ret = EXIT_USAGE;
		goto out;
	}
	if (o.shrink && o.nr_shards) {
		fprintf(stderr, "mvpmu explore: --shrink cannot go with --shard (shrink the bad seed "
			"of the merged campaign with --seed S --seeds 1 --shrink)\n");
		ret = EXIT_USAGE;
		goto out;
	}
	snprintf(c.scenario, sizeof(c.scenario), "%s", sc->name);
	snprintf(c.cpu, sizeof(c.cpu), "%s", hw_model_find(sc->cpu)->name);
	snprintf(c.vpmu, sizeof(c.vpmu), "%s", cli_vpmu_name(host.vpmu));
	patch_names(sc->patches, c.patches, sizeof(c.patches));
	c.first = sc->seed;
	c.seeds = o.seeds;
	c.inject_ppm = o.inject_ppm;
	knob_list(&o.knobs, c.knobs, sizeof(c.knobs));
	c.nr_shards = o.nr_shards ? o.nr_shards : 1;
	/* A shard's result is for `mvpmu merge`: JSON, as --json asks. */
	if (o.nr_shards)
		o.json = true;
	ret = cli_explore_run(&c, o.shard ? o.shard : 1, o.jobs ? o.jobs : default_jobs(), sc,
			      o.json ? NULL : stdout, &sum, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "mvpmu: %s\n", err);
		goto out;
	}
	if (o.shrink && sum.nr_bad) {
		char replay[1024];

		sc->seed = sum.bad[0].seed;
		snprintf(sc->cpu, sizeof(sc->cpu), "%s", c.cpu);
		replay_prefix(&o, sc, o.inject_ppm != 0, replay, sizeof(replay));
		if ((ret = cli_shrink_seed(sc, replay, o.json ? NULL : stdout,
					   o.json ? &shrunk : NULL, err, sizeof(err)))) {
			fprintf(stderr, "mvpmu: %s\n", err);
			goto out;
		}
	}
	if (o.json) {
		json_t *doc = cli_explore_json(&sum);

		if (doc && shrunk)
			json_object_set_new(doc, "shrunk", shrunk);
		else
			json_decref(shrunk);
		shrunk = NULL;
		if ((ret = print_json(doc)))
			goto out;
	}
	ret = sum.nr_bad ? EXIT_VIOLATION : sum.nr_partial ? EXIT_PARTIAL : 0;
out:
	json_decref(shrunk);
	cli_explore_summary_free(&sum);
	free(sc);
	free(o.inject_at);
	return ret;
}

/* Combines shard summaries (files) into the whole campaign's result,
 * printed as `explore` prints it, or as its JSON summary. */
static int cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_explore_summary **in = NULL, out = { 0 };
	bool json = false;
	size_t n = 0;
	char err[512];
	int c, ret = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (c == 'j')
			json = true;
		else
			return usage_error(argv[0], "unknown option", argv[optind - 1]);
	}
	if (optind == argc) {
		fprintf(stderr, "mvpmu merge: expected at least one summary file (see mvpmu --help)\n");
		return EXIT_USAGE;
	}
	in = calloc((size_t)(argc - optind), sizeof(*in));
	if (!in)
		return EXIT_USAGE;
	for (int i = optind; i < argc && !ret; i++) {
		json_error_t jerr;
		json_t *doc = json_load_file(argv[i], JSON_REJECT_DUPLICATES, &jerr);

		in[n] = calloc(1, sizeof(**in));
		if (!in[n]) {
			json_decref(doc);
			ret = EXIT_USAGE;
			break;
		}
		n++;
		if (!doc) {
			fprintf(stderr, "%s:%d: expected an explore summary (JSON), got %s\n",
				argv[i], jerr.line, jerr.text);
			ret = EXIT_USAGE;
		} else if (cli_explore_from_json(doc, in[n - 1], err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", argv[i], err);
			ret = EXIT_USAGE;
		}
		json_decref(doc);
	}
	if (!ret && cli_explore_merge(in, n, &out, err, sizeof(err))) {
		fprintf(stderr, "mvpmu merge: %s\n", err);
		ret = EXIT_USAGE;
	}
	if (!ret) {
		ret = json ? print_json(cli_explore_json(&out)) : 0;
		if (!json)
			cli_explore_text(stdout, &out);
		if (!ret && (out.nr_bad || out.nr_partial))
			ret = out.nr_bad ? EXIT_VIOLATION : EXIT_PARTIAL;
	}
	for (size_t i = 0; i < n; i++) {
		cli_explore_summary_free(in[i]);
		free(in[i]);
	}
	free(in);
	cli_explore_summary_free(&out);
	return ret;
}

static const char *pmu_desc(const struct hw_model *m, char *buf, size_t len)
{
	if (m->vendor == HW_AMD)
		snprintf(buf, len, "AMD %s", m->amd_perfmon_v2 ? "PerfMonV2" :
			 m->amd_perfctr_core ? "PerfCtrExtCore" : "legacy");
	else
		snprintf(buf, len, "Intel v%u", m->pmu_version);
	return buf;
}

static int cmd_cpus(int argc, char **argv)
{
	char pmu[32];

	if (argc > 1)
		return usage_error(argv[0], "expected no arguments, got", argv[1]);
	for (size_t i = 0; i < hw_nr_models; i++) {
		const struct hw_model *m = &hw_models[i];

		printf("%-16s %-20s %u GP + %u fixed  %s\n", m->name,
		       pmu_desc(m, pmu, sizeof(pmu)), m->nr_gp, m->nr_fixed,
		       m->desc ? m->desc : "");
	}
	return 0;
}

/* Parses each built-in to print its own name and description. */
static int cmd_scenarios(int argc, char **argv)
{
	struct mv_scenario *sc;
	char err[CLI_ERR_MAX];
	int ret = 0;

	if (argc > 1)
		return usage_error(argv[0], "expected no arguments, got", argv[1]);
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return EXIT_USAGE;
	for (size_t i = 0; !ret && i < cli_nr_builtins; i++) {
		const struct cli_builtin *b = &cli_builtins[i];

		if (cli_scenario_parse(b->path, b->text, b->len, sc, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			ret = EXIT_USAGE;
		} else {
			printf("%-24s %s\n", b->name, sc->desc);
		}
	}
	free(sc);
	return ret;
}

/* A report that could not be written whole (full disk, closed pipe) is
 * an error of its own: status 4, unless the command already failed. */
static int finish(int ret)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return ret;
	fprintf(stderr, "mvpmu: cannot write to standard output: %s\n", strerror(errno));
	return ret == EXIT_USAGE ? ret : EXIT_OUTPUT;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "run", cmd_run }, { "compare", cmd_compare }, { "explore", cmd_explore },
		{ "merge", cmd_merge }, { "cpus", cmd_cpus }, { "scenarios", cmd_scenarios },
	};

	/* A closed pipe is a write error (EPIPE) to report, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return finish(0);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mvpmu " MVPMU_VERSION "\n");
		return finish(0);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return finish(cmds[i].fn(argc - 1, argv + 1));
	{
		char esc[CLI_ERR_MAX];

		cli_escape_str(esc, sizeof(esc), argv[1], 0);
		fprintf(stderr, "mvpmu: unknown command '%s' (see mvpmu --help)\n", esc);
	}
	return EXIT_USAGE;
}
