/* cli_scenario: reads a YAML scenario file (docs/scenarios.md) into a
 * struct mv_scenario; every error names the file, the line and what was expected. */
#ifndef CLI_SCENARIO_H
#define CLI_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "mvpmu/scenario.h"

/* Limits of scenario files (docs/scenarios.md "Limits"). */
#define CLI_MAX_FILE (1 << 20)		/* bytes */
#define CLI_MAX_DEPTH 16		/* nested mappings and lists; the format needs 8 */
#define CLI_MAX_PASSES 1000000
#define CLI_MAX_EMULATED 1000000	/* per segment and pass */
/* perf's default perf_event_max_sample_rate (kernel/events/core.c
 * DEFAULT_MAX_SAMPLE_RATE): perf_event_open refuses a higher sample_freq. */
#define CLI_MAX_FREQ 100000
#define CLI_MAX_TICK 1000000000ULL	/* cycles: a third of a second at 3 GHz */

/* Parses `len` bytes of YAML; `fname` names the source in messages, now
 * and when the run starts (sc->file points to it: it must outlive sc).
 * Returns 0, or 2 with "FILE:LINE: expected <...>, got <...>" in `err`
 * (one line, no control characters; CLI_ERR_MAX bytes hold any). */
int cli_scenario_parse(const char *fname, const char *text, size_t len,
		       struct mv_scenario *sc, char *err, size_t errlen);

/* Reads and parses the file at `path` (a regular file of at most
 * CLI_MAX_FILE bytes); same return values. */
int cli_scenario_load(const char *path, struct mv_scenario *sc,
		      char *err, size_t errlen);

/* A guest memory size: a number of MiB, or with a K, M or G suffix
 * (optionally KiB/MB...), from 2 MiB to 3 GiB, a multiple of 4 KiB.
 * 0, or -1 when it is not one. */
int cli_parse_mem(const char *s, uint64_t *out);

/* The built-in scenario of `mvpmu run --image FILE`: one VM (vm0) of one
 * vCPU running the image (and the same image as the bare-metal program),
 * with the mediated vPMU unless --vpmu says otherwise.  `mem` 0: the
 * default.  Returns 0, or 2 with "FILE: why" when it cannot run. */
int cli_scenario_image(const char *path, uint64_t mem, struct mv_scenario *sc,
		       char *err, size_t errlen);

/* "none", "emulated", "mediated" (NULL when out of range), and back
 * (0 ok, -1 unknown). */
const char *cli_vpmu_name(enum mv_vpmu v);
int cli_vpmu_parse(const char *s, enum mv_vpmu *out);

/* What the host runs, from the vPMU rule (docs/scenarios.md): the vPMU is
 * chosen once for the whole host (none: bare metal, no hypervisor), by the
 * top-level vpmu:, the kvm: keys or the VMs' common vpmu:; a freshly
 * loaded KVM (the legacy vPMU) when nothing says. */
struct cli_host {
	enum mv_vpmu vpmu;
	bool enable_pmu, enable_mediated_pmu;
};
/* Returns 0, or -1 with a message (no FILE:LINE) and *where: the index of
 * the VM whose vpmu: disagrees, MV_MAX_VMS when bare metal cannot run the
 * VMs, -1 when the top-level keys disagree. */
int cli_scenario_host(const struct mv_scenario *sc, struct cli_host *h, int *where,
		      char *err, size_t errlen);

/* Design knobs by name (docs/explore.md), in the order --help lists them:
 * cli_knob_set turns one on (0, or -1 for an unknown name); knob i's
 * name and whether it is on in `k`. */
extern const size_t cli_nr_knobs;
int cli_knob_set(struct mv_knobs *k, const char *name);
const char *cli_knob_name(size_t i);
bool cli_knob_get(const struct mv_knobs *k, size_t i);

/* Later proposals by name ("fixed-counter-3", ...): the MV_PATCH_* bit,
 * 0 when unknown; the name of one bit (NULL none); "a patch name (...)". */
uint32_t cli_patch_parse(const char *s);
const char *cli_patch_name(uint32_t bit);
void cli_patch_list(char *buf, size_t len);

/* Decimal or 0x hex digits and nothing else, below 2^64: 0, -EINVAL, or
 * -ERANGE.  Files and the command line read numbers the same way. */
int cli_parse_u64(const char *s, uint64_t *out);

/* "FILE:LINE: message" into err, FILE escaped and shortened in the middle
 * when room is short (line 0 is written as 1). */
void cli_scenario_error(char *err, size_t errlen, const char *fname, unsigned line,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
