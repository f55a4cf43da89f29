/* guest_conf: PMU conformance probes run through the guest API only, so the
 * same probe gives comparable logs on bare metal and in a VM (FACTS.md
 * sections 1-3 are the behaviour they look at). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_conf.h"

#define MAX_GP 8
#define MAX_FIXED 4
#define AMD_LEGACY_CTRS 4
#define AMD_CTR_WIDTH 48	/* APM 13.2.1: AMD counters are 48 bits wide */
#define CONF_VECTOR 0xF0	/* fixed-delivery vector of the probes' PMIs */
#define PERIOD 1000		/* events until a preset counter overflows */

/* Intel architectural encodings (SDM table 21-1) and Zen's (PPR 19h). */
#define INTEL_INSTR 0x00C0
#define INTEL_BRANCH 0x00C4
#define AMD_INSTR 0xC0
#define AMD_BRANCH 0xC2

struct conf_irq {
	unsigned nr, vector;
	uint64_t lvtpc, status, ctr;
	int ctr_idx;		/* counter the handler reads, -1 none */
};

struct conf_state {
	uint64_t sel[MAX_GP], ctr[MAX_GP], fixed[MAX_FIXED];
	uint64_t fixed_ctrl, global_ctrl, status, debugctl, lvtpc;
	mv_irq_fn irq;
	void *irq_arg;
};

struct guest_conf {
	struct mv_guest *g;
	struct guest_conf_pmu pmu;
	struct guest_conf_log *log;
	const char *name;
	struct conf_irq irq;
};

/* ---- the log ---- */

void guest_conf_log_init(struct guest_conf_log *log)
{
	memset(log, 0, sizeof(*log));
}

static void out(struct guest_conf *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void out(struct guest_conf *c, const char *key, const char *fmt, ...)
{
	struct guest_conf_log *log = c->log;
	char val[96], line[192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "%s: %s=%s\n", c->name, key, val);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    log->len + (size_t)n >= sizeof(log->text)) {
		log->truncated = true;
		return;
	}
	memcpy(log->text + log->len, line, (size_t)n + 1);
	log->len += (size_t)n;
	log->nr++;
}

static void out_u64(struct guest_conf *c, const char *key, uint64_t v)
{
	out(c, key, "%" PRIu64, v);
}

static void out_hex(struct guest_conf *c, const char *key, uint64_t v)
{
	out(c, key, "0x%" PRIx64, v);
}

static void out_fault(struct guest_conf *c, const char *key, int fault)
{
	if (fault == X86_OK)
		out(c, key, "ok");
	else if (fault == X86_GP)
		out(c, key, "gp");
	else
		out(c, key, "fault%d", fault);
}

/* ---- discovery ---- */

static bool vendor_is(const uint32_t r[4], const char *s)
{
	char v[13];

	/* CPUID leaf 0 spells the vendor in EBX, EDX, ECX order. */
	memcpy(v, &r[1], 4);
	memcpy(v + 4, &r[3], 4);
	memcpy(v + 8, &r[2], 4);
	v[12] = 0;
	return strcmp(v, s) == 0;
}

static void discover_intel(struct mv_guest *g, struct guest_conf_pmu *p)
{
	uint32_t r[4];

	mv_cpuid(g, 1, 0, r);
	p->pdcm = r[2] & CPUID_1_ECX_PDCM;
	if (p->pdcm && mv_rdmsr_safe(g, MSR_IA32_PERF_CAPABILITIES, &p->perf_caps))
		p->perf_caps = 0;
	p->fw_write = p->perf_caps & PERF_CAP_FW_WRITE;
	mv_cpuid(g, 0xA, 0, r);
	p->version = r[0] & 0xFF;
	if (p->version == 0)
		return;
	p->nr_gp = (r[0] >> 8) & 0xFF;
	p->gp_width = (r[0] >> 16) & 0xFF;
	if (p->nr_gp > MAX_GP)
		p->nr_gp = MAX_GP;
	p->has_global = p->version >= 2;
	if (p->version >= 2) {
		p->nr_fixed = r[3] & 0x1F;
		p->fixed_width = (r[3] >> 5) & 0xFF;
		p->anythread_deprecated = r[3] & (1u << 15);
	}
	if (p->version >= 5)
		p->fixed_bitmap = r[2];
	/* SDM CPUID.0AH: fixed i exists iff ECX[i] or i < EDX[4:0]. */
	for (unsigned i = 0; i < MAX_FIXED && p->version >= 2; i++)
		if ((p->fixed_bitmap & (1u << i)) || i < p->nr_fixed)
			p->fixed_exists |= 1u << i;
}

static void discover_amd(struct mv_guest *g, struct guest_conf_pmu *p)
{
	uint32_t r[4];

	mv_cpuid(g, 0x80000001, 0, r);
	p->perfctr_core = r[2] & CPUID_80000001_ECX_PERFCTR_CORE;
	/* Six counters with PerfCtrExtCore, the four K7 ones without. */
	p->nr_gp = p->perfctr_core ? 6 : AMD_LEGACY_CTRS;
	p->gp_width = AMD_CTR_WIDTH;
	mv_cpuid(g, 0x80000000, 0, r);
	if (r[0] < 0x80000022)
		return;
	mv_cpuid(g, 0x80000022, 0, r);
	p->perfmon_v2 = r[0] & CPUID_80000022_EAX_PERFMON_V2;
	if (p->perfmon_v2) {
		p->version = 2;
		p->has_global = true;
		if ((r[1] & 0xF) && (r[1] & 0xF) <= MAX_GP)
			p->nr_gp = r[1] & 0xF;
	}
}

