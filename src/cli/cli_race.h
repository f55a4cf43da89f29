/* cli_race: `mvpmu explore --race` (docs/explore.md, "Races between
 * CPUs"): every interleaving of a guest-including perf_event_open on one
 * CPU with the first KVM_CREATE_VCPU of a mediated VM on another, at the
 * points where 7.0's accounting lets another CPU in, with the exclusion
 * invariant checked at each step. */
#ifndef CLI_RACE_H
#define CLI_RACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CLI_RACE_CASES 3

struct cli_race_case {
	const char *name;		/* what exists before the race */
	uint64_t interleavings;
	uint64_t outcomes[2][2];	/* [vCPU created][event opened] */
	uint64_t broken;		/* interleavings that broke an invariant */
	char first_bad[256];		/* its schedule and the first violation */
};

struct cli_race_result {
	struct cli_race_case c[CLI_RACE_CASES];
	uint64_t interleavings, broken;
};

/* Explores every interleaving on CPU model `cpu` (one that offers the
 * mediated vPMU); `unlocked`: the test-only variant without
 * perf_mediated_pmu_mutex.  0, or 2 with a one-line message. */
int cli_race_run(const char *cpu, bool unlocked, struct cli_race_result *out, char *err,
		 size_t errlen);
/* Prints the result; returns the exit status (1 when an interleaving
 * broke an invariant). */
int cli_race_print(FILE *f, const char *cpu, bool unlocked, const struct cli_race_result *r);
json_t *cli_race_json(const char *cpu, bool unlocked, const struct cli_race_result *r);

#endif
