/* hw_pmu_intel: Intel architectural PMU v1-v5 MSR semantics (SDM vol. 3
 * ch. 21 "Performance Monitoring", vol. 4 MSR list; FACTS.md s.1). */
#include "hw_cpu.h"

static const struct hw_model *M(const struct hw_cpu *cpu)
{
	return cpu->model;
}

static uint64_t gp_bits(const struct hw_cpu *cpu)
{
	return X86_MASK(M(cpu)->nr_gp);
}

static uint64_t fixed_bits(const struct hw_cpu *cpu)
{
	uint64_t bits = 0;

	for (unsigned i = 0; i < HW_MAX_FIXED; i++)
		if (hw_model_fixed_exists(M(cpu), i))
			bits |= X86_BIT(32 + i);
	return bits;
}

static bool has_metrics(const struct hw_cpu *cpu)
{
	return cpu->pmu.perf_caps & PERF_CAP_PERF_METRICS;
}

static uint64_t global_ctrl_valid(const struct hw_cpu *cpu)
{
	return gp_bits(cpu) | fixed_bits(cpu) |
	       (has_metrics(cpu) ? GLOBAL_PERF_METRICS : 0);
}

/* Status bits software may clear (OVF_CTRL) or set (STATUS_SET, v4):
 * counters, PERF_METRICS, and the v3/v4 condition bits. */
static uint64_t status_writable(const struct hw_cpu *cpu, bool set)
{
	uint64_t v = global_ctrl_valid(cpu) | GLOBAL_STATUS_BUFFER;

	if (M(cpu)->pmu_version >= 3)
		v |= GLOBAL_STATUS_OVF_UNCORE;
	if (M(cpu)->pmu_version >= 4)
		v |= GLOBAL_STATUS_TRACE_TOPA | GLOBAL_STATUS_LBR_FRZ |
		     GLOBAL_STATUS_CTR_FRZ | GLOBAL_STATUS_ASCI;
	if (!set)
		v |= GLOBAL_STATUS_COND_CHGD;
	return v;
}

/* PERFEVTSEL: bits 63:32 are reserved without TSX (the models have none);
 * AnyThread (21) is reserved once deprecated (CPUID.0AH:EDX[15]). */
static uint64_t evtsel_reserved(const struct hw_cpu *cpu)
{
	return 0xFFFFFFFF00000000ULL |
	       (M(cpu)->anythread_deprecated ? EVTSEL_ANY : 0);
}

static uint64_t fixed_ctrl_valid(const struct hw_cpu *cpu)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < HW_MAX_FIXED; i++) {
		if (!hw_model_fixed_exists(M(cpu), i))
			continue;
		uint64_t field = FIXED_CTRL_OS | FIXED_CTRL_USR | FIXED_CTRL_PMI;

		if (!M(cpu)->anythread_deprecated)
			field |= FIXED_CTRL_ANY;
		v |= FIXED_CTRL_FIELD(i, field);
	}
	return v;
}

/* SDM 21.2.4.3 (v4): GLOBAL_INUSE bit n reports PERFEVTSELn[7:0] != 0,
 * bit 32+i a non-zero FIXED_CTR_CTRL enable field, bit 63 any PMI enable. */
static uint64_t inuse(const struct hw_cpu *cpu)
{
	uint64_t v = 0;
	bool pmi = false;

	for (unsigned i = 0; i < M(cpu)->nr_gp; i++) {
		if (cpu->pmu.gp_sel[i] & EVTSEL_EVENT)
			v |= X86_BIT(i);
		pmi |= cpu->pmu.gp_sel[i] & EVTSEL_INT;
	}
	for (unsigned i = 0; i < HW_MAX_FIXED; i++) {
		uint64_t f = cpu->pmu.fixed_ctrl >> (4 * i);

		if (f & 3)
			v |= X86_BIT(32 + i);
		pmi |= f & FIXED_CTRL_PMI;
	}
	return v | (pmi ? X86_BIT(63) : 0);
}