void guest_conf_discover(struct mv_guest *g, struct guest_conf_pmu *p)
{
	uint32_t r[4];

	memset(p, 0, sizeof(*p));
	mv_cpuid(g, 0, 0, r);
	p->intel = vendor_is(r, "GenuineIntel");
	p->amd = vendor_is(r, "AuthenticAMD");
	if (p->intel)
		discover_intel(g, p);
	else if (p->amd)
		discover_amd(g, p);
}

/* ---- register addresses and small helpers ---- */

static uint32_t sel_msr(const struct guest_conf *c, unsigned i)
{
	if (c->pmu.intel)
		return MSR_IA32_PERFEVTSEL0 + i;
	return c->pmu.perfctr_core ? MSR_F15H_PERF_CTL0 + 2 * i : MSR_K7_EVNTSEL0 + i;
}

/* Intel: the legacy alias (sign-extending writes); AMD: the core counter. */
static uint32_t ctr_msr(const struct guest_conf *c, unsigned i)
{
	if (c->pmu.intel)
		return MSR_IA32_PMC0 + i;
	return c->pmu.perfctr_core ? MSR_F15H_PERF_CTR0 + 2 * i : MSR_K7_PERFCTR0 + i;
}

static uint32_t msr_global_ctrl(const struct guest_conf *c)
{
	return c->pmu.intel ? MSR_IA32_PERF_GLOBAL_CTRL : MSR_AMD_GLOBAL_CTL;
}

static uint32_t msr_status(const struct guest_conf *c)
{
	return c->pmu.intel ? MSR_IA32_PERF_GLOBAL_STATUS : MSR_AMD_GLOBAL_STATUS;
}

static uint32_t msr_status_clr(const struct guest_conf *c)
{
	return c->pmu.intel ? MSR_IA32_PERF_GLOBAL_OVF_CTRL : MSR_AMD_GLOBAL_STATUS_CLR;
}

/* STATUS_SET exists from Intel v4 and with AMD PerfMonV2. */
static bool has_status_set(const struct guest_conf *c)
{
	return c->pmu.intel ? c->pmu.version >= 4 : c->pmu.perfmon_v2;
}

static uint32_t msr_status_set(const struct guest_conf *c)
{
	return c->pmu.intel ? MSR_IA32_PERF_GLOBAL_STATUS_SET : MSR_AMD_GLOBAL_STATUS_SET;
}

static uint64_t ev_instr(const struct guest_conf *c)
{
	return c->pmu.intel ? INTEL_INSTR : AMD_INSTR;
}

static uint64_t ev_branch(const struct guest_conf *c)
{
	return c->pmu.intel ? INTEL_BRANCH : AMD_BRANCH;
}

static uint64_t gp_mask(const struct guest_conf *c)
{
	return X86_MASK(c->pmu.gp_width);
}

static bool fixed_exists(const struct guest_conf *c, unsigned i)
{
	return i < MAX_FIXED && (c->pmu.fixed_exists & (1u << i));
}

static uint64_t rd(struct guest_conf *c, uint32_t msr)
{
	uint64_t v = 0;

	if (mv_rdmsr_safe(c->g, msr, &v))
		v = 0;
	return v;
}

static uint64_t status(struct guest_conf *c)
{
	return c->pmu.has_global ? rd(c, msr_status(c)) : 0;
}

static void global_enable(struct guest_conf *c, uint64_t bits)
{
	if (c->pmu.has_global)
		mv_wrmsr_safe(c->g, msr_global_ctrl(c), bits);
}

/* Programs GP counter i with `sel` (EN added) from `start`, and enables
 * it globally alone with any counters in `also`. */
static void gp_start(struct guest_conf *c, unsigned i, uint64_t sel,
		     uint64_t start)
{
	mv_wrmsr_safe(c->g, sel_msr(c, i), 0);
	mv_wrmsr_safe(c->g, ctr_msr(c, i), start);
	mv_wrmsr_safe(c->g, sel_msr(c, i), sel | EVTSEL_EN);
}

static void gp_stop_all(struct guest_conf *c)
{
	global_enable(c, 0);
	for (unsigned i = 0; i < c->pmu.nr_gp; i++)
		mv_wrmsr_safe(c->g, sel_msr(c, i), 0);
	if (c->pmu.intel && c->pmu.version >= 2)
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL, 0);
}

static void status_clear(struct guest_conf *c, uint64_t bits)
{
	if (c->pmu.has_global && bits)
		mv_wrmsr_safe(c->g, msr_status_clr(c), bits);
}

/* The known block: every event kind with a distinct count, so a counter
 * counting the wrong event shows it. */
static struct mv_work block(uint64_t n, bool kernel)
{
	struct mv_work w = { .kernel = kernel, .label = "conf" };

	w.ev[MV_EV_INSTRUCTIONS] = n;
	w.ev[MV_EV_BRANCHES] = n / 5;
	w.ev[MV_EV_COND_BRANCHES] = n / 8;
	w.ev[MV_EV_BRANCH_MISSES] = n / 100;
	w.ev[MV_EV_CYCLES] = n * 3 / 5;
	w.ev[MV_EV_REF_CYCLES] = n * 2 / 5;
	w.ev[MV_EV_LLC_REFS] = n / 50;
	w.ev[MV_EV_LLC_MISSES] = n / 200;
	w.ev[MV_EV_TOPDOWN_SLOTS] = n * 12 / 5;
	return w;
}

static void run_block(struct guest_conf *c, uint64_t n, bool kernel)
{
	struct mv_work w = block(n, kernel);

	mv_run(c->g, &w);
}

/* ---- interrupts ---- */

