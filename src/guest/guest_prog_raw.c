/* guest_prog_raw: GP counters 0 (instructions) and 1 (branches) preset to
 * overflow, programmed MSR by MSR as KVM's selftests do (no perf). */
#include <stdio.h>
#include <string.h>

#include "guest_prog_internal.h"

/* Architectural selectors (SDM vol. 3 table 20-1; APM vol. 2 13.3):
 * Intel C0/00 instructions, C4/00 branches; AMD C0 and C2. */
#define INTEL_SEL_INSNS 0xC0
#define INTEL_SEL_BRANCHES 0xC4
#define AMD_SEL_INSNS 0xC0
#define AMD_SEL_BRANCHES 0xC2
#define RAW_GLOBAL_BITS 0x3ULL	/* counters 0 and 1 */

static const enum mv_event raw_ev[2] = { MV_EV_INSTRUCTIONS, MV_EV_BRANCHES };
static const char *const raw_name[2] = { "instructions", "branches" };

static void wr(struct guest_prog *p, uint32_t msr, uint64_t val)
{
	int f = mv_wrmsr_safe(p->g, msr, val);

	if (f && !p->raw.fault)
		p->raw.fault = f;
}

static uint64_t rd(struct guest_prog *p, uint32_t msr)
{
	uint64_t val = 0;
	int f = mv_rdmsr_safe(p->g, msr, &val);

	if (f && !p->raw.fault)
		p->raw.fault = f;
	return val;
}

static bool is_intel(struct mv_guest *g)
{
	uint32_t r[4];

	mv_cpuid(g, 0, 0, r);
	return !memcmp(&r[1], "Genu", 4);
}

/* CPUID 0xA; full-width writes when PDCM and PERF_CAPABILITIES.FW_WRITE. */
static unsigned discover_intel(struct guest_prog *p)
{
	struct gp_raw *raw = &p->raw;
	uint32_t r[4];
	unsigned version, nr_gp;

	mv_cpuid(p->g, 0xA, 0, r);
	version = r[0] & 0xFF;
	nr_gp = (r[0] >> 8) & 0xFF;
	raw->width = (r[0] >> 16) & 0xFF;
	raw->global = version >= 2;
	mv_cpuid(p->g, 1, 0, r);
	if (r[2] & CPUID_1_ECX_PDCM)
		raw->fw_write = rd(p, MSR_IA32_PERF_CAPABILITIES) &
				PERF_CAP_FW_WRITE;
	for (unsigned i = 0; i < 2; i++) {
		raw->sel_msr[i] = MSR_IA32_PERFEVTSEL0 + i;
		raw->ctr_msr[i] = (raw->fw_write ? MSR_IA32_A_PMC0 :
				   MSR_IA32_PMC0) + i;
	}
	raw->status_msr = raw->global ? MSR_IA32_PERF_GLOBAL_STATUS : 0;
	return version ? nr_gp : 0;
}

/* PerfCtrExtCore picks the six-counter MSRs, PerfMonV2 the global ones. */
static unsigned discover_amd(struct guest_prog *p)
{
	struct gp_raw *raw = &p->raw;
	uint32_t r[4];
	bool core;

	mv_cpuid(p->g, 0x80000001, 0, r);
	core = r[2] & CPUID_80000001_ECX_PERFCTR_CORE;
	mv_cpuid(p->g, 0x80000022, 0, r);
	raw->global = r[0] & CPUID_80000022_EAX_PERFMON_V2;
	raw->width = 48;
	for (unsigned i = 0; i < 2; i++) {
		raw->sel_msr[i] = core ? MSR_F15H_PERF_CTL0 + 2 * i :
					 MSR_K7_EVNTSEL0 + i;
		raw->ctr_msr[i] = core ? MSR_F15H_PERF_CTR0 + 2 * i :
					 MSR_K7_PERFCTR0 + i;
	}
	raw->status_msr = raw->global ? MSR_AMD_GLOBAL_STATUS : 0;
	return core ? 6 : 4;
}

static uint32_t global_ctl_msr(const struct gp_raw *raw)
{
	return raw->intel ? MSR_IA32_PERF_GLOBAL_CTRL : MSR_AMD_GLOBAL_CTL;
}

static uint32_t status_clr_msr(const struct gp_raw *raw)
{
	return raw->intel ? MSR_IA32_PERF_GLOBAL_OVF_CTRL :
			    MSR_AMD_GLOBAL_STATUS_CLR;
}

static void note_status(struct guest_prog *p)
{
	uint64_t st;

	if (!p->raw.status_msr)
		return;
	st = rd(p, p->raw.status_msr);
	for (unsigned i = 0; i < 2; i++)
		if (st & (1ULL << i))
			p->raw.overflowed[i] = true;
}

