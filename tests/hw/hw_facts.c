/* hw_facts: the oracle the hardware tests share, written from FACTS.md
 * (not from src/hw), and a small rig around one simulated CPU.  Included by
 * each tests/hw/test_*.c; not a test binary of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/hw_cpu.h"
#include "mvpmu/x86.h"

#define UNUSED __attribute__((unused))

/* FACTS.md section 5.  Fixed counters of the v5 parts are enumerated by
 * both EDX[4:0] and the ECX bitmap; 4 contiguous counters give 0xF.
 * AnyThread is deprecated from v5 (FACTS.md s.1, "what each version adds"). */
struct fact_model {
	const char *name;
	bool intel;
	unsigned version;	/* Intel arch PMU version; AMD 0 */
	unsigned nr_gp, width, nr_fixed;
	uint32_t fixed_exist;	/* bit i: fixed counter i exists */
	bool fw_write;
	bool perfctr_core, perfmon_v2;
};

static const struct fact_model fact_models[] UNUSED = {
	{ "skylake", true, 4, 4, 48, 3, 0x7, true, false, false },
	{ "icelake", true, 5, 8, 48, 4, 0xF, true, false, false },
	{ "sapphirerapids", true, 5, 8, 48, 4, 0xF, true, false, false },
	{ "zen3", false, 0, 6, 48, 0, 0, false, true, false },
	{ "zen4", false, 0, 6, 48, 0, 0, false, true, true },
	{ "zen5", false, 0, 6, 48, 0, 0, false, true, true },
};
#define NR_FACT_MODELS (sizeof(fact_models) / sizeof(fact_models[0]))

/* Intel architectural events C0/00 instructions, C4/00 branches (FACTS.md
 * s.1); Zen PMCx0C0 retired instructions, PMCx0C2 retired branches (AMD
 * PPR for family 19h). */
static inline uint64_t ev_instr(const struct fact_model *f)
{
	return f->intel ? 0x00C0 : 0xC0;
}

static inline uint64_t ev_branch(const struct fact_model *f)
{
	return f->intel ? 0x00C4 : 0xC2;
}

static inline uint32_t sel_msr(const struct fact_model *f, unsigned i)
{
	return f->intel ? MSR_IA32_PERFEVTSEL0 + i : MSR_F15H_PERF_CTL0 + 2 * i;
}

static inline uint32_t ctr_msr(const struct fact_model *f, unsigned i)
{
	return f->intel ? MSR_IA32_PMC0 + i : MSR_F15H_PERF_CTR0 + 2 * i;
}

static inline bool has_global(const struct fact_model *f)
{
	return f->intel ? f->version >= 2 : f->perfmon_v2;
}

static inline uint32_t msr_global_ctrl(const struct fact_model *f)
{
	return f->intel ? MSR_IA32_PERF_GLOBAL_CTRL : MSR_AMD_GLOBAL_CTL;
}

static inline uint32_t msr_status(const struct fact_model *f)
{
	return f->intel ? MSR_IA32_PERF_GLOBAL_STATUS : MSR_AMD_GLOBAL_STATUS;
}

static inline uint32_t msr_status_clr(const struct fact_model *f)
{
	return f->intel ? MSR_IA32_PERF_GLOBAL_OVF_CTRL : MSR_AMD_GLOBAL_STATUS_CLR;
}

static inline uint64_t width_mask(const struct fact_model *f)
{
	return X86_MASK(f->width);
}

/* The known block: every kind with its own count so a counter counting
 * the wrong event is caught. */
#define BLK_INSTR 12000
#define BLK_BRANCH 2400
#define BLK_CYCLES 7000
#define BLK_REF 5000
#define BLK_SLOTS 28000

static inline struct mv_work known_block(bool kernel)
{
	struct mv_work w = { .kernel = kernel, .label = "known" };

	w.ev[MV_EV_INSTRUCTIONS] = BLK_INSTR;
	w.ev[MV_EV_BRANCHES] = BLK_BRANCH;
	w.ev[MV_EV_COND_BRANCHES] = 1600;
	w.ev[MV_EV_BRANCH_MISSES] = 48;
	w.ev[MV_EV_CYCLES] = BLK_CYCLES;
	w.ev[MV_EV_REF_CYCLES] = BLK_REF;
	w.ev[MV_EV_LLC_REFS] = 120;
	w.ev[MV_EV_LLC_MISSES] = 30;
	w.ev[MV_EV_TOPDOWN_SLOTS] = BLK_SLOTS;
	return w;
}