/* Counts PMIs; records what the handler sees on entry; acks the way
 * Linux does: EOI for a fixed vector, LVTPC unmasked at exit (late ack;
 * FACTS.md s.1: Intel masks LVTPC on delivery, the handler clears it). */
static void conf_irq(struct mv_guest *g, unsigned vector, void *arg)
{
	struct guest_conf *c = arg;
	uint64_t lvt = 0;

	c->irq.nr++;
	c->irq.vector = vector;
	mv_rdmsr_safe(g, MSR_X2APIC_LVTPC, &lvt);
	c->irq.lvtpc = lvt;
	c->irq.status = status(c);
	if (c->irq.ctr_idx >= 0)
		c->irq.ctr = rd(c, ctr_msr(c, (unsigned)c->irq.ctr_idx));
	if (vector != NMI_VECTOR)
		mv_wrmsr_safe(g, MSR_X2APIC_EOI, 0);
	if (lvt & APIC_LVT_MASKED)
		mv_wrmsr_safe(g, MSR_X2APIC_LVTPC, lvt & ~(uint64_t)APIC_LVT_MASKED);
}

/* Unmasked LVTPC with NMI delivery, as Linux programs it. */
static void irq_setup(struct guest_conf *c, uint32_t lvtpc, int ctr_idx)
{
	memset(&c->irq, 0, sizeof(c->irq));
	c->irq.ctr_idx = ctr_idx;
	mv_wrmsr_safe(c->g, MSR_X2APIC_LVTPC, lvtpc);
	mv_set_irq_handler(c->g, conf_irq, c);
}

static void out_irq(struct guest_conf *c, const char *pfx)
{
	char k[48];

	snprintf(k, sizeof(k), "%s.pmis", pfx);
	out_u64(c, k, c->irq.nr);
	if (!c->irq.nr)
		return;
	snprintf(k, sizeof(k), "%s.vector", pfx);
	out_hex(c, k, c->irq.vector);
	snprintf(k, sizeof(k), "%s.lvtpc_in_handler", pfx);
	out_hex(c, k, c->irq.lvtpc);
	if (c->pmu.has_global) {
		snprintf(k, sizeof(k), "%s.status_in_handler", pfx);
		out_hex(c, k, c->irq.status);
	}
	if (c->irq.ctr_idx >= 0) {
		snprintf(k, sizeof(k), "%s.ctr%d_in_handler", pfx, c->irq.ctr_idx);
		out_u64(c, k, c->irq.ctr);
	}
}

/* ---- save, quiesce, restore ---- */

static void save(struct guest_conf *c, struct conf_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < c->pmu.nr_gp; i++) {
		s->sel[i] = rd(c, sel_msr(c, i));
		s->ctr[i] = rd(c, ctr_msr(c, i));
	}
	for (unsigned i = 0; i < MAX_FIXED; i++)
		if (fixed_exists(c, i))
			s->fixed[i] = rd(c, MSR_IA32_FIXED_CTR0 + i);
	if (c->pmu.intel && c->pmu.version >= 2)
		s->fixed_ctrl = rd(c, MSR_IA32_FIXED_CTR_CTRL);
	if (c->pmu.has_global) {
		s->global_ctrl = rd(c, msr_global_ctrl(c));
		s->status = rd(c, msr_status(c));
	}
	if (c->pmu.intel)
		s->debugctl = rd(c, MSR_IA32_DEBUGCTL);
	s->lvtpc = rd(c, MSR_X2APIC_LVTPC);
	s->irq = c->g->irq;
	s->irq_arg = c->g->irq_arg;
}

static void quiesce(struct guest_conf *c)
{
	gp_stop_all(c);
	status_clear(c, status(c));
}

/* Writes a counter back to a saved value: the full-width alias when it
 * exists, since a legacy write only reproduces sign-extended values. */
static void restore_ctr(struct guest_conf *c, unsigned i, uint64_t v)
{
	if (c->pmu.intel && c->pmu.fw_write)
		mv_wrmsr_safe(c->g, MSR_IA32_A_PMC0 + i, v);
	else
		mv_wrmsr_safe(c->g, ctr_msr(c, i), v);
}

static void restore(struct guest_conf *c, const struct conf_state *s)
{
	global_enable(c, 0);	/* nothing counts while it is rebuilt */
	mv_set_cpl(c->g, 0);
	mv_set_cr4_pce(c->g, false);
	for (unsigned i = 0; i < c->pmu.nr_gp; i++) {
		mv_wrmsr_safe(c->g, sel_msr(c, i), s->sel[i]);
		restore_ctr(c, i, s->ctr[i]);
	}
	for (unsigned i = 0; i < MAX_FIXED; i++)
		if (fixed_exists(c, i))
			mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR0 + i, s->fixed[i]);
	if (c->pmu.intel && c->pmu.version >= 2)
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL, s->fixed_ctrl);
	if (c->pmu.intel)
		mv_wrmsr_safe(c->g, MSR_IA32_DEBUGCTL, s->debugctl);
	if (c->pmu.has_global) {
		status_clear(c, status(c));
		if (has_status_set(c) && s->status)
			mv_wrmsr_safe(c->g, msr_status_set(c), s->status);
	}
	mv_wrmsr_safe(c->g, MSR_X2APIC_LVTPC, s->lvtpc);
	mv_set_irq_handler(c->g, s->irq, s->irq_arg);
	if (c->pmu.has_global)
		mv_wrmsr_safe(c->g, msr_global_ctrl(c), s->global_ctrl);
}

/* ---- the probes ---- */

