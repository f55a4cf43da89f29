/* guest_conf: PMU conformance probes.  They reach the PMU only through the
 * guest API, discover it from CPUID as an OS would, and write what they
 * observe to a text log, so one log from bare metal and one from a VM can
 * be compared line by line (the bare-metal equivalence oracle). */
#ifndef GUEST_CONF_H
#define GUEST_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mvpmu/guest.h"

#define GUEST_CONF_LOG_MAX 32768

/* Lines "probe: key=value\n".  Counts are decimal, register values hex
 * (0x...), faults "ok" or "gp"; `nr` counts lines.  A full log sets
 * `truncated` and drops further lines (a test should treat it as a bug). */
struct guest_conf_log {
	char text[GUEST_CONF_LOG_MAX];
	size_t len;
	unsigned nr;
	bool truncated;
};

/* The PMU as CPUID and PERF_CAPABILITIES describe it. */
struct guest_conf_pmu {
	bool intel, amd;
	unsigned version;	/* Intel CPUID.0AH:EAX[7:0]; AMD 2 with PerfMonV2, else 0 */
	unsigned nr_gp, gp_width;
	unsigned nr_fixed, fixed_width;	/* CPUID.0AH:EDX (v2+) */
	uint32_t fixed_bitmap;		/* CPUID.0AH:ECX (v5+) */
	uint32_t fixed_exists;		/* bit i: fixed counter i exists */
	bool anythread_deprecated;	/* CPUID.0AH:EDX[15] */
	bool pdcm;			/* CPUID.1:ECX[15] */
	uint64_t perf_caps;		/* IA32_PERF_CAPABILITIES when PDCM */
	bool fw_write;
	bool perfctr_core;		/* CPUID 0x80000001 ECX[23] */
	bool perfmon_v2;		/* CPUID 0x80000022 EAX[0] */
	bool has_global;		/* GLOBAL_CTRL/STATUS: Intel v2+, AMD v2 */
};

struct guest_conf;
typedef void (*guest_conf_fn)(struct guest_conf *c);

struct guest_conf_probe {
	const char *name;
	guest_conf_fn fn;
	/* Runs on a quiesced PMU (everything disabled, status clear);
	 * false for probes that look at the state as found. */
	bool quiesce;
	/* NULL when a VM must show exactly what bare metal shows; otherwise
	 * why its observations legitimately differ under KVM. */
	const char *vm_differs;
};

extern const struct guest_conf_probe guest_conf_probes[];
extern const size_t guest_conf_nr_probes;

void guest_conf_log_init(struct guest_conf_log *log);
/* Reads CPUID (and PERF_CAPABILITIES) like an OS's perf driver. */
void guest_conf_discover(struct mv_guest *g, struct guest_conf_pmu *pmu);
const struct guest_conf_probe *guest_conf_find(const char *name);

/* Run one probe / every probe / every probe not named in `exclude`.
 * Each probe saves the PMU, LVTPC, DEBUGCTL and interrupt-handler state it
 * touches and restores it; it expects CPL 0 and leaves CPL 0, CR4.PCE=0. */
bool guest_conf_run_one(struct mv_guest *g, const char *name,
			struct guest_conf_log *log);
void guest_conf_run_all(struct mv_guest *g, struct guest_conf_log *log);
void guest_conf_run_except(struct mv_guest *g, struct guest_conf_log *log,
			   const char *const exclude[], size_t nr_exclude);

/* The value of "probe: key=" (copied, NUL-terminated); false if absent. */
bool guest_conf_value(const struct guest_conf_log *log, const char *probe,
		      const char *key, char *buf, size_t len);
/* The same parsed as a number (decimal or 0x hex); false if absent or
 * not a number. */
bool guest_conf_u64(const struct guest_conf_log *log, const char *probe,
		    const char *key, uint64_t *val);

#endif