/* Intel fixed counters: 0 instructions, 1 core cycles, 2 reference
 * cycles, 3 topdown slots (FACTS.md s.1). */
static inline uint64_t fixed_expected(unsigned i)
{
	static const uint64_t v[4] = { BLK_INSTR, BLK_CYCLES, BLK_REF, BLK_SLOTS };

	return v[i];
}

/* One CPU, its interrupts counted; the handler records what it sees. */
struct rig {
	struct sim sim;
	struct hw_cpu cpu;
	const struct fact_model *f;
	unsigned nr_intr, vector;
	bool nmi;
	uint32_t lvtpc_in_handler;
	int read_ctr;		/* GP counter the handler reads, -1 none */
	uint64_t ctr_in_handler;
	uint64_t status_in_handler;
	bool unmask;		/* handler clears the LVTPC mask (late ack) */
};

static inline void rig_intr(struct hw_cpu *cpu, unsigned vector, bool nmi,
			    void *opaque)
{
	struct rig *r = opaque;

	r->nr_intr++;
	r->vector = vector;
	r->nmi = nmi;
	r->lvtpc_in_handler = cpu->apic.lvtpc;
	if (r->read_ctr >= 0)
		hw_rdmsr(cpu, ctr_msr(r->f, (unsigned)r->read_ctr), &r->ctr_in_handler);
	if (has_global(r->f))
		hw_rdmsr(cpu, msr_status(r->f), &r->status_in_handler);
	if (r->unmask)
		hw_wrmsr(cpu, MSR_X2APIC_LVTPC, cpu->apic.lvtpc & ~APIC_LVT_MASKED);
}

static inline void rig_init_model(struct rig *r, const struct hw_model *m,
				  const struct fact_model *f)
{
	memset(r, 0, sizeof(*r));
	sim_init(&r->sim, 1, false);
	hw_cpu_init(&r->cpu, 0, &r->sim, m);
	r->f = f;
	r->read_ctr = -1;
	r->cpu.hooks.intr = rig_intr;
	r->cpu.hooks.intr_opaque = r;
}

static inline void rig_init(struct rig *r, const struct fact_model *f)
{
	const struct hw_model *m = hw_model_find(f->name);

	assert_non_null(m);
	rig_init_model(r, m, f);
}

static inline void rig_free(struct rig *r)
{
	sim_free(&r->sim);
}

static inline void wr(struct rig *r, uint32_t msr, uint64_t v)
{
	assert_int_equal(hw_wrmsr(&r->cpu, msr, v), X86_OK);
}

static inline uint64_t rd(struct rig *r, uint32_t msr)
{
	uint64_t v = 0;

	assert_int_equal(hw_rdmsr(&r->cpu, msr, &v), X86_OK);
	return v;
}

static inline int wr_fault(struct rig *r, uint32_t msr, uint64_t v)
{
	return hw_wrmsr(&r->cpu, msr, v);
}

static inline int rd_fault(struct rig *r, uint32_t msr)
{
	uint64_t v;

	return hw_rdmsr(&r->cpu, msr, &v);
}

static inline void global_set(struct rig *r, uint64_t bits)
{
	if (has_global(r->f))
		wr(r, msr_global_ctrl(r->f), bits);
}

/* GP counter i counting `ev` at both privileges from `start`. */
static inline void gp_prog(struct rig *r, unsigned i, uint64_t ev,
			   uint64_t extra, uint64_t start)
{
	wr(r, sel_msr(r->f, i), 0);
	wr(r, ctr_msr(r->f, i), start);
	wr(r, sel_msr(r->f, i), ev | EVTSEL_USR | EVTSEL_OS | EVTSEL_EN | extra);
}

static inline void run_known(struct rig *r, bool kernel)
{
	struct mv_work w = known_block(kernel);

	hw_run_work(&r->cpu, &w);
}

static inline void run_instr(struct rig *r, uint64_t n)
{
	struct mv_work w = known_block(true);

	memset(w.ev, 0, sizeof(w.ev));
	w.ev[MV_EV_INSTRUCTIONS] = n;
	w.ev[MV_EV_CYCLES] = n;
	hw_run_work(&r->cpu, &w);
}

/* The counter value perf programs to overflow after n events: -n masked
 * to the width (FACTS.md s.1 "Sampling"). */
static inline uint64_t minus(const struct fact_model *f, uint64_t n)
{
	return (0 - n) & width_mask(f);
}