static void p_discover(struct guest_conf *c)
{
	const struct guest_conf_pmu *p = &c->pmu;

	out(c, "vendor", "%s", p->intel ? "intel" : p->amd ? "amd" : "unknown");
	out_u64(c, "version", p->version);
	out_u64(c, "nr_gp", p->nr_gp);
	out_u64(c, "gp_width", p->gp_width);
	if (p->intel) {
		out_u64(c, "nr_fixed", p->nr_fixed);
		out_u64(c, "fixed_width", p->fixed_width);
		out_hex(c, "fixed_bitmap", p->fixed_bitmap);
		out_hex(c, "fixed_exists", p->fixed_exists);
		out_u64(c, "anythread_deprecated", p->anythread_deprecated);
		out_u64(c, "pdcm", p->pdcm);
	} else {
		out_u64(c, "perfctr_core", p->perfctr_core);
		out_u64(c, "perfmon_v2", p->perfmon_v2);
	}
}

static void p_perf_caps(struct guest_conf *c)
{
	uint64_t v = 0;
	int f;

	if (!c->pmu.intel || !c->pmu.pdcm)
		return;
	f = mv_rdmsr_safe(c->g, MSR_IA32_PERF_CAPABILITIES, &v);
	out_fault(c, "read", f);
	out_hex(c, "value", v);
	out_u64(c, "fw_write", c->pmu.fw_write);
	/* Read-only on bare metal; a guest write #GPs under KVM too. */
	out_fault(c, "write_same", mv_wrmsr_safe(c->g, MSR_IA32_PERF_CAPABILITIES, v));
}

/* Intel SDM 21.2.2 and PerfMonV2: every GP enable set at reset. */
static void p_global_ctrl_reset(struct guest_conf *c)
{
	uint64_t v = 0;

	if (!c->pmu.has_global)
		return;
	out_fault(c, "read", mv_rdmsr_safe(c->g, msr_global_ctrl(c), &v));
	out_hex(c, "value", v);
}

static void count_one(struct guest_conf *c, unsigned i, uint64_t ev,
		      const char *evname)
{
	char k[40];
	uint64_t v = 0;

	gp_start(c, i, ev | EVTSEL_OS | EVTSEL_USR, 0);
	global_enable(c, X86_BIT(i));
	run_block(c, 10000, true);
	run_block(c, 5000, false);
	global_enable(c, 0);
	snprintf(k, sizeof(k), "gp%u.%s", i, evname);
	out_u64(c, k, rd(c, ctr_msr(c, i)));
	snprintf(k, sizeof(k), "gp%u.%s.rdpmc", i, evname);
	if (mv_rdpmc_safe(c->g, i, &v))
		out(c, k, "gp");
	else
		out_u64(c, k, v);
	mv_wrmsr_safe(c->g, sel_msr(c, i), 0);
}

static void p_count_gp(struct guest_conf *c)
{
	for (unsigned i = 0; i < c->pmu.nr_gp; i++) {
		count_one(c, i, ev_instr(c), "instructions");
		count_one(c, i, ev_branch(c), "branches");
	}
}

static void p_count_fixed(struct guest_conf *c)
{
	char k[32];
	uint64_t v = 0;

	if (!c->pmu.intel || c->pmu.version < 2)
		return;
	for (unsigned i = 0; i < MAX_FIXED; i++) {
		if (!fixed_exists(c, i))
			continue;
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR0 + i, 0);
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL,
			      FIXED_CTRL_FIELD(i, FIXED_CTRL_OS | FIXED_CTRL_USR));
		global_enable(c, X86_BIT(GLOBAL_FIXED_SHIFT + i));
		run_block(c, 10000, true);
		run_block(c, 5000, false);
		global_enable(c, 0);
		snprintf(k, sizeof(k), "fixed%u", i);
		out_u64(c, k, rd(c, MSR_IA32_FIXED_CTR0 + i));
		snprintf(k, sizeof(k), "fixed%u.rdpmc", i);
		if (mv_rdpmc_safe(c->g, (uint32_t)RDPMC_FIXED | i, &v))
			out(c, k, "gp");
		else
			out_u64(c, k, v);
	}
	mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL, 0);
}

/* USR counts CPL>0 work only, OS CPL 0 only (FACTS.md s.1 counting rule). */
static void p_privilege(struct guest_conf *c)
{
	static const struct { const char *key; uint64_t sel; bool kernel; } t[] = {
		{ "usr_only.kernel_block", EVTSEL_USR, true },
		{ "usr_only.user_block", EVTSEL_USR, false },
		{ "os_only.kernel_block", EVTSEL_OS, true },
		{ "os_only.user_block", EVTSEL_OS, false },
	};

	for (size_t j = 0; j < sizeof(t) / sizeof(t[0]); j++) {
		gp_start(c, 0, ev_instr(c) | t[j].sel, 0);
		global_enable(c, X86_BIT(0));
		run_block(c, 3000, t[j].kernel);
		global_enable(c, 0);
		out_u64(c, t[j].key, rd(c, ctr_msr(c, 0)));
	}
	mv_wrmsr_safe(c->g, sel_msr(c, 0), 0);
}