/* The PMI: noted, status left set for the program to read at the end;
 * on Intel the APIC masked LVTPC on delivery, so unmask it again, after
 * the handler's own work (handler_work, with the counters still counting
 * and the LVTPC masked: what the review worried about). */
static void raw_pmi(struct mv_guest *g, unsigned vector, void *arg)
{
	struct guest_prog *p = arg;

	(void)g; (void)vector;
	p->raw.pmis++;
	note_status(p);
	if (p->cfg.handler_work) {
		struct mv_work w = mv_work_make(p->cfg.handler_work, true, "pmi_handler");

		mv_run(p->g, &w);
	}
	if (p->raw.intel)
		wr(p, MSR_X2APIC_LVTPC, APIC_DM_NMI);
}

/* A legacy Intel counter write takes EAX sign-extended to the width, so a
 * preset up to 2^31 is still exact; full-width and AMD writes take it all. */
static uint64_t preset_write_value(const struct gp_raw *raw)
{
	if (raw->intel && !raw->fw_write)
		return (uint32_t)raw->preset_val;
	return raw->preset_val;
}

static uint64_t selector(const struct gp_raw *raw, unsigned i)
{
	uint64_t ev = raw->intel ? (i ? INTEL_SEL_BRANCHES : INTEL_SEL_INSNS) :
				   (i ? AMD_SEL_BRANCHES : AMD_SEL_INSNS);

	return ev | EVTSEL_USR | EVTSEL_OS | EVTSEL_INT | EVTSEL_EN;
}

void gp_raw_setup(struct guest_prog *p)
{
	struct gp_raw *raw = &p->raw;
	unsigned nr_gp;

	raw->intel = is_intel(p->g);
	nr_gp = raw->intel ? discover_intel(p) : discover_amd(p);
	if (nr_gp < 2 || !raw->width)
		return;
	raw->preset_val = (0 - p->cfg.preset) & X86_MASK(raw->width);
	raw->old_irq = p->g->irq;
	raw->old_irq_arg = p->g->irq_arg;
	mv_set_irq_handler(p->g, raw_pmi, p);
	raw->old_lvtpc = rd(p, MSR_X2APIC_LVTPC);
	wr(p, MSR_X2APIC_LVTPC, APIC_DM_NMI);
	/* Nothing counts while the counters are set up. */
	if (raw->global) {
		raw->old_global = rd(p, global_ctl_msr(raw));
		wr(p, global_ctl_msr(raw), 0);
	}
	for (unsigned i = 0; i < 2; i++) {
		wr(p, raw->sel_msr[i], 0);
		wr(p, raw->ctr_msr[i], preset_write_value(raw));
	}
	/* A counter write leaves its status bit alone: clear it explicitly. */
	if (raw->global)
		wr(p, status_clr_msr(raw), RAW_GLOBAL_BITS);
	for (unsigned i = 0; i < 2; i++) {
		wr(p, raw->sel_msr[i], selector(raw, i));
		raw->truth0[i] = gp_truth(p, raw_ev[i], true, true);
	}
	if (raw->global)
		wr(p, global_ctl_msr(raw), RAW_GLOBAL_BITS);
	raw->ok = true;
}

void gp_raw_teardown(struct guest_prog *p)
{
	struct gp_raw *raw = &p->raw;

	if (!raw->ok)
		return;
	if (raw->global)
		wr(p, global_ctl_msr(raw), 0);
	for (unsigned i = 0; i < 2; i++) {
		wr(p, raw->sel_msr[i], 0);
		raw->value[i] = rd(p, raw->ctr_msr[i]);
		raw->truth[i] = gp_truth(p, raw_ev[i], true, true) -
				raw->truth0[i];
	}
	note_status(p);
	if (raw->global)
		wr(p, global_ctl_msr(raw), raw->old_global);
	wr(p, MSR_X2APIC_LVTPC, raw->old_lvtpc);
	mv_set_irq_handler(p->g, raw->old_irq, raw->old_irq_arg);
	raw->ok = false;
}

/* value: events counted since the preset, (counter - preset) mod 2^width,
 * so that it equals the truth when counting is exact. */
void gp_raw_report(struct guest_prog *p, const char *who,
		   struct mv_result *res)
{
	const struct gp_raw *raw = &p->raw;

	for (unsigned i = 0; i < 2 && res->nr_guest < MV_MAX_COUNTERS; i++) {
		struct mv_counter_result *c = &res->guest[res->nr_guest++];

		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", who);
		snprintf(c->event, sizeof(c->event), "%s", raw_name[i]);
		c->raw = raw->value[i];
		c->value = (raw->value[i] - raw->preset_val) &
			   X86_MASK(raw->width);
		c->truth = raw->truth[i];
		c->width = raw->width;
	}
}
