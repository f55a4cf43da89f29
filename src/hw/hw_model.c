/* hw_model: CPU model presets.  Counter figures from FACTS.md section 5,
 * checked against the SDM's per-microarchitecture PMU chapters and Linux's
 * perf driver; PERF_CAPABILITIES values are representative encodings of the
 * features each part has (docs/facts.md lists them bit by bit). */
#include <string.h>

#include "hw_model.h"
#include "mvpmu/x86.h"

/* Defaults in docs/costs.md: a VM-exit/entry round trip of ~1.1k cycles,
 * WRMSR to a PMU MSR ~80 cycles (FACTS.md s.6: eliding counter writes saves
 * ~1k cycles per CPUID exit on Emerald Rapids), VMREAD ~18 cycles. */
#define INTEL_COSTS { .wrmsr = 80, .rdmsr = 40, .rdpmc = 25, .cpuid = 100, \
	.vmentry = 550, .vmexit = 550, .vmread = 18, .exit_fastpath = 150, \
	.exit_slowpath = 400, .perf_event_create = 6000, .perf_event_read = 400, \
	.perf_event_update = 1200, .irq_entry = 300, .port_io = 1000 }
/* AMD Turin's CPUID round trip is ~6.2k -> 5.3k cycles (FACTS.md s.6): a
 * costlier transition and costlier MSR writes than Intel. */
#define AMD_COSTS { .wrmsr = 120, .rdmsr = 60, .rdpmc = 30, .cpuid = 120, \
	.vmentry = 900, .vmexit = 900, .vmread = 0, .exit_fastpath = 200, \
	.exit_slowpath = 500, .perf_event_create = 6000, .perf_event_read = 450, \
	.perf_event_update = 1300, .irq_entry = 350, .port_io = 1000 }

#define PERF_CAP_SKL 0x33C5ULL	/* LBR fmt 5, PEBS trap/regs, PEBS fmt 3, SMM frz, FW_WRITE */
#define PERF_CAP_ICX 0xF4C5ULL	/* + PEBS fmt 4, baseline, PERF_METRICS */
#define PERF_CAP_SPR 0xF4FFULL	/* arch LBR (fmt 0x3F), as ICX otherwise */

const struct hw_model hw_models[] = {
	{
		.name = "skylake", .desc = "Intel Skylake-SP, arch PMU v4, 4 GP (SMT on), 3 fixed",
		.vendor = HW_INTEL, .family = 6, .model_id = 0x55, .stepping = 4,
		.brand = "Intel Xeon (Skylake-SP), modelled by mvpmu",
		.pmu_version = 4, .nr_gp = 4, .gp_width = 48,
		.nr_fixed = 3, .fixed_width = 48, .ebx_len = 7,
		.perf_caps = PERF_CAP_SKL, .vmx_load_global_ctrl = true,
		.max_period_legacy = (1ULL << 31) - 1,
		.cost = INTEL_COSTS,
	},
	{
		.name = "icelake", .desc = "Intel Ice Lake-SP, arch PMU v5, 8 GP, 4 fixed (slots)",
		.vendor = HW_INTEL, .family = 6, .model_id = 0x6A, .stepping = 6,
		.brand = "Intel Xeon (Ice Lake-SP), modelled by mvpmu",
		.pmu_version = 5, .nr_gp = 8, .gp_width = 48,
		.nr_fixed = 4, .fixed_width = 48, .fixed_bitmap = 0xF, .ebx_len = 8,
		.perf_caps = PERF_CAP_ICX, .anythread_deprecated = true,
		.vmx_load_global_ctrl = true,
		.max_period_legacy = (1ULL << 31) - 1,
		.cost = INTEL_COSTS,
	},
	{
		.name = "sapphirerapids", .desc = "Intel Sapphire Rapids, arch PMU v5, 8 GP, 4 fixed, exit-save GLOBAL_CTRL",
		.vendor = HW_INTEL, .family = 6, .model_id = 0x8F, .stepping = 8,
		.brand = "Intel Xeon (Sapphire Rapids), modelled by mvpmu",
		.pmu_version = 5, .nr_gp = 8, .gp_width = 48,
		.nr_fixed = 4, .fixed_width = 48, .fixed_bitmap = 0xF, .ebx_len = 8,
		.perf_caps = PERF_CAP_SPR, .anythread_deprecated = true,
		.vmx_load_global_ctrl = true, .vmx_save_global_ctrl = true,
		.max_period_legacy = (1ULL << 31) - 1,
		.cost = INTEL_COSTS,
	},
	{
		.name = "zen3", .desc = "AMD Zen 3 (Milan), PerfCtrExtCore, 6 counters, no PerfMonV2",
		.vendor = HW_AMD, .family = 0x19, .model_id = 0x01, .stepping = 1,
		.brand = "AMD EPYC (Zen 3, Milan), modelled by mvpmu",
		.nr_gp = 6, .gp_width = 48, .amd_perfctr_core = true,
		.max_period_legacy = (1ULL << 47) - 1, .cost = AMD_COSTS,
	},
	{
		.name = "zen4", .desc = "AMD Zen 4 (Genoa), PerfMonV2, 6 counters",
		.vendor = HW_AMD, .family = 0x19, .model_id = 0x11, .stepping = 1,
		.brand = "AMD EPYC (Zen 4, Genoa), modelled by mvpmu",
		.nr_gp = 6, .gp_width = 48, .amd_perfctr_core = true,
		.amd_perfmon_v2 = true,
		.max_period_legacy = (1ULL << 47) - 1, .cost = AMD_COSTS,
	},
	{
		.name = "zen5", .desc = "AMD Zen 5 (Turin), PerfMonV2, 6 counters",
		.vendor = HW_AMD, .family = 0x1A, .model_id = 0x02, .stepping = 1,
		.brand = "AMD EPYC (Zen 5, Turin), modelled by mvpmu",
		.nr_gp = 6, .gp_width = 48, .amd_perfctr_core = true,
		.amd_perfmon_v2 = true,
		.max_period_legacy = (1ULL << 47) - 1, .cost = AMD_COSTS,
	},
};

const size_t hw_nr_models = sizeof(hw_models) / sizeof(hw_models[0]);

const struct hw_model *hw_model_find(const char *name)
{
	for (size_t i = 0; i < hw_nr_models; i++)
		if (strcmp(hw_models[i].name, name) == 0)
			return &hw_models[i];
	return NULL;
}

unsigned hw_model_fixed_span(const struct hw_model *m)
{
	unsigned span = 0;

	for (unsigned i = 0; i < HW_MAX_FIXED; i++)
		if (hw_model_fixed_exists(m, i))
			span = i + 1;
	return span;
}