static void p_disabled(struct guest_conf *c)
{
	uint64_t sel = ev_instr(c) | EVTSEL_OS | EVTSEL_USR;

	/* EN clear, globally enabled. */
	mv_wrmsr_safe(c->g, ctr_msr(c, 0), 0);
	mv_wrmsr_safe(c->g, sel_msr(c, 0), sel);
	global_enable(c, X86_BIT(0));
	run_block(c, 3000, true);
	global_enable(c, 0);
	out_u64(c, "no_en", rd(c, ctr_msr(c, 0)));
	if (c->pmu.has_global) {
		/* EN set, GLOBAL_CTRL bit clear. */
		gp_start(c, 0, sel, 0);
		global_enable(c, X86_BIT(1) & X86_MASK(c->pmu.nr_gp));
		run_block(c, 3000, true);
		global_enable(c, 0);
		out_u64(c, "no_global", rd(c, ctr_msr(c, 0)));
	}
	mv_wrmsr_safe(c->g, sel_msr(c, 0), 0);
	if (c->pmu.intel && fixed_exists(c, 0)) {
		/* Fixed 0 with its enable field 0, globally enabled. */
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR0, 0);
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL, 0);
		global_enable(c, X86_BIT(GLOBAL_FIXED_SHIFT));
		run_block(c, 3000, true);
		global_enable(c, 0);
		out_u64(c, "fixed0_no_en", rd(c, MSR_IA32_FIXED_CTR0));
	}
}

static void p_write_read(struct guest_conf *c)
{
	char k[40];
	uint64_t v = 0;
	uint64_t sel = ev_branch(c) | EVTSEL_OS | EVTSEL_USR | EVTSEL_INT;

	for (unsigned i = 0; i < c->pmu.nr_gp; i++) {
		uint64_t val = 0x01234567 + i;

		snprintf(k, sizeof(k), "gp%u.write", i);
		out_fault(c, k, mv_wrmsr_safe(c->g, ctr_msr(c, i), val));
		snprintf(k, sizeof(k), "gp%u.read", i);
		out_hex(c, k, rd(c, ctr_msr(c, i)));
		snprintf(k, sizeof(k), "gp%u.rdpmc", i);
		out_hex(c, k, mv_rdpmc_safe(c->g, i, &v) ? ~0ULL : v);
		mv_wrmsr_safe(c->g, sel_msr(c, i), sel);
		snprintf(k, sizeof(k), "sel%u.read", i);
		out_hex(c, k, rd(c, sel_msr(c, i)));
		mv_wrmsr_safe(c->g, sel_msr(c, i), 0);
		mv_wrmsr_safe(c->g, ctr_msr(c, i), 0);
	}
	for (unsigned i = 0; i < MAX_FIXED && c->pmu.intel; i++) {
		if (!fixed_exists(c, i))
			continue;
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR0 + i, 0x89ABCDEF0ULL + i);
		snprintf(k, sizeof(k), "fixed%u.read", i);
		out_hex(c, k, rd(c, MSR_IA32_FIXED_CTR0 + i));
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR0 + i, 0);
	}
}

/* FACTS.md s.1: IA32_PMCx takes EAX, sign-extends, masks to the width. */
static void p_legacy_write(struct guest_conf *c)
{
	static const uint64_t vals[] = {
		0x7FFFFFFFULL, 0x80000000ULL, 0xDEADBEEF00001234ULL,
		0x00000001FFFFFFFFULL,
	};
	char k[32];

	if (!c->pmu.intel || !c->pmu.nr_gp)
		return;
	for (size_t j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
		mv_wrmsr_safe(c->g, MSR_IA32_PMC0, vals[j]);
		snprintf(k, sizeof(k), "0x%" PRIx64, vals[j]);
		out_hex(c, k, rd(c, MSR_IA32_PMC0));
	}
	mv_wrmsr_safe(c->g, MSR_IA32_PMC0, 0);
}

/* FACTS.md s.1: IA32_A_PMCx exist only with FW_WRITE; bits above the
 * width #GP; values are taken as they are (no sign extension). */
static void p_full_width(struct guest_conf *c)
{
	uint64_t mask = gp_mask(c);

	if (!c->pmu.intel || !c->pmu.nr_gp)
		return;
	if (!c->pmu.fw_write) {
		out_fault(c, "write", mv_wrmsr_safe(c->g, MSR_IA32_A_PMC0, 0));
		return;
	}
	out_fault(c, "write_max", mv_wrmsr_safe(c->g, MSR_IA32_A_PMC0, mask));
	out_hex(c, "read_max", rd(c, MSR_IA32_A_PMC0));
	out_fault(c, "write_above_width",
		  mv_wrmsr_safe(c->g, MSR_IA32_A_PMC0, mask + 1));
	out_hex(c, "read_after_fault", rd(c, MSR_IA32_A_PMC0));
	out_fault(c, "write_0x80000000",
		  mv_wrmsr_safe(c->g, MSR_IA32_A_PMC0, 0x80000000ULL));
	out_hex(c, "read_0x80000000", rd(c, MSR_IA32_PMC0));
	mv_wrmsr_safe(c->g, MSR_IA32_A_PMC0, 0);
}

static void rdpmc_out(struct guest_conf *c, const char *key, uint32_t ecx)
{
	uint64_t v = 0;

	out_fault(c, key, mv_rdpmc_safe(c->g, ecx, &v));
}

/* FACTS.md s.1 RDPMC: an index beyond the enumerated counters, or type
 * bit 31, #GPs; so do the MSRs of counters that do not exist. */
