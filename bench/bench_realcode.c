/* bench_realcode: the speed of real code (issue 11).  One loop
 * (guest/bench/loop_body.S: 16-instruction iterations touching memory)
 * runs three ways in this one process:
 *   engine     Unicorn alone, no hooks, nothing counted (the reference);
 *   exact      the image on bare metal with exact counting (block hook,
 *              decoded-block cache, lazy retirement, counter 0 counting
 *              instructions);
 *   mediated   the same image in a VM under the mediated vPMU.
 * It prints guest instructions per second of wall time and the ratio to
 * the engine-only run.  Targets: exact counting >= 100 M instructions/s
 * and >= 0.25 of the engine-only speed.  Wall time here is noisy: each
 * way runs REPS times and the best run counts; the ratios compare runs
 * of the same process. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_run.h"
#include "cli/cli_scenario.h"
#include "guest/guest_bare.h"
#include "hw/hw_cpu.h"
#include "hw/hw_elf.h"
#include "hw/hw_model.h"
#include "hw/hw_platform.h"
#include "hw/hw_x86.h"

#ifndef MV_GUEST_DIR
#define MV_GUEST_DIR "build/guest"
#endif
#define REPS 3
#define N 4000000ULL	/* BENCH_N of guest/bench/loop.c */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t sym(const struct hw_elf *e, const char *name)
{
	for (size_t i = 0; i < e->nr_sym; i++)
		if (!strcmp(e->sym[i].name, name))
			return e->sym[i].start;
	fprintf(stderr, "bench_realcode: no symbol %s\n", name);
	exit(1);
}

/* The loop alone on plain Unicorn; seconds. */
static double engine_only(const char *path)
{
	struct sim sim;
	struct hw_cpu cpu;
	struct guest_bare gb;
	struct hw_platform plat;
	struct hw_elf *e;
	struct hw_x86 *x;
	char err[256];
	double t0, t;

	sim_init(&sim, 1, false);
	hw_cpu_init(&cpu, 0, &sim, hw_model_find("skylake"));
	guest_bare_init(&gb, &cpu, 1);
	hw_platform_init(&plat, &sim);
	gb.g.platform = &plat;
	if (hw_elf_open(path, HW_X86_MEM_DEFAULT, &e, err, sizeof(err))) {
		fprintf(stderr, "bench_realcode: %s\n", err);
		exit(1);
	}
	x = hw_x86_new(&gb.g, &(struct hw_x86_config){
		.sim = &sim, .mem = HW_X86_MEM_DEFAULT, .label = "bench", .raw = true,
		.raw_from = sym(e, "bench_raw_entry"), .raw_arg = N,
		.raw_until = sym(e, "bench_raw_done") }, err, sizeof(err));
	if (!x || hw_x86_load(x, e, err, sizeof(err))) {
		fprintf(stderr, "bench_realcode: %s\n", err);
		exit(1);
	}
	t0 = now();
	hw_x86_step(x, 0);
	t = now() - t0;
	if (hw_x86_end(x, NULL) != HW_X86_EXITED) {
		fprintf(stderr, "bench_realcode: the engine-only run did not finish\n");
		exit(1);
	}
	hw_x86_free(x);
	hw_elf_free(e);
	sim_free(&sim);
	return t;
}

static struct mv_scenario sc;
static struct mv_result res;

/* The whole image with exact counting; seconds, and the instructions it
 * retired (*insns) and those of bench_loop (*loop). */
static double exact(const char *path, enum mv_vpmu vp, uint64_t *insns, uint64_t *loop)
{
	const struct mv_image_result *im;
	char err[256];
	double t0, t;

	if (cli_scenario_image(path, 0, &sc, err, sizeof(err))) {
		fprintf(stderr, "bench_realcode: %s\n", err);
		exit(1);
	}
	sc.vpmu = vp;
	sc.vm[0].vpmu = vp;
	sc.vm[0].vpmu_set = true;
	t0 = now();
	if (cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err))) {
		fprintf(stderr, "bench_realcode: %s\n", err);
		exit(1);
	}
	t = now() - t0;
	im = &res.images[0];
	if (!im->exited || im->exit_status != 1 || res.inv_violated) {
		fprintf(stderr, "bench_realcode: the image did not run cleanly (%s)\n", im->message);
		exit(1);
	}
	*insns = im->insns_user + im->insns_kernel;
	*loop = 0;
	for (unsigned i = 0; i < im->nr_sym; i++)
		if (!strcmp(im->sym[i].name, "bench_loop"))
			*loop = im->sym[i].insns_kernel;
	return t;
}

int main(void)
{
	char path[512];
	double te = 1e9, tb = 1e9, tm = 1e9;
	uint64_t insns_b = 0, insns_m = 0, loop = 0, raw_insns;

	snprintf(path, sizeof(path), "%s/bench/loop.elf", MV_GUEST_DIR);
	for (int r = 0; r < REPS; r++) {
		double t = engine_only(path);

		te = t < te ? t : te;
		t = exact(path, MV_VPMU_NONE, &insns_b, &loop);
		tb = t < tb ? t : tb;
		t = exact(path, MV_VPMU_MEDIATED, &insns_m, &loop);
		tm = t < tm ? t : tm;
	}
	/* The engine-only run retires bench_loop and the CALL into it. */
	raw_insns = loop + 1;
	printf("real-code loop: %" PRIu64 " iterations of 16 instructions; best of %d runs\n",
	       (uint64_t)N, REPS);
	printf("  %-34s %12s %10s %8s\n", "", "instructions", "M insn/s", "ratio");
	printf("  %-34s %12" PRIu64 " %10.1f %8.2f\n", "engine only (Unicorn, no hooks)",
	       raw_insns, raw_insns / te / 1e6, 1.0);
	printf("  %-34s %12" PRIu64 " %10.1f %8.2f\n", "exact counting, bare metal",
	       insns_b, insns_b / tb / 1e6, (insns_b / tb) / (raw_insns / te));
	printf("  %-34s %12" PRIu64 " %10.1f %8.2f\n", "exact counting, mediated vPMU",
	       insns_m, insns_m / tm / 1e6, (insns_m / tm) / (raw_insns / te));
	printf("  targets: exact counting >= 100 M insn/s and >= 0.25 of engine only\n");
	return 0;
}