static bool in_range(uint32_t msr, uint32_t base, unsigned n, unsigned *i)
{
	if (msr < base || msr >= base + n)
		return false;
	*i = msr - base;
	return true;
}

/* Fixed counter i exists (hw_model_fixed_exists, computed at reset). */
static bool fixed_exists(const struct hw_cpu *cpu, unsigned i)
{
	return cpu->valid.rdpmc_fixed >> i & 1;
}

static inline int write_gp(struct hw_cpu *cpu, unsigned i, uint64_t val, bool full)
{
	uint64_t mask = cpu->valid.gp_width;

	if (i >= cpu->valid.rdpmc_gp)	/* nr_gp */
		return X86_GP;
	if (full) {
		/* A_PMCx exist only with FW_WRITE; bits beyond the width #GP. */
		if (!(cpu->pmu.perf_caps & PERF_CAP_FW_WRITE) || (val & ~mask))
			return X86_GP;
		cpu->pmu.gp_ctr[i] = val;
	} else {
		/* Legacy IA32_PMCx: EAX sign-extended, upper input ignored. */
		cpu->pmu.gp_ctr[i] = (uint64_t)(int64_t)(int32_t)(uint32_t)val & mask;
	}
	return X86_OK;
}

#define MISC_ENABLE_RW (X86_BIT(0) | X86_BIT(3) | X86_BIT(16) | X86_BIT(18) | X86_BIT(22) | \
			X86_BIT(23) | X86_BIT(34) | X86_BIT(38))
#define MISC_ENABLE_RO (MISC_ENABLE_EMON | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)

/* The global registers, by address; false when `msr` is none of them (or
 * does not exist on this version). */
static bool intel_wrmsr_global(struct hw_cpu *cpu, uint32_t msr, uint64_t val, int *f)
{
	struct hw_pmu *p = &cpu->pmu;
	unsigned v = M(cpu)->pmu_version;

	/* GLOBAL_CTRL and FIXED_CTR_CTRL: intel_wrmsr's fast path. */
	switch (msr) {
	case MSR_IA32_PERF_GLOBAL_OVF_CTRL:
		if (v < 2)
			return false;
		if (val & ~cpu->valid.ovf_ctrl)
			*f = X86_GP;
		else
			p->global_status &= ~val;
		return true;
	case MSR_IA32_PERF_GLOBAL_STATUS_SET:
		if (v < 4)
			return false;
		if (val & ~cpu->valid.status_set)
			*f = X86_GP;
		else
			p->global_status |= val;
		return true;
	case MSR_IA32_PERF_GLOBAL_STATUS:
		if (v < 2)
			return false;
		*f = X86_GP;	/* read-only */
		return true;
	case MSR_IA32_PERF_GLOBAL_INUSE:
		if (v < 4)
			return false;
		*f = X86_GP;	/* read-only */
		return true;
	case MSR_IA32_PERF_CAPABILITIES:
		*f = X86_GP;	/* read-only */
		return true;
	case MSR_IA32_MISC_ENABLE:
		/* The bits software may write (SDM vol. 4 table 2-2: fast
		 * strings, automatic TCC, EIST, MONITOR, CPUID limit, xTPR,
		 * XD disable, turbo disable) are kept, without effect here;
		 * the read-only ones keep their value; any other bit #GPs. */
		if (val & ~(MISC_ENABLE_RW | MISC_ENABLE_RO))
			*f = X86_GP;
		else
			p->misc_enable = (val & MISC_ENABLE_RW) | (p->misc_enable & MISC_ENABLE_RO);
		return true;
	case MSR_IA32_DEBUGCTL:
		/* LBR, BTF, TR/BTS bits, FREEZE_* and RTM_DEBUG (bits 0,1,6-15). */
		if (val & ~0xFFC3ULL)
			*f = X86_GP;
		else
			p->debugctl = val;
		return true;
	case MSR_IA32_PERF_METRICS:
		if (!has_metrics(cpu))
			return false;
		return true;	/* metrics are not modelled: writes are dropped */
	}
	return false;
}

