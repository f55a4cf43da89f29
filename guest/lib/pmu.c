/* pmu: the accessors that catch faults, CPUID, the PMU as CPUID and
 * PERF_CAPABILITIES describe it (FACTS.md s.1-2), the LVTPC, CR4.PCE and
 * SYSCALL set-up. */
#include "mvpmu-guest.h"

extern volatile int mvg_fault_vec;
extern void mvg_syscall_entry(void);
extern uint64_t (*mvg_syscall_handler)(uint64_t, uint64_t);

/* A faulting accessor resumes after itself through the fault table. */
#define FIXUP(at) ".pushsection .mvg_extable, \"aw\"\n\t.balign 8\n\t.quad " at ", 2b\n\t.popsection\n"

static int fault_result(void)
{
	int v = mvg_fault_vec;

	mvg_fault_vec = -1;
	return v < 0 ? 0 : v;
}

int mvg_rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	mvg_fault_vec = -1;
	__asm__ volatile("1: rdmsr\n2:\n\t" FIXUP("1b") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return fault_result();
}

int mvg_wrmsr_safe(uint32_t msr, uint64_t val)
{
	mvg_fault_vec = -1;
	__asm__ volatile("1: wrmsr\n2:\n\t" FIXUP("1b")
			 :: "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)) : "memory");
	return fault_result();
}

int mvg_rdpmc_safe(uint32_t ecx, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	mvg_fault_vec = -1;
	__asm__ volatile("1: rdpmc\n2:\n\t" FIXUP("1b") : "+a"(lo), "+d"(hi) : "c"(ecx) : "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return fault_result();
}

void mvg_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

void mvg_set_cr4_pce(bool on)
{
	uint64_t cr4;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 = on ? cr4 | (1ULL << 8) : cr4 & ~(1ULL << 8);
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4) : "memory");
}

/* ---- discovery, as an OS's perf driver does it ---- */

static bool vendor_is(const uint32_t r[4], const char *v)
{
	const char *p = (const char *)&r[1], *d = (const char *)&r[3], *c = (const char *)&r[2];

	for (int i = 0; i < 4; i++)
		if (p[i] != v[i] || d[i] != v[4 + i] || c[i] != v[8 + i])
			return false;
	return true;
}

void mvg_pmu_discover(struct mvg_pmu *p)
{
	uint32_t r[4];

	*p = (struct mvg_pmu){ 0 };
	mvg_cpuid(0, 0, r);
	p->intel = vendor_is(r, "GenuineIntel");
	p->amd = vendor_is(r, "AuthenticAMD");
	if (p->intel) {
		mvg_cpuid(1, 0, r);
		p->pdcm = r[2] & (1u << 15);
		if (p->pdcm && mvg_rdmsr_safe(0x345, &p->perf_caps))
			p->perf_caps = 0;
		p->fw_write = p->perf_caps & (1u << 13);
		mvg_cpuid(0xA, 0, r);
		p->version = r[0] & 0xFF;
		if (!p->version)
			return;
		p->nr_gp = (r[0] >> 8) & 0xFF;
		p->gp_width = (r[0] >> 16) & 0xFF;
		if (p->version >= 2) {
			p->nr_fixed = r[3] & 0x1F;
			p->fixed_width = (r[3] >> 5) & 0xFF;
			p->anythread_deprecated = r[3] & (1u << 15);
			for (unsigned i = 0; i < 4; i++)
				if (i < p->nr_fixed || (p->version >= 5 && (r[2] & (1u << i))))
					p->fixed_exists |= 1u << i;
		}
		p->has_global = p->version >= 2;
		p->has_status_set = p->version >= 4;
	} else if (p->amd) {
		mvg_cpuid(0x80000001, 0, r);
		p->perfctr_core = r[2] & (1u << 23);
		p->nr_gp = p->perfctr_core ? 6 : 4;
		p->gp_width = 48;
		mvg_cpuid(0x80000000, 0, r);
		if (r[0] >= 0x80000022) {
			mvg_cpuid(0x80000022, 0, r);
			p->perfmon_v2 = r[0] & 1;
			if (p->perfmon_v2 && (r[1] & 0xF))
				p->nr_gp = r[1] & 0xF;
		}
		p->version = p->perfmon_v2 ? 2 : 0;
		p->has_global = p->has_status_set = p->perfmon_v2;
	}
}

uint32_t mvg_sel_msr(const struct mvg_pmu *p, unsigned i)
{
	if (p->intel)
		return 0x186 + i;
	return p->perfctr_core ? 0xC0010200 + 2 * i : 0xC0010000 + i;
}

uint32_t mvg_ctr_msr(const struct mvg_pmu *p, unsigned i)
{
	if (p->intel)
		return 0xC1 + i;
	return p->perfctr_core ? 0xC0010201 + 2 * i : 0xC0010004 + i;
}

uint32_t mvg_global_ctrl_msr(const struct mvg_pmu *p)
{
	return p->intel ? 0x38F : 0xC0000301;
}

uint32_t mvg_global_status_msr(const struct mvg_pmu *p)
{
	return p->intel ? 0x38E : 0xC0000300;
}

uint32_t mvg_global_clr_msr(const struct mvg_pmu *p)
{
	return p->intel ? 0x390 : 0xC0000302;
}

uint32_t mvg_global_set_msr(const struct mvg_pmu *p)
{
	return p->intel ? 0x391 : 0xC0000303;
}

/* SDM table 21-1 (C0/00, C4/00) and AMD's PPR (0xC0, 0xC2). */
uint64_t mvg_ev_insns(const struct mvg_pmu *p)
{
	(void)p;
	return 0xC0;
}

uint64_t mvg_ev_branches(const struct mvg_pmu *p)
{
	return p->intel ? 0xC4 : 0xC2;
}

void mvg_lvtpc_set(uint32_t v)
{
	mvg_wrmsr(0x834, v);
}

uint32_t mvg_lvtpc_get(void)
{
	return (uint32_t)mvg_rdmsr(0x834);
}

void mvg_eoi(void)
{
	mvg_wrmsr(0x80B, 0);
}

void mvg_syscall_setup(uint64_t (*handler)(uint64_t nr, uint64_t arg))
{
	mvg_syscall_handler = handler;
	mvg_wrmsr(0xC0000080, mvg_rdmsr(0xC0000080) | 1);	/* EFER.SCE */
	/* SYSRET to CS 0x23/SS 0x1B (STAR[63:48] = 0x10), SYSCALL to 0x08/0x10. */
	mvg_wrmsr(0xC0000081, (0x10ULL << 48) | (0x08ULL << 32));
	mvg_wrmsr(0xC0000082, (uint64_t)mvg_syscall_entry);
	mvg_wrmsr(0xC0000084, 0x700);	/* SFMASK: TF, IF, DF */
}
