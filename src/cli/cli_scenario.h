/* cli_scenario: reads a YAML scenario file (docs/scenarios.md) into a
 * struct mv_scenario; every error names the file, the line and what was expected. */
#ifndef CLI_SCENARIO_H
#define CLI_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "mvpmu/scenario.h"

/* Parses `len` bytes of YAML; `fname` only names the source in messages.
 * Returns 0, or 2 with "FILE:LINE: expected <...>, got <...>" in `err`. */
int cli_scenario_parse(const char *fname, const char *text, size_t len,
		       struct mv_scenario *sc, char *err, size_t errlen);

/* Reads and parses the file at `path`; same return values. */
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

#endif
