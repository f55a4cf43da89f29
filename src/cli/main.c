/* mvpmu: the command line (DESIGN.md "Command line", docs/cli.md).
 * Exit status: 0 success, 1 invariant violated, 2 bad usage or bad input. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_builtin.h"
#include "cli_report.h"
#include "cli_run.h"
#include "cli_scenario.h"
#include "cli_trace.h"
#include "hw/hw_model.h"

#define MVPMU_VERSION "0.1.0"
#define DEFAULT_SCENARIO "host-and-guest"

enum { EXIT_VIOLATION = 1, EXIT_USAGE = 2 };

static const char usage[] =
	"usage: mvpmu run [SCENARIO|FILE|--image ELF] [--cpu MODEL] [--vpmu none|emulated|mediated]\n"
	"                 [--seed N] [--json] [--trace FILE] [--knob NAME]... [--inject PPM] [--mem SIZE]\n"
	"       mvpmu compare [SCENARIO|FILE|--image ELF] [--cpu MODEL] [--seed N] [--json] [--mem SIZE]\n"
	"       mvpmu explore [SCENARIO|FILE|--image ELF] [--cpu MODEL] [--vpmu MODE] [--seed FIRST]\n"
	"                 [--seeds N] [--inject PPM] [--knob NAME]... [--mem SIZE]\n"
	"       mvpmu cpus\n"
	"       mvpmu scenarios\n"
	"       mvpmu --help | --version\n"
	"\n"
	"run       runs a built-in scenario or a scenario file (default " DEFAULT_SCENARIO ")\n"
	"compare   runs it bare metal, with the emulated and the mediated vPMU, side by side\n"
	"explore   runs it under N seeds, reporting every seed that breaks an invariant\n"
	"\n"
	"--knob NAME undoes one decision of the real design (a design variant):\n"
	"  no-global-ctrl-clear  skip GLOBAL_CTRL=0 at mediated load\n"
	"  no-counter-clear      leave guest values in the PMU at put\n"
	"  no-write-elision      write every counter at load\n"
	"--inject PPM delivers a host PMU NMI at each step of the mediated PMU\n"
	"  switch with probability PPM per million, chosen by the seed.\n"
	"--image ELF runs an x86-64 ELF image as real machine code on one vCPU (the\n"
	"  mediated vPMU unless --vpmu says otherwise; docs/realcode.md).\n"
	"--mem SIZE gives image guests SIZE of RAM (MiB, or with K/M/G; default 256M).\n"
	"cpus      lists the CPU models\n"
	"scenarios lists the built-in scenarios\n"
	"\n"
	"Exit status: 0 success, 1 an invariant was violated, 2 bad usage or input.\n"
	"See docs/cli.md and docs/scenarios.md.\n";

struct opts {
	const char *cmd;
	const char *scenario;
	const char *cpu;
	bool vpmu_set, seed_set, json;
	enum mv_vpmu vpmu;
	uint64_t seed;
	const char *trace;
	struct mv_knobs knobs;
	uint32_t inject_ppm;
	uint64_t seeds;
	const char *image;
	bool mem_set;
	uint64_t mem;
};

static const struct {
	const char *name;
	size_t off;
} knob_names[] = {
	{ "no-global-ctrl-clear", offsetof(struct mv_knobs, no_global_ctrl_clear_on_load) },
	{ "no-counter-clear", offsetof(struct mv_knobs, no_counter_clear_on_put) },
	{ "no-write-elision", offsetof(struct mv_knobs, no_write_elision) },
};

static int set_knob(struct mv_knobs *k, const char *name)
{
	for (size_t i = 0; i < sizeof(knob_names) / sizeof(knob_names[0]); i++) {
		if (!strcmp(name, knob_names[i].name)) {
			*(bool *)((char *)k + knob_names[i].off) = true;
			return 0;
		}
	}
	return -1;
}

static int usage_error(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "mvpmu %s: %s '%s' (see mvpmu --help)\n", cmd, what, arg);
	return EXIT_USAGE;
}

static int parse_seed(const char *s, uint64_t *out)
{
	char *end;

	if (!(s[0] >= '0' && s[0] <= '9'))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return *end || errno ? -1 : 0;
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
		if (set_knob(&o->knobs, arg))
			return usage_error(o->cmd, "expected --knob no-global-ctrl-clear, "
					   "no-counter-clear or no-write-elision, got", arg);
		break;
	case 'i': {
		uint64_t ppm;

		if (parse_seed(arg, &ppm) || ppm > 1000000)
			return usage_error(o->cmd, "expected --inject as 0..1000000 per million, got", arg);
		o->inject_ppm = (uint32_t)ppm;
		break;
	}
	case 'n':
		if (parse_seed(arg, &o->seeds) || o->seeds == 0 || o->seeds > 100000)
			return usage_error(o->cmd, "expected --seeds as 1..100000, got", arg);
		break;
	case 'I':
		o->image = arg;
		break;
	case 'm':
		if (cli_parse_mem(arg, &o->mem))
			return usage_error(o->cmd, "expected --mem as MiB or a size with K/M/G "
					   "from 2M to 3G, a multiple of 4K, got", arg);
		o->mem_set = true;
		break;
	}
	return 0;
}

/* argv[0] is the command.  Returns 0, EXIT_USAGE, or -1 for --help. */
static int parse_opts(int argc, char **argv, const char *allowed, struct opts *o)
{
	static const struct option longopts[] = {
		{ "cpu", required_argument, NULL, 'c' },
		{ "vpmu", required_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "trace", required_argument, NULL, 't' },
		{ "knob", required_argument, NULL, 'k' },
		{ "inject", required_argument, NULL, 'i' },
		{ "seeds", required_argument, NULL, 'n' },
		{ "image", required_argument, NULL, 'I' },
		{ "mem", required_argument, NULL, 'm' },
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

/* Loads the scenario and applies the command line over it. */
static int load_scenario(const struct opts *o, struct mv_scenario *sc)
{
	char err[512];

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
	if (apply_mem(o, sc))
		return EXIT_USAGE;
	if (o->cpu)
		snprintf(sc->cpu, sizeof(sc->cpu), "%s", o->cpu);
	if (!hw_model_find(sc->cpu)) {
		fprintf(stderr, "mvpmu %s: unknown CPU model '%s' (see mvpmu cpus)\n",
			o->cmd, sc->cpu);
		return EXIT_USAGE;
	}
	if (o->seed_set)
		sc->seed = o->seed;
	sc->knobs = o->knobs;
	sc->inject_ppm = o->inject_ppm;
	return 0;
}

/* --vpmu applies to every VM, including those that chose their own. */
static void set_vpmu(struct mv_scenario *sc, enum mv_vpmu v)
{
	sc->vpmu = v;
	for (unsigned i = 0; i < sc->nr_vms; i++) {
		sc->vm[i].vpmu = v;
		sc->vm[i].vpmu_set = true;
	}
}

static int run_one(const struct mv_scenario *sc, struct mv_result *res,
		   struct sim_trace_rec **trace, size_t *nr)
{
	char err[512] = "";

	if (cli_run_scenario(sc, res, trace, nr, err, sizeof(err))) {
		fprintf(stderr, "mvpmu: %s: %s\n", sc->name, err);
		return EXIT_USAGE;
	}
	return 0;
}

static int write_trace(const char *path, struct sim_trace_rec *trace, size_t nr)
{
	char err[512];
	int ret = cli_trace_write_file(path, trace, nr, err, sizeof(err));

	free(trace);
	if (ret) {
		fprintf(stderr, "mvpmu: %s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

static int print_result(const struct opts *o, const struct mv_result *res)
{
	if (o->json) {
		if (cli_report_json_write(stdout, res))
			return EXIT_USAGE;
		/* stdout holds one JSON document; the details go to stderr. */
		cli_report_violations(stderr, res);
	} else {
		cli_report_text(stdout, res);
	}
	return res->inv_violated ? EXIT_VIOLATION : 0;
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
	if (ret || (ret = load_scenario(o, sc)))
		return ret;
	if (o->vpmu_set)
		set_vpmu(sc, o->vpmu);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct opts o = { 0 };
	struct mv_scenario *sc = calloc(1, sizeof(*sc));
	struct mv_result *res = calloc(1, sizeof(*res));
	struct sim_trace_rec *trace = NULL;
	size_t nr = 0;
	int ret;

	if (!sc || !res) {
		ret = EXIT_USAGE;
		goto out;
	}
	if ((ret = prepare(argc, argv, "cvsjtkiIm", &o, sc))) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	sc->keep_trace = o.trace != NULL;
	if ((ret = run_one(sc, res, &trace, &nr)))
		goto out;
	if (o.trace && (ret = write_trace(o.trace, trace, nr)))
		goto out;
	ret = print_result(&o, res);
out:
	free(sc);
	free(res);
	return ret;
}

static int print_compare(const struct opts *o, const struct mv_result res[3])
{
	int ret = 0;

	if (o->json) {
		json_t *doc = cli_compare_json(res);

		if (!doc || json_dumpf(doc, stdout, CLI_JSON_FLAGS) ||
		    fputc('\n', stdout) == EOF)
			ret = EXIT_USAGE;
		json_decref(doc);
	} else {
		cli_compare_text(stdout, res);
	}
	for (int r = 0; r < 3; r++) {
		if (!res[r].inv_violated)
			continue;
		fprintf(stderr, "with --vpmu %s:\n", cli_vpmu_name(res[r].vpmu) ?
			cli_vpmu_name(res[r].vpmu) : "?");
		cli_report_violations(stderr, &res[r]);
		if (!ret)
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
	if ((ret = prepare(argc, argv, "csjIm", &o, base))) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	for (int r = 0; r < 3; r++) {
		*sc = *base;
		set_vpmu(sc, modes[r]);
		if ((ret = run_one(sc, &res[r], NULL, NULL)))
			goto out;
	}
	ret = print_compare(&o, res);
out:
	free(base);
	free(sc);
	free(res);
	return ret;
}

/* Runs the scenario under seeds FIRST..FIRST+N-1 and reports each seed
 * that breaks an invariant, with the first violation's details. */
static int cmd_explore(int argc, char **argv)
{
	struct opts o = { .seeds = 100 };
	struct mv_scenario *sc = calloc(1, sizeof(*sc));
	struct mv_result *res = calloc(1, sizeof(*res));
	uint64_t bad = 0, checked = 0, first;
	int ret;

	if (!sc || !res) {
		ret = EXIT_USAGE;
		goto out;
	}
	if ((ret = prepare(argc, argv, "cvsnikIm", &o, sc))) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	first = sc->seed;
	for (uint64_t i = 0; i < o.seeds; i++) {
		sc->seed = first + i;
		if ((ret = run_one(sc, res, NULL, NULL)))
			goto out;
		checked += res->inv_checked;
		if (!res->inv_violated)
			continue;
		if (!bad++)
			cli_report_violations(stdout, res);
		printf("seed %" PRIu64 ": %" PRIu64 " violation(s)\n", sc->seed, res->inv_violated);
	}
	printf("explored %" PRIu64 " seeds from %" PRIu64 " (%s, %s, inject %u ppm): "
	       "%" PRIu64 " checks, %" PRIu64 " seed(s) broke an invariant\n",
	       o.seeds, first, sc->name, res->cpu, o.inject_ppm, checked, bad);
	ret = bad ? EXIT_VIOLATION : 0;
out:
	free(sc);
	free(res);
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
	char err[512];
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

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "run", cmd_run }, { "compare", cmd_compare }, { "explore", cmd_explore },
		{ "cpus", cmd_cpus }, { "scenarios", cmd_scenarios },
	};

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mvpmu " MVPMU_VERSION "\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mvpmu: unknown command '%s' (see mvpmu --help)\n", argv[1]);
	return EXIT_USAGE;
}