static void p_nonexistent(struct guest_conf *c)
{
	unsigned n = c->pmu.nr_gp;
	uint64_t v = 0;

	out_fault(c, "sel_nr_gp.write", mv_wrmsr_safe(c->g, sel_msr(c, n), 0));
	out_fault(c, "ctr_nr_gp.write", mv_wrmsr_safe(c->g, ctr_msr(c, n), 0));
	out_fault(c, "ctr_nr_gp.read", mv_rdmsr_safe(c->g, ctr_msr(c, n), &v));
	rdpmc_out(c, "rdpmc_nr_gp", n);
	rdpmc_out(c, "rdpmc_0xffff", 0xFFFF);
	rdpmc_out(c, "rdpmc_bit31", (uint32_t)RDPMC_FAST);
	rdpmc_out(c, "rdpmc_bit31_idx1", (uint32_t)RDPMC_FAST | 1);
	if (!c->pmu.intel || c->pmu.version < 2)
		return;
	for (unsigned i = 0; i < MAX_FIXED; i++) {
		char k[40];

		if (fixed_exists(c, i))
			continue;
		snprintf(k, sizeof(k), "fixed%u.write", i);
		out_fault(c, k, mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR0 + i, 0));
		snprintf(k, sizeof(k), "fixed%u.read", i);
		out_fault(c, k, mv_rdmsr_safe(c->g, MSR_IA32_FIXED_CTR0 + i, &v));
		snprintf(k, sizeof(k), "fixed%u.rdpmc", i);
		rdpmc_out(c, k, (uint32_t)RDPMC_FIXED | i);
	}
	rdpmc_out(c, "rdpmc_fixed_0xffff", (uint32_t)RDPMC_FIXED | 0xFFFF);
}

/* FACTS.md s.1: RDPMC at CPL>0 with CR4.PCE=0 #GPs. */
static void p_rdpmc_cpl(struct guest_conf *c)
{
	uint64_t v = 0;

	mv_wrmsr_safe(c->g, ctr_msr(c, 0), 0x4242);
	mv_set_cpl(c->g, 3);
	mv_set_cr4_pce(c->g, false);
	out_fault(c, "cpl3_pce0", mv_rdpmc_safe(c->g, 0, &v));
	mv_set_cr4_pce(c->g, true);
	out_fault(c, "cpl3_pce1", mv_rdpmc_safe(c->g, 0, &v));
	out_hex(c, "cpl3_pce1.value", v);
	mv_set_cpl(c->g, 0);
	mv_set_cr4_pce(c->g, false);
	v = 0;
	out_fault(c, "cpl0_pce0", mv_rdpmc_safe(c->g, 0, &v));
	out_hex(c, "cpl0_pce0.value", v);
	mv_wrmsr_safe(c->g, ctr_msr(c, 0), 0);
}

/* Intel: reserved selector bits #GP; AMD: ignored (FACTS.md s.1, s.2). */
static void p_evtsel_reserved(struct guest_conf *c)
{
	uint64_t base = ev_instr(c) | EVTSEL_OS;

	if (c->pmu.intel) {
		out_fault(c, "bit63", mv_wrmsr_safe(c->g, sel_msr(c, 0), base | X86_BIT(63)));
		out_hex(c, "bit63.read", rd(c, sel_msr(c, 0)));
	} else {
		uint64_t v = base | EVTSEL_PC | EVTSEL_ANY | X86_BIT(39) | X86_BIT(63) |
			     AMD_EVTSEL_GUESTONLY;

		out_fault(c, "reserved", mv_wrmsr_safe(c->g, sel_msr(c, 0), v));
		out_hex(c, "reserved.read", rd(c, sel_msr(c, 0)));
	}
	mv_wrmsr_safe(c->g, sel_msr(c, 0), 0);
}

/* AnyThread (bit 21 / fixed bit 2): valid on v3-v4, reserved once
 * deprecated (v5).  KVM reserves it for guests whatever the version. */
static void p_anythread(struct guest_conf *c)
{
	if (!c->pmu.intel || c->pmu.version < 3)
		return;
	out_fault(c, "evtsel", mv_wrmsr_safe(c->g, sel_msr(c, 0),
					     ev_instr(c) | EVTSEL_OS | EVTSEL_ANY));
	mv_wrmsr_safe(c->g, sel_msr(c, 0), 0);
	if (fixed_exists(c, 0))
		out_fault(c, "fixed_ctrl", mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL,
			  FIXED_CTRL_FIELD(0, FIXED_CTRL_OS | FIXED_CTRL_ANY)));
	mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL, 0);
}

/* -PERIOD as perf programs it: legacy Intel writes sign-extend it. */
static uint64_t preset(const struct guest_conf *c, uint64_t period)
{
	return (0 - period) & gp_mask(c);
}

/* Counter 0 preset to overflow after PERIOD instructions, counter 1
 * counting the same event from 0: the handler must see exactly PERIOD on
 * counter 1 (the block is split at the exact event, FACTS.md s.1). */
static void overflow_run(struct guest_conf *c, uint64_t extra_sel,
			 uint32_t lvtpc, const char *pfx)
{
	uint64_t sel = ev_instr(c) | EVTSEL_OS | EVTSEL_USR | extra_sel;
	char k[48];

	irq_setup(c, lvtpc, c->pmu.nr_gp > 1 ? 1 : -1);
	gp_start(c, 0, sel, preset(c, PERIOD));
	if (c->pmu.nr_gp > 1)
		gp_start(c, 1, ev_instr(c) | EVTSEL_OS | EVTSEL_USR, 0);
	global_enable(c, X86_MASK(c->pmu.nr_gp > 1 ? 2 : 1));
	run_block(c, 10 * PERIOD, true);
	global_enable(c, 0);
	out_irq(c, pfx);
	snprintf(k, sizeof(k), "%s.ctr0", pfx);
	out_u64(c, k, rd(c, ctr_msr(c, 0)));
	if (c->pmu.has_global) {
		snprintf(k, sizeof(k), "%s.status", pfx);
		out_hex(c, k, status(c));
	}
	snprintf(k, sizeof(k), "%s.lvtpc_after", pfx);
	out_hex(c, k, rd(c, MSR_X2APIC_LVTPC));
	gp_stop_all(c);
}