static int intel_wrmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t val)
{
	struct hw_pmu *p = &cpu->pmu;
	unsigned i;
	int f = X86_OK;

	/* Selectors and counters first, in the order perf and the PMU
	 * switch write them most (the ranges are disjoint). */
	if ((i = msr - MSR_IA32_PERFEVTSEL0) < HW_MAX_GP) {
		if (i >= cpu->valid.rdpmc_gp || (val & cpu->valid.evtsel_rsvd))
			return X86_GP;
		p->gp_sel[i] = val;
		return X86_OK;
	}
	if ((i = msr - MSR_IA32_A_PMC0) < HW_MAX_GP)
		return write_gp(cpu, i, val, true);
	if ((i = msr - MSR_IA32_FIXED_CTR0) < HW_MAX_FIXED) {
		/* Fixed counters take the value masked to their width. */
		if (!fixed_exists(cpu, i))
			return X86_GP;
		p->fixed_ctr[i] = val & cpu->valid.fixed_width;
		return X86_OK;
	}
	/* The two global registers perf and the switch write most, first
	 * (v1 has neither: they fall through to "not mine"). */
	if (msr == MSR_IA32_FIXED_CTR_CTRL && M(cpu)->pmu_version >= 2) {
		if (val & ~cpu->valid.fixed_ctrl)
			return X86_GP;
		p->fixed_ctrl = val;
		return X86_OK;
	}
	if (msr == MSR_IA32_PERF_GLOBAL_CTRL && M(cpu)->pmu_version >= 2) {
		if (val & ~cpu->valid.global_ctrl)
			return X86_GP;
		p->global_ctrl = val;
		return X86_OK;
	}
	if ((i = msr - MSR_IA32_PMC0) < HW_MAX_GP)
		return write_gp(cpu, i, val, false);
	if (!intel_wrmsr_global(cpu, msr, val, &f))
		return HW_MSR_NOT_MINE;
	return f;
}

static int intel_rdmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t *val)
{
	const struct hw_pmu *p = &cpu->pmu;
	unsigned v = M(cpu)->pmu_version, i;
	int f = X86_OK;

	/* The registers the PMU switch reads first (status, then counters). */
	if (msr == MSR_IA32_PERF_GLOBAL_STATUS && v >= 2) {
		*val = p->global_status;
	} else if (in_range(msr, MSR_IA32_PMC0, HW_MAX_GP, &i) ||
		   in_range(msr, MSR_IA32_A_PMC0, HW_MAX_GP, &i)) {
		bool full = msr >= MSR_IA32_A_PMC0;

		if (i >= cpu->valid.rdpmc_gp || (full && !(p->perf_caps & PERF_CAP_FW_WRITE)))
			f = X86_GP;
		else
			*val = p->gp_ctr[i];
	} else if (in_range(msr, MSR_IA32_PERFEVTSEL0, HW_MAX_GP, &i)) {
		if (i >= cpu->valid.rdpmc_gp)
			f = X86_GP;
		else
			*val = p->gp_sel[i];
	} else if (in_range(msr, MSR_IA32_FIXED_CTR0, HW_MAX_FIXED, &i)) {
		if (!fixed_exists(cpu, i))
			f = X86_GP;
		else
			*val = p->fixed_ctr[i];
	} else if (msr == MSR_IA32_FIXED_CTR_CTRL && v >= 2) {
		*val = p->fixed_ctrl;
	} else if (msr == MSR_IA32_PERF_GLOBAL_CTRL && v >= 2) {
		*val = p->global_ctrl;
	} else if ((msr == MSR_IA32_PERF_GLOBAL_OVF_CTRL && v >= 2) ||
		   (msr == MSR_IA32_PERF_GLOBAL_STATUS_SET && v >= 4)) {
		*val = 0;	/* write-one-to-act registers read as 0 */
	} else if (msr == MSR_IA32_PERF_GLOBAL_INUSE && v >= 4) {
		*val = inuse(cpu);
	} else if (msr == MSR_IA32_PERF_CAPABILITIES) {
		*val = p->perf_caps;
	} else if (msr == MSR_IA32_DEBUGCTL) {
		*val = p->debugctl;
	} else if (msr == MSR_IA32_MISC_ENABLE) {
		*val = p->misc_enable;
	} else if (msr == MSR_IA32_PERF_METRICS && has_metrics(cpu)) {
		*val = 0;
	} else {
		return HW_MSR_NOT_MINE;
	}
	return f;
}

