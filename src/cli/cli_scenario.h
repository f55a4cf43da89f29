/* cli_scenario: reads a YAML scenario file (docs/scenarios.md) into a
 * struct mv_scenario; every error names the file, the line and what was expected. */
#ifndef CLI_SCENARIO_H
#define CLI_SCENARIO_H

#include <stddef.h>

#include "mvpmu/scenario.h"

/* Parses `len` bytes of YAML; `fname` only names the source in messages.
 * Returns 0, or 2 with "FILE:LINE: expected <...>, got <...>" in `err`. */
int cli_scenario_parse(const char *fname, const char *text, size_t len,
		       struct mv_scenario *sc, char *err, size_t errlen);

/* Reads and parses the file at `path`; same return values. */
int cli_scenario_load(const char *path, struct mv_scenario *sc,
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

/* Later proposals by name ("fixed-counter-3", ...): the MV_PATCH_* bit,
 * 0 when unknown; the name of one bit (NULL none); "a patch name (...)". */
uint32_t cli_patch_parse(const char *s);
const char *cli_patch_name(uint32_t bit);
void cli_patch_list(char *buf, size_t len);

#endif