/* FACTS.md s.1: the overflow sets the status bit whether or not INT is
 * set; writing the counter does not clear it; OVF_CTRL/STATUS_CLR does. */
static void p_overflow_noint(struct guest_conf *c)
{
	overflow_run(c, 0, APIC_DM_NMI, "gp");
	if (!c->pmu.has_global)
		return;
	mv_wrmsr_safe(c->g, ctr_msr(c, 0), 0);
	out_hex(c, "status_after_ctr_write", status(c));
	status_clear(c, X86_BIT(0));
	out_hex(c, "status_after_clear", status(c));
}

static void p_overflow_pmi(struct guest_conf *c)
{
	overflow_run(c, EVTSEL_INT, APIC_DM_NMI, "nmi");
	status_clear(c, status(c));
	overflow_run(c, EVTSEL_INT, APIC_DM_FIXED | CONF_VECTOR, "fixed_vector");
	status_clear(c, status(c));
	/* A masked LVTPC drops the PMI; the status bit is still set. */
	overflow_run(c, EVTSEL_INT, APIC_DM_NMI | APIC_LVT_MASKED, "masked");
	status_clear(c, status(c));
}

/* Fixed counter 0 preset to overflow, without and with its PMI bit. */
static void p_overflow_fixed(struct guest_conf *c)
{
	static const struct { const char *pfx; uint64_t pmi; } t[] = {
		{ "noint", 0 }, { "pmi", FIXED_CTRL_PMI },
	};
	char k[40];

	if (!c->pmu.intel || !fixed_exists(c, 0))
		return;
	for (size_t j = 0; j < 2; j++) {
		irq_setup(c, APIC_DM_NMI, -1);
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR0,
			      (0 - (uint64_t)PERIOD) & X86_MASK(c->pmu.fixed_width));
		mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_FIELD(0,
			      FIXED_CTRL_OS | FIXED_CTRL_USR | t[j].pmi));
		global_enable(c, X86_BIT(GLOBAL_FIXED_SHIFT));
		run_block(c, 10 * PERIOD, true);
		global_enable(c, 0);
		out_irq(c, t[j].pfx);
		snprintf(k, sizeof(k), "%s.fixed0", t[j].pfx);
		out_u64(c, k, rd(c, MSR_IA32_FIXED_CTR0));
		snprintf(k, sizeof(k), "%s.status", t[j].pfx);
		out_hex(c, k, status(c));
		status_clear(c, status(c));
	}
	mv_wrmsr_safe(c->g, MSR_IA32_FIXED_CTR_CTRL, 0);
}

/* STATUS_SET sets status bits; the register reads 0 (FACTS.md s.1/s.2). */
static void p_status_set(struct guest_conf *c)
{
	uint64_t bits = X86_BIT(0);

	if (!has_status_set(c))
		return;
	if (c->pmu.intel && fixed_exists(c, 0))
		bits |= X86_BIT(GLOBAL_FIXED_SHIFT);
	out_fault(c, "write", mv_wrmsr_safe(c->g, msr_status_set(c), bits));
	out_hex(c, "status", status(c));
	out_hex(c, "set_reads", rd(c, msr_status_set(c)));
	status_clear(c, bits);
	out_hex(c, "status_after_clear", status(c));
}

/* GLOBAL_STATUS is read-only: #GP on Intel, writes ignored on AMD. */
static void p_status_readonly(struct guest_conf *c)
{
	if (!c->pmu.has_global)
		return;
	out_fault(c, "write", mv_wrmsr_safe(c->g, msr_status(c), X86_BIT(0)));
	out_hex(c, "status", status(c));
}

/* FACTS.md s.2: the K7 MSRs alias core counters 0-3. */
static void p_amd_alias(struct guest_conf *c)
{
	char k[32];

	if (!c->pmu.amd || !c->pmu.perfctr_core)
		return;
	for (unsigned i = 0; i < AMD_LEGACY_CTRS; i++) {
		mv_wrmsr_safe(c->g, MSR_K7_PERFCTR0 + i, 0x1111 * (i + 1));
		snprintf(k, sizeof(k), "ctr%u.core", i);
		out_hex(c, k, rd(c, MSR_F15H_PERF_CTR0 + 2 * i));
		mv_wrmsr_safe(c->g, MSR_F15H_PERF_CTL0 + 2 * i, AMD_BRANCH | EVTSEL_OS);
		snprintf(k, sizeof(k), "ctl%u.legacy", i);
		out_hex(c, k, rd(c, MSR_K7_EVNTSEL0 + i));
		mv_wrmsr_safe(c->g, MSR_F15H_PERF_CTL0 + 2 * i, 0);
		mv_wrmsr_safe(c->g, MSR_F15H_PERF_CTR0 + 2 * i, 0);
	}
}

/* v4 FREEZE_PERFMON_ON_PMI: the PMI sets CTR_Frz and every counter stops
 * until software clears it (FACTS.md s.1). */
static void p_freeze_on_pmi(struct guest_conf *c)
{
	uint64_t dbg;

	if (!c->pmu.intel || c->pmu.version < 4 || c->pmu.nr_gp < 2)
		return;
	dbg = rd(c, MSR_IA32_DEBUGCTL);
	out_fault(c, "debugctl", mv_wrmsr_safe(c->g, MSR_IA32_DEBUGCTL,
					       dbg | DEBUGCTL_FREEZE_PERFMON_ON_PMI));
	irq_setup(c, APIC_DM_NMI, 1);
	gp_start(c, 0, ev_instr(c) | EVTSEL_OS | EVTSEL_INT, preset(c, PERIOD));
	gp_start(c, 1, ev_instr(c) | EVTSEL_OS, 0);
	global_enable(c, X86_MASK(2));
	run_block(c, 10 * PERIOD, true);
	out_irq(c, "frozen");
	out_hex(c, "frozen.status", status(c));
	out_u64(c, "frozen.ctr1", rd(c, ctr_msr(c, 1)));
	/* Clearing CTR_Frz and the overflow bit lets counting resume. */
	status_clear(c, GLOBAL_STATUS_CTR_FRZ | X86_BIT(0));
	run_block(c, PERIOD, true);
	out_hex(c, "thawed.status", status(c));
	out_u64(c, "thawed.ctr1", rd(c, ctr_msr(c, 1)));
	gp_stop_all(c);
	mv_wrmsr_safe(c->g, MSR_IA32_DEBUGCTL, dbg);
}

