/* hw_model: the CPU model presets (FACTS.md section 5; docs/facts.md records
 * each figure and its source) and the cost of each hardware operation. */
#ifndef HW_MODEL_H
#define HW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hw_vendor { HW_INTEL, HW_AMD };

#define HW_MAX_GP 8
#define HW_MAX_FIXED 4

/* Simulated cycles of each operation; defaults and sources in docs/costs.md. */
struct hw_costs {
	uint32_t wrmsr, rdmsr, rdpmc, cpuid;
	uint32_t vmentry, vmexit;	/* the hardware transition each way */
	uint32_t vmread;
	uint32_t exit_fastpath;		/* KVM work for an exit handled in the fastpath */
	uint32_t exit_slowpath;		/* KVM work for an exit through the outer loop */
	uint32_t perf_event_create;	/* perf_event_create_kernel_counter */
	uint32_t perf_event_read;
	uint32_t perf_event_update;	/* period change / enable / disable */
	uint32_t irq_entry;		/* taking an interrupt or NMI */
	uint32_t port_io;		/* one access to a legacy device's I/O port */
};

struct hw_model {
	const char *name;
	const char *desc;
	enum hw_vendor vendor;
	unsigned family, model_id, stepping;
	const char *brand;		/* CPUID 0x80000002-4 (at most 47 characters) */
	/* Intel: architectural PMU version (CPUID 0xA).  AMD: 0. */
	unsigned pmu_version;
	unsigned nr_gp, gp_width;
	unsigned nr_fixed, fixed_width;
	uint32_t fixed_bitmap;		/* CPUID 0xA ECX, v5+ */
	uint32_t arch_events_unavail;	/* CPUID 0xA EBX */
	unsigned ebx_len;		/* CPUID 0xA EAX[31:24] */
	uint64_t perf_caps;		/* IA32_PERF_CAPABILITIES */
	bool anythread_deprecated;	/* CPUID 0xA EDX[15] */
	bool vmx_load_global_ctrl;	/* entry/exit "load IA32_PERF_GLOBAL_CTRL" */
	bool vmx_save_global_ctrl;	/* exit "save IA32_PERF_GLOBAL_CTRL" */
	bool amd_perfctr_core;		/* CPUID 0x80000001 ECX[23] */
	bool amd_perfmon_v2;		/* CPUID 0x80000022 EAX[0] */
	/* Hybrid (P- and E-core) part: Linux 7.0's kvm_init_pmu_capability
	 * gives such hosts no vPMU at all.  No preset sets it today. */
	bool hybrid;
	uint64_t max_period_legacy;	/* what perf may program (FACTS.md s.1) */
	struct hw_costs cost;
};

extern const struct hw_model hw_models[];
extern const size_t hw_nr_models;

const struct hw_model *hw_model_find(const char *name);
/* Fixed counter i exists (v5 bitmap rule).  SDM vol. 2 CPUID.0AH: it is
 * supported iff ECX[i] is set or i < EDX[4:0] (v5 and later; before v5
 * only the count applies).  Inline: the counter engine asks often. */
static inline bool hw_model_fixed_exists(const struct hw_model *m, unsigned i)
{
	if (i >= HW_MAX_FIXED || m->pmu_version < 2)
		return false;
	if (m->pmu_version >= 5 && (m->fixed_bitmap & (1u << i)))
		return true;
	return i < m->nr_fixed;
}
/* Highest fixed index + 1 that exists (for loops). */
unsigned hw_model_fixed_span(const struct hw_model *m);

#endif