/* RDPMC (SDM vol. 2): ECX[30] selects fixed counters, ECX[29] PERF_METRICS
 * (with the capability); any other type bit, bit 31 included, #GPs, as does
 * an index beyond the enumerated counters. */
static int intel_rdpmc(struct hw_cpu *cpu, uint32_t ecx, uint64_t *val)
{
	uint32_t type = ecx & 0xFFFF0000u, idx = ecx & 0xFFFF;

	if (type == 0) {
		if (idx >= M(cpu)->nr_gp)
			return X86_GP;
		*val = cpu->pmu.gp_ctr[idx];
	} else if (type == RDPMC_FIXED) {
		if (!hw_model_fixed_exists(M(cpu), idx))
			return X86_GP;
		*val = cpu->pmu.fixed_ctr[idx];
	} else if (type == RDPMC_METRICS && has_metrics(cpu) && idx == 0) {
		*val = 0;
	} else {
		return X86_GP;
	}
	return X86_OK;
}

static bool intel_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	const struct hw_model *m = M(cpu);

	(void)sub;
	if (leaf == 1) {
		if (m->perf_caps)
			r[2] |= (uint32_t)CPUID_1_ECX_PDCM;
		return true;
	}
	if (leaf != 0xA)
		return false;
	r[0] = m->pmu_version | (m->nr_gp << 8) | (m->gp_width << 16) |
	       (m->ebx_len << 24);
	r[1] = m->arch_events_unavail;
	r[2] = m->pmu_version >= 5 ? m->fixed_bitmap : 0;
	r[3] = m->pmu_version >= 2 ?
	       (m->nr_fixed | (m->fixed_width << 5) |
		(m->anythread_deprecated ? (1u << 15) : 0)) : 0;
	return true;
}

/* Architectural events (SDM vol. 3 table 21-1) plus the two the model's
 * workloads need: conditional branches (BR_INST_RETIRED.COND, C4/01 on
 * Skylake and later) and topdown slots (A4/01).  Edge detect, invert and
 * counter mask are not modelled: such a selector counts nothing. */
static int intel_decode(uint64_t sel)
{
	static const struct { uint8_t event, umask; enum mv_event ev; } map[] = {
		{ 0x3C, 0x00, MV_EV_CYCLES },	{ 0xC0, 0x00, MV_EV_INSTRUCTIONS },
		{ 0x3C, 0x01, MV_EV_REF_CYCLES }, { 0x2E, 0x4F, MV_EV_LLC_REFS },
		{ 0x2E, 0x41, MV_EV_LLC_MISSES }, { 0xC4, 0x00, MV_EV_BRANCHES },
		{ 0xC5, 0x00, MV_EV_BRANCH_MISSES }, { 0xA4, 0x01, MV_EV_TOPDOWN_SLOTS },
		{ 0xC4, 0x01, MV_EV_COND_BRANCHES },
	};
	uint8_t event = sel & EVTSEL_EVENT, umask = (sel & EVTSEL_UMASK) >> 8;

	if (sel & (EVTSEL_EDGE | EVTSEL_INV | EVTSEL_CMASK))
		return -1;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].event == event && map[i].umask == umask)
			return (int)map[i].ev;
	return -1;
}

static bool frozen(const struct hw_cpu *cpu)
{
	return M(cpu)->pmu_version >= 4 &&
	       (cpu->pmu.global_status & GLOBAL_STATUS_CTR_FRZ);
}