/* The order of this table is the order of the log.  global_ctrl_reset
 * comes first after discovery so that it sees the value as found. */
const struct guest_conf_probe guest_conf_probes[] = {
	{ "discover", p_discover, false,
	  "the VM's CPUID is KVM's: version, counters and widths may be capped" },
	{ "perf_caps", p_perf_caps, true,
	  "KVM exposes its own PERF_CAPABILITIES (LBR/PEBS formats)" },
	{ "global_ctrl_reset", p_global_ctrl_reset, false, NULL },
	{ "count_gp", p_count_gp, true, NULL },
	{ "count_fixed", p_count_fixed, true, NULL },
	{ "privilege", p_privilege, true, NULL },
	{ "disabled", p_disabled, true, NULL },
	{ "write_read", p_write_read, true, NULL },
	{ "legacy_write", p_legacy_write, true, NULL },
	{ "full_width", p_full_width, true, NULL },
	{ "nonexistent", p_nonexistent, true, NULL },
	{ "rdpmc_cpl", p_rdpmc_cpl, true, NULL },
	{ "evtsel_reserved", p_evtsel_reserved, true, NULL },
	{ "anythread", p_anythread, true,
	  "KVM reserves AnyThread (PERFEVTSEL bit 21, fixed bit 2) for guests" },
	{ "overflow_noint", p_overflow_noint, true, NULL },
	{ "overflow_pmi", p_overflow_pmi, true, NULL },
	{ "overflow_fixed", p_overflow_fixed, true, NULL },
	{ "status_set", p_status_set, true, NULL },
	{ "status_readonly", p_status_readonly, true, NULL },
	{ "amd_alias", p_amd_alias, true, NULL },
	{ "freeze_on_pmi", p_freeze_on_pmi, true,
	  "KVM does not let a guest set DEBUGCTL.FREEZE_PERFMON_ON_PMI" },
};

const size_t guest_conf_nr_probes = sizeof(guest_conf_probes) / sizeof(guest_conf_probes[0]);

const struct guest_conf_probe *guest_conf_find(const char *name)
{
	for (size_t i = 0; i < guest_conf_nr_probes; i++)
		if (strcmp(guest_conf_probes[i].name, name) == 0)
			return &guest_conf_probes[i];
	return NULL;
}

static void run_probe(struct mv_guest *g, const struct guest_conf_probe *p,
		      struct guest_conf_log *log)
{
	struct guest_conf c = { .g = g, .log = log, .name = p->name };
	struct conf_state s;

	c.irq.ctr_idx = -1;
	guest_conf_discover(g, &c.pmu);
	if (!c.pmu.nr_gp && p->fn != p_discover)
		return;		/* no PMU: nothing to probe */
	save(&c, &s);
	if (p->quiesce)
		quiesce(&c);
	p->fn(&c);
	restore(&c, &s);
}

bool guest_conf_run_one(struct mv_guest *g, const char *name,
			struct guest_conf_log *log)
{
	const struct guest_conf_probe *p = guest_conf_find(name);

	if (p)
		run_probe(g, p, log);
	return p != NULL;
}

void guest_conf_run_except(struct mv_guest *g, struct guest_conf_log *log,
			   const char *const exclude[], size_t nr_exclude)
{
	for (size_t i = 0; i < guest_conf_nr_probes; i++) {
		bool skip = false;

		for (size_t j = 0; j < nr_exclude; j++)
			skip |= strcmp(exclude[j], guest_conf_probes[i].name) == 0;
		if (!skip)
			run_probe(g, &guest_conf_probes[i], log);
	}
}

void guest_conf_run_all(struct mv_guest *g, struct guest_conf_log *log)
{
	guest_conf_run_except(g, log, NULL, 0);
}

/* ---- reading the log ---- */

bool guest_conf_value(const struct guest_conf_log *log, const char *probe,
		      const char *key, char *buf, size_t len)
{
	size_t pl = strlen(probe), kl = strlen(key);
	const char *s = log->text, *end = log->text + log->len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		if (n > pl + 2 + kl && memcmp(s, probe, pl) == 0 &&
		    s[pl] == ':' && s[pl + 1] == ' ' &&
		    memcmp(s + pl + 2, key, kl) == 0 && s[pl + 2 + kl] == '=') {
			size_t vl = n - (pl + 3 + kl);

			if (len == 0)
				return true;
			if (vl >= len)
				vl = len - 1;
			memcpy(buf, s + pl + 3 + kl, vl);
			buf[vl] = 0;
			return true;
		}
		s += n + 1;
	}
	return false;
}

bool guest_conf_u64(const struct guest_conf_log *log, const char *probe,
		    const char *key, uint64_t *val)
{
	char buf[64], *endp;

	if (!guest_conf_value(log, probe, key, buf, sizeof(buf)) || !buf[0])
		return false;
	*val = strtoull(buf, &endp, 0);
	return *endp == 0;
}