static bool intel_gp_active(const struct hw_cpu *cpu, unsigned i, bool kernel)
{
	uint64_t sel = cpu->pmu.gp_sel[i];

	if (!(sel & EVTSEL_EN) || !(sel & (kernel ? EVTSEL_OS : EVTSEL_USR)))
		return false;
	if (M(cpu)->pmu_version >= 2 && !(cpu->pmu.global_ctrl & X86_BIT(i)))
		return false;
	return !frozen(cpu);
}

static bool intel_fixed_active(const struct hw_cpu *cpu, unsigned i, bool kernel)
{
	uint64_t f = cpu->pmu.fixed_ctrl >> (4 * i);

	if (!(cpu->valid.rdpmc_fixed & (1u << i)))	/* hw_model_fixed_exists, at reset */
		return false;
	if (!(f & (kernel ? FIXED_CTRL_OS : FIXED_CTRL_USR)))
		return false;
	return (cpu->pmu.global_ctrl & X86_BIT(32 + i)) && !frozen(cpu);
}

static bool intel_overflow(struct hw_cpu *cpu, bool fixed, unsigned i)
{
	bool pmi;

	if (fixed) {
		cpu->pmu.global_status |= X86_BIT(32 + i);
		pmi = (cpu->pmu.fixed_ctrl >> (4 * i)) & FIXED_CTRL_PMI;
	} else {
		if (M(cpu)->pmu_version >= 2)
			cpu->pmu.global_status |= X86_BIT(i);
		pmi = cpu->pmu.gp_sel[i] & EVTSEL_INT;
	}
	/* v4 streamlined freeze: a PMI with FREEZE_PERFMON_ON_PMI sets
	 * CTR_Frz, which stops every counter until software clears it. */
	if (pmi && M(cpu)->pmu_version >= 4 &&
	    (cpu->pmu.debugctl & DEBUGCTL_FREEZE_PERFMON_ON_PMI))
		cpu->pmu.global_status |= GLOBAL_STATUS_CTR_FRZ;
	return pmi;
}

/* SDM 21.2.2: GLOBAL_CTRL resets with every GP enable bit set and the
 * fixed enables clear, so v1 software keeps working. */
static void intel_reset(struct hw_cpu *cpu)
{
	/* Fast strings on, performance monitoring available; BTS and PEBS
	 * reported unavailable because the model has neither (real parts
	 * clear these two bits: docs/multiboot.md, "MSRs"). */
	cpu->pmu.misc_enable = X86_BIT(0) | (M(cpu)->pmu_version ? MISC_ENABLE_EMON : 0) |
			       MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
	cpu->pmu.global_ctrl = M(cpu)->pmu_version >= 2 ? gp_bits(cpu) : 0;
	cpu->pmu.perf_caps = M(cpu)->perf_caps;
	cpu->valid = (struct hw_pmu_valid){
		.global_ctrl = global_ctrl_valid(cpu),
		.fixed_ctrl = fixed_ctrl_valid(cpu),
		.ovf_ctrl = status_writable(cpu, false),
		.status_set = status_writable(cpu, true),
		.rdpmc_gp = M(cpu)->nr_gp,	/* type 0, as intel_rdpmc reads them */
		.evtsel_rsvd = evtsel_reserved(cpu),
		.gp_width = hw_pmu_counter_mask(cpu, false),
		.fixed_width = hw_pmu_counter_mask(cpu, true),
	};
	for (unsigned i = 0; i < HW_MAX_FIXED; i++)	/* type RDPMC_FIXED, likewise */
		if (hw_model_fixed_exists(M(cpu), i))
			cpu->valid.rdpmc_fixed |= 1u << i;
}

const struct hw_pmu_ops hw_pmu_intel_ops = {
	.wrmsr = intel_wrmsr,
	.rdmsr = intel_rdmsr,
	.rdpmc = intel_rdpmc,
	.cpuid = intel_cpuid,
	.decode = intel_decode,
	.gp_active = intel_gp_active,
	.fixed_active = intel_fixed_active,
	.overflow = intel_overflow,
	.lvtpc_mask_on_pmi = true,
	.reset = intel_reset,
};
