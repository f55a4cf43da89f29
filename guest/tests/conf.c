/* conf: the real-code twin of the conformance probes (src/guest/
 * guest_conf.c): the same probes, in the same order, logging the same
 * "probe: key=value" lines, with the guest API's calls replaced by the
 * instructions (WRMSR, RDMSR, RDPMC, CPUID through the runtime's *_safe
 * accessors) and its abstract blocks by real loops: 10000 iterations at
 * CPL 0 and 5000 at CPL 3 (mvg_run_user).  The counts differ from the
 * API probes' (real code retires its own instructions and branches);
 * the host compares the log of a VM with bare metal's on the same model
 * (tests/hw/test_realcode_conf.c), as test_kvm_conformance does for the
 * API probes. */
#include "mvpmu-guest.h"

#define PERIOD 1000
#define CONF_VECTOR 0xF0
#define EVTSEL_PC (1ULL << 19)
#define EVTSEL_ANY (1ULL << 21)
#define AMD_GUESTONLY (1ULL << 40)
#define FIXED_CTRL 0x38D
#define FIXED_CTR0 0x309
#define DEBUGCTL 0x1D9
#define FREEZE_ON_PMI (1ULL << 12)
#define CTR_FRZ (1ULL << 59)

static struct mvg_pmu pmu;
static const char *probe;

static void out(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(const char *key, const char *fmt, ...)
{
	char val[96];
	va_list ap;

	va_start(ap, fmt);
	mvg_vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	mvg_printf("%s: %s=%s\n", probe, key, val);
}

static void out_u64(const char *key, uint64_t v) { out(key, "%lu", v); }
static void out_hex(const char *key, uint64_t v) { out(key, "0x%lx", v); }
static void out_fault(const char *key, int f)
{
	if (f == 0)
		out(key, "ok");
	else if (f == MVG_GP)
		out(key, "gp");
	else
		out(key, "fault%d", f);
}

static uint64_t rd(uint32_t msr)
{
	uint64_t v = 0;

	if (mvg_rdmsr_safe(msr, &v))
		v = 0;
	return v;
}

static void wr(uint32_t msr, uint64_t v) { mvg_wrmsr_safe(msr, v); }
static bool fixed_exists(unsigned i) { return i < 4 && ((pmu.fixed_exists >> i) & 1); }
static uint64_t gp_mask(void) { return (1ULL << pmu.gp_width) - 1; }
static uint64_t mask(unsigned n) { return n >= 64 ? ~0ULL : (1ULL << n) - 1; }
static uint64_t status(void) { return pmu.has_global ? rd(mvg_global_status_msr(&pmu)) : 0; }

static void global_enable(uint64_t bits)
{
	if (pmu.has_global)
		wr(mvg_global_ctrl_msr(&pmu), bits);
}

/* Counting windows open and close through one MSR, so that a VM shows
 * what bare metal shows: with global control through GLOBAL_CTRL (the
 * selectors are written while it is 0), without it through the EN bits of
 * the selectors, closed in the order they were opened.  (In a VM that
 * intercepts the writes, KVM counts the opening write and not the closing
 * one, bare metal the other way round: the totals agree; FACTS.md s.8,
 * docs/realcode.md.) */
static uint64_t armed[8];

static void gp_start(unsigned i, uint64_t sel, uint64_t start)
{
	global_enable(0);
	wr(mvg_sel_msr(&pmu, i), 0);
	wr(mvg_ctr_msr(&pmu, i), start);
	armed[i] = sel;
	wr(mvg_sel_msr(&pmu, i), pmu.has_global ? sel | MVG_EVTSEL_EN : sel);
}

static void go(uint64_t bits)
{
	if (pmu.has_global) {
		wr(mvg_global_ctrl_msr(&pmu), bits);
		return;
	}
	for (unsigned i = 0; i < pmu.nr_gp; i++)
		if ((bits >> i) & 1)
			wr(mvg_sel_msr(&pmu, i), armed[i] | MVG_EVTSEL_EN);
}

static void stop(uint64_t bits)
{
	if (pmu.has_global) {
		wr(mvg_global_ctrl_msr(&pmu), 0);
		return;
	}
	for (unsigned i = 0; i < pmu.nr_gp; i++)
		if ((bits >> i) & 1)
			wr(mvg_sel_msr(&pmu, i), armed[i]);
}

static void gp_stop_all(void)
{
	global_enable(0);
	for (unsigned i = 0; i < pmu.nr_gp; i++)
		wr(mvg_sel_msr(&pmu, i), 0);
	if (pmu.intel && pmu.version >= 2)
		wr(FIXED_CTRL, 0);
}

static void status_clear(uint64_t bits)
{
	if (pmu.has_global && bits)
		wr(mvg_global_clr_msr(&pmu), bits);
}

/* The block: a loop of `kernel` iterations at CPL 0, one of `user` at
 * CPL 3. */
static void block(uint64_t kernel, uint64_t user)
{
	if (kernel)
		mvg_user_loop((void *)kernel);
	if (user)
		mvg_run_user(mvg_user_loop, (void *)user);
}

/* ---- interrupts ---- */

static struct {
	unsigned nr, vector;
	uint64_t lvtpc, status, ctr;
	int ctr_idx;
} irq;

static void conf_irq(struct mvg_regs *r)
{
	uint64_t lvt = 0;

	irq.nr++;
	irq.vector = (unsigned)r->vector;
	mvg_rdmsr_safe(0x834, &lvt);
	irq.lvtpc = lvt;
	irq.status = status();
	if (irq.ctr_idx >= 0)
		irq.ctr = rd(mvg_ctr_msr(&pmu, (unsigned)irq.ctr_idx));
	if (r->vector != MVG_NMI_VECTOR)
		mvg_wrmsr_safe(0x80B, 0);
	if (lvt & MVG_LVT_MASKED)
		mvg_wrmsr_safe(0x834, lvt & ~(uint64_t)MVG_LVT_MASKED);
}

static void irq_setup(uint32_t lvtpc, int ctr_idx)
{
	irq.nr = 0;
	irq.vector = 0;
	irq.lvtpc = irq.status = irq.ctr = 0;
	irq.ctr_idx = ctr_idx;
	wr(0x834, lvtpc);
}

static void out_irq(const char *pfx)
{
	char k[48];

	mvg_snprintf(k, sizeof(k), "%s.pmis", pfx);
	out_u64(k, irq.nr);
	if (!irq.nr)
		return;
	mvg_snprintf(k, sizeof(k), "%s.vector", pfx);
	out_hex(k, irq.vector);
	mvg_snprintf(k, sizeof(k), "%s.lvtpc_in_handler", pfx);
	out_hex(k, irq.lvtpc);
	if (pmu.has_global) {
		mvg_snprintf(k, sizeof(k), "%s.status_in_handler", pfx);
		out_hex(k, irq.status);
	}
	if (irq.ctr_idx >= 0) {
		mvg_snprintf(k, sizeof(k), "%s.ctr%d_in_handler", pfx, irq.ctr_idx);
		out_u64(k, irq.ctr);
	}
}

static void quiesce(void)
{
	gp_stop_all();
	for (unsigned i = 0; i < pmu.nr_gp; i++)
		wr(mvg_ctr_msr(&pmu, i), 0);
	status_clear(status());
	wr(0x834, MVG_LVT_MASKED);
	global_enable(mask(pmu.nr_gp));	/* the reset value */
}

/* ---- the probes (guest_conf.c, same keys) ---- */

static void p_discover(void)
{
	out("vendor", "%s", pmu.intel ? "intel" : pmu.amd ? "amd" : "unknown");
	out_u64("version", pmu.version);
	out_u64("nr_gp", pmu.nr_gp);
	out_u64("gp_width", pmu.gp_width);
	if (pmu.intel) {
		uint32_t r[4];

		mvg_cpuid(0xA, 0, r);
		out_u64("nr_fixed", pmu.nr_fixed);
		out_u64("fixed_width", pmu.fixed_width);
		out_hex("fixed_bitmap", pmu.version >= 5 ? r[2] : 0);
		out_hex("fixed_exists", pmu.fixed_exists);
		out_u64("anythread_deprecated", pmu.anythread_deprecated);
		out_u64("pdcm", pmu.pdcm);
	} else {
		out_u64("perfctr_core", pmu.perfctr_core);
		out_u64("perfmon_v2", pmu.perfmon_v2);
	}
}

static void p_perf_caps(void)
{
	uint64_t v = 0;

	if (!pmu.intel || !pmu.pdcm)
		return;
	out_fault("read", mvg_rdmsr_safe(0x345, &v));
	out_hex("value", v);
	out_u64("fw_write", pmu.fw_write);
	out_fault("write_same", mvg_wrmsr_safe(0x345, v));
}

static void p_global_ctrl_reset(void)
{
	uint64_t v = 0;

	if (!pmu.has_global)
		return;
	out_fault("read", mvg_rdmsr_safe(mvg_global_ctrl_msr(&pmu), &v));
	out_hex("value", v);
}

static void count_one(unsigned i, uint64_t ev, const char *evname)
{
	char k[40];
	uint64_t v = 0;

	gp_start(i, ev | MVG_EVTSEL_OS | MVG_EVTSEL_USR, 0);
	go(1ULL << i);
	block(10000, 5000);
	stop(1ULL << i);
	mvg_snprintf(k, sizeof(k), "gp%u.%s", i, evname);
	out_u64(k, rd(mvg_ctr_msr(&pmu, i)));
	mvg_snprintf(k, sizeof(k), "gp%u.%s.rdpmc", i, evname);
	if (mvg_rdpmc_safe(i, &v))
		out(k, "gp");
	else
		out_u64(k, v);
	wr(mvg_sel_msr(&pmu, i), 0);
}

static void p_count_gp(void)
{
	for (unsigned i = 0; i < pmu.nr_gp; i++) {
		count_one(i, mvg_ev_insns(&pmu), "instructions");
		count_one(i, mvg_ev_branches(&pmu), "branches");
	}
}

static void p_count_fixed(void)
{
	char k[32];
	uint64_t v = 0;

	if (!pmu.intel || pmu.version < 2)
		return;
	for (unsigned i = 0; i < 4; i++) {
		if (!fixed_exists(i))
			continue;
		global_enable(0);
		wr(FIXED_CTR0 + i, 0);
		wr(FIXED_CTRL, 3ULL << (4 * i));
		global_enable(1ULL << (32 + i));
		block(10000, 5000);
		global_enable(0);
		mvg_snprintf(k, sizeof(k), "fixed%u", i);
		out_u64(k, rd(FIXED_CTR0 + i));
		mvg_snprintf(k, sizeof(k), "fixed%u.rdpmc", i);
		if (mvg_rdpmc_safe((1u << 30) | i, &v))
			out(k, "gp");
		else
			out_u64(k, v);
	}
	wr(FIXED_CTRL, 0);
}

static void p_privilege(void)
{
	static const struct { const char *key; uint64_t sel; bool kernel; } t[] = {
		{ "usr_only.kernel_block", MVG_EVTSEL_USR, true },
		{ "usr_only.user_block", MVG_EVTSEL_USR, false },
		{ "os_only.kernel_block", MVG_EVTSEL_OS, true },
		{ "os_only.user_block", MVG_EVTSEL_OS, false },
	};

	for (unsigned j = 0; j < sizeof(t) / sizeof(t[0]); j++) {
		gp_start(0, mvg_ev_insns(&pmu) | t[j].sel, 0);
		go(1);
		block(t[j].kernel ? 3000 : 0, t[j].kernel ? 0 : 3000);
		stop(1);
		out_u64(t[j].key, rd(mvg_ctr_msr(&pmu, 0)));
	}
	wr(mvg_sel_msr(&pmu, 0), 0);
}

static void p_disabled(void)
{
	uint64_t sel = mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR;

	wr(mvg_ctr_msr(&pmu, 0), 0);
	wr(mvg_sel_msr(&pmu, 0), sel);
	global_enable(1);
	block(3000, 0);
	global_enable(0);
	out_u64("no_en", rd(mvg_ctr_msr(&pmu, 0)));
	if (pmu.has_global) {
		gp_start(0, sel, 0);
		global_enable(2 & mask(pmu.nr_gp));
		block(3000, 0);
		global_enable(0);
		out_u64("no_global", rd(mvg_ctr_msr(&pmu, 0)));
	}
	wr(mvg_sel_msr(&pmu, 0), 0);
	if (pmu.intel && fixed_exists(0)) {
		wr(FIXED_CTR0, 0);
		wr(FIXED_CTRL, 0);
		global_enable(1ULL << 32);
		block(3000, 0);
		global_enable(0);
		out_u64("fixed0_no_en", rd(FIXED_CTR0));
	}
}

static void p_write_read(void)
{
	char k[40];
	uint64_t v = 0;
	uint64_t sel = mvg_ev_branches(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR | MVG_EVTSEL_INT;

	for (unsigned i = 0; i < pmu.nr_gp; i++) {
		uint64_t val = 0x01234567 + i;

		mvg_snprintf(k, sizeof(k), "gp%u.write", i);
		out_fault(k, mvg_wrmsr_safe(mvg_ctr_msr(&pmu, i), val));
		mvg_snprintf(k, sizeof(k), "gp%u.read", i);
		out_hex(k, rd(mvg_ctr_msr(&pmu, i)));
		mvg_snprintf(k, sizeof(k), "gp%u.rdpmc", i);
		out_hex(k, mvg_rdpmc_safe(i, &v) ? ~0ULL : v);
		wr(mvg_sel_msr(&pmu, i), sel);
		mvg_snprintf(k, sizeof(k), "sel%u.read", i);
		out_hex(k, rd(mvg_sel_msr(&pmu, i)));
		wr(mvg_sel_msr(&pmu, i), 0);
		wr(mvg_ctr_msr(&pmu, i), 0);
	}
	for (unsigned i = 0; i < 4 && pmu.intel; i++) {
		if (!fixed_exists(i))
			continue;
		wr(FIXED_CTR0 + i, 0x89ABCDEF0ULL + i);
		mvg_snprintf(k, sizeof(k), "fixed%u.read", i);
		out_hex(k, rd(FIXED_CTR0 + i));
		wr(FIXED_CTR0 + i, 0);
	}
}

static void p_legacy_write(void)
{
	static const uint64_t vals[] = {
		0x7FFFFFFFULL, 0x80000000ULL, 0xDEADBEEF00001234ULL, 0x00000001FFFFFFFFULL,
	};
	char k[32];

	if (!pmu.intel || !pmu.nr_gp)
		return;
	for (unsigned j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
		wr(0xC1, vals[j]);
		mvg_snprintf(k, sizeof(k), "0x%lx", vals[j]);
		out_hex(k, rd(0xC1));
	}
	wr(0xC1, 0);
}

static void p_full_width(void)
{
	uint64_t m = gp_mask();

	if (!pmu.intel || !pmu.nr_gp)
		return;
	if (!pmu.fw_write) {
		out_fault("write", mvg_wrmsr_safe(0x4C1, 0));
		return;
	}
	out_fault("write_max", mvg_wrmsr_safe(0x4C1, m));
	out_hex("read_max", rd(0x4C1));
	out_fault("write_above_width", mvg_wrmsr_safe(0x4C1, m + 1));
	out_hex("read_after_fault", rd(0x4C1));
	out_fault("write_0x80000000", mvg_wrmsr_safe(0x4C1, 0x80000000ULL));
	out_hex("read_0x80000000", rd(0xC1));
	wr(0x4C1, 0);
}

static void rdpmc_out(const char *key, uint32_t ecx)
{
	uint64_t v = 0;

	out_fault(key, mvg_rdpmc_safe(ecx, &v));
}

static void p_nonexistent(void)
{
	unsigned n = pmu.nr_gp;
	uint64_t v = 0;

	out_fault("sel_nr_gp.write", mvg_wrmsr_safe(mvg_sel_msr(&pmu, n), 0));
	out_fault("ctr_nr_gp.write", mvg_wrmsr_safe(mvg_ctr_msr(&pmu, n), 0));
	out_fault("ctr_nr_gp.read", mvg_rdmsr_safe(mvg_ctr_msr(&pmu, n), &v));
	rdpmc_out("rdpmc_nr_gp", n);
	rdpmc_out("rdpmc_0xffff", 0xFFFF);
	rdpmc_out("rdpmc_bit31", 1u << 31);
	rdpmc_out("rdpmc_bit31_idx1", (1u << 31) | 1);
	if (!pmu.intel || pmu.version < 2)
		return;
	for (unsigned i = 0; i < 4; i++) {
		char k[40];

		if (fixed_exists(i))
			continue;
		mvg_snprintf(k, sizeof(k), "fixed%u.write", i);
		out_fault(k, mvg_wrmsr_safe(FIXED_CTR0 + i, 0));
		mvg_snprintf(k, sizeof(k), "fixed%u.read", i);
		out_fault(k, mvg_rdmsr_safe(FIXED_CTR0 + i, &v));
		mvg_snprintf(k, sizeof(k), "fixed%u.rdpmc", i);
		rdpmc_out(k, (1u << 30) | i);
	}
	rdpmc_out("rdpmc_fixed_0xffff", (1u << 30) | 0xFFFF);
}

static volatile int user_fault;
static volatile uint64_t user_val;

static void user_rdpmc(void *arg)
{
	uint64_t v = 0;

	(void)arg;
	user_fault = mvg_rdpmc_safe(0, &v);
	user_val = v;
}

static void p_rdpmc_cpl(void)
{
	uint64_t v = 0;

	wr(mvg_ctr_msr(&pmu, 0), 0x4242);
	mvg_set_cr4_pce(false);
	mvg_run_user(user_rdpmc, 0);
	out_fault("cpl3_pce0", user_fault);
	mvg_set_cr4_pce(true);
	mvg_run_user(user_rdpmc, 0);
	out_fault("cpl3_pce1", user_fault);
	out_hex("cpl3_pce1.value", user_val);
	mvg_set_cr4_pce(false);
	out_fault("cpl0_pce0", mvg_rdpmc_safe(0, &v));
	out_hex("cpl0_pce0.value", v);
	wr(mvg_ctr_msr(&pmu, 0), 0);
}

static void p_evtsel_reserved(void)
{
	uint64_t base = mvg_ev_insns(&pmu) | MVG_EVTSEL_OS;
	uint32_t s = mvg_sel_msr(&pmu, 0);

	if (pmu.intel) {
		out_fault("bit63", mvg_wrmsr_safe(s, base | (1ULL << 63)));
		out_hex("bit63.read", rd(s));
	} else {
		uint64_t v = base | EVTSEL_PC | EVTSEL_ANY | (1ULL << 39) | (1ULL << 63) |
			     AMD_GUESTONLY;

		out_fault("reserved", mvg_wrmsr_safe(s, v));
		out_hex("reserved.read", rd(s));
	}
	wr(s, 0);
}

static void p_anythread(void)
{
	if (!pmu.intel || pmu.version < 3)
		return;
	out_fault("evtsel", mvg_wrmsr_safe(mvg_sel_msr(&pmu, 0),
					   mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | EVTSEL_ANY));
	wr(mvg_sel_msr(&pmu, 0), 0);
	if (fixed_exists(0))
		out_fault("fixed_ctrl", mvg_wrmsr_safe(FIXED_CTRL, 0x1 | 0x4));
	wr(FIXED_CTRL, 0);
}

static uint64_t preset(uint64_t period)
{
	return (0 - period) & gp_mask();
}

static void overflow_run(uint64_t extra_sel, uint32_t lvtpc, const char *pfx)
{
	uint64_t sel = mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR | extra_sel;
	char k[48];

	irq_setup(lvtpc, pmu.nr_gp > 1 ? 1 : -1);
	gp_start(0, sel, preset(PERIOD));
	if (pmu.nr_gp > 1)
		gp_start(1, mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR, 0);
	go(mask(pmu.nr_gp > 1 ? 2 : 1));
	mvg_sti();
	block(5 * PERIOD, 0);
	mvg_cli();
	stop(mask(pmu.nr_gp > 1 ? 2 : 1));
	out_irq(pfx);
	mvg_snprintf(k, sizeof(k), "%s.ctr0", pfx);
	out_u64(k, rd(mvg_ctr_msr(&pmu, 0)));
	if (pmu.has_global) {
		mvg_snprintf(k, sizeof(k), "%s.status", pfx);
		out_hex(k, status());
	}
	mvg_snprintf(k, sizeof(k), "%s.lvtpc_after", pfx);
	out_hex(k, rd(0x834));
	gp_stop_all();
}

static void p_overflow_noint(void)
{
	overflow_run(0, MVG_LVT_NMI, "gp");
	if (!pmu.has_global)
		return;
	wr(mvg_ctr_msr(&pmu, 0), 0);
	out_hex("status_after_ctr_write", status());
	status_clear(1);
	out_hex("status_after_clear", status());
}

static void p_overflow_pmi(void)
{
	overflow_run(MVG_EVTSEL_INT, MVG_LVT_NMI, "nmi");
	status_clear(status());
	overflow_run(MVG_EVTSEL_INT, CONF_VECTOR, "fixed_vector");
	status_clear(status());
	overflow_run(MVG_EVTSEL_INT, MVG_LVT_NMI | MVG_LVT_MASKED, "masked");
	status_clear(status());
}

static void p_overflow_fixed(void)
{
	static const struct { const char *pfx; uint64_t pmi; } t[] = {
		{ "noint", 0 }, { "pmi", 0x8 },
	};
	char k[40];

	if (!pmu.intel || !fixed_exists(0))
		return;
	for (unsigned j = 0; j < 2; j++) {
		irq_setup(MVG_LVT_NMI, -1);
		global_enable(0);
		wr(FIXED_CTR0, (0 - (uint64_t)PERIOD) & mask(pmu.fixed_width));
		wr(FIXED_CTRL, 0x3 | t[j].pmi);
		global_enable(1ULL << 32);
		block(5 * PERIOD, 0);
		global_enable(0);
		out_irq(t[j].pfx);
		mvg_snprintf(k, sizeof(k), "%s.fixed0", t[j].pfx);
		out_u64(k, rd(FIXED_CTR0));
		mvg_snprintf(k, sizeof(k), "%s.status", t[j].pfx);
		out_hex(k, status());
		status_clear(status());
	}
	wr(FIXED_CTRL, 0);
}

static void p_status_set(void)
{
	uint64_t bits = 1;

	if (!pmu.has_status_set)
		return;
	if (pmu.intel && fixed_exists(0))
		bits |= 1ULL << 32;
	out_fault("write", mvg_wrmsr_safe(mvg_global_set_msr(&pmu), bits));
	out_hex("status", status());
	out_hex("set_reads", rd(mvg_global_set_msr(&pmu)));
	status_clear(bits);
	out_hex("status_after_clear", status());
}

static void p_status_readonly(void)
{
	if (!pmu.has_global)
		return;
	out_fault("write", mvg_wrmsr_safe(mvg_global_status_msr(&pmu), 1));
	out_hex("status", status());
}

static void p_amd_alias(void)
{
	char k[32];

	if (!pmu.amd || !pmu.perfctr_core)
		return;
	for (unsigned i = 0; i < 4; i++) {
		wr(0xC0010004 + i, 0x1111 * (i + 1));
		mvg_snprintf(k, sizeof(k), "ctr%u.core", i);
		out_hex(k, rd(0xC0010201 + 2 * i));
		wr(0xC0010200 + 2 * i, mvg_ev_branches(&pmu) | MVG_EVTSEL_OS);
		mvg_snprintf(k, sizeof(k), "ctl%u.legacy", i);
		out_hex(k, rd(0xC0010000 + i));
		wr(0xC0010200 + 2 * i, 0);
		wr(0xC0010201 + 2 * i, 0);
	}
}

static void p_freeze_on_pmi(void)
{
	uint64_t dbg;

	if (!pmu.intel || pmu.version < 4 || pmu.nr_gp < 2)
		return;
	dbg = rd(DEBUGCTL);
	out_fault("debugctl", mvg_wrmsr_safe(DEBUGCTL, dbg | FREEZE_ON_PMI));
	irq_setup(MVG_LVT_NMI, 1);
	gp_start(0, mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_INT, preset(PERIOD));
	gp_start(1, mvg_ev_insns(&pmu) | MVG_EVTSEL_OS, 0);
	global_enable(3);
	block(5 * PERIOD, 0);
	out_irq("frozen");
	out_hex("frozen.status", status());
	out_u64("frozen.ctr1", rd(mvg_ctr_msr(&pmu, 1)));
	status_clear(CTR_FRZ | 1);
	block(PERIOD / 2, 0);
	out_hex("thawed.status", status());
	out_u64("thawed.ctr1", rd(mvg_ctr_msr(&pmu, 1)));
	gp_stop_all();
	wr(DEBUGCTL, dbg);
}

static const struct { const char *name; void (*fn)(void); bool quiesce; } probes[] = {
	{ "discover", p_discover, false },
	{ "perf_caps", p_perf_caps, true },
	{ "global_ctrl_reset", p_global_ctrl_reset, false },
	{ "count_gp", p_count_gp, true },
	{ "count_fixed", p_count_fixed, true },
	{ "privilege", p_privilege, true },
	{ "disabled", p_disabled, true },
	{ "write_read", p_write_read, true },
	{ "legacy_write", p_legacy_write, true },
	{ "full_width", p_full_width, true },
	{ "nonexistent", p_nonexistent, true },
	{ "rdpmc_cpl", p_rdpmc_cpl, true },
	{ "evtsel_reserved", p_evtsel_reserved, true },
	{ "anythread", p_anythread, true },
	{ "overflow_noint", p_overflow_noint, true },
	{ "overflow_pmi", p_overflow_pmi, true },
	{ "overflow_fixed", p_overflow_fixed, true },
	{ "status_set", p_status_set, true },
	{ "status_readonly", p_status_readonly, true },
	{ "amd_alias", p_amd_alias, true },
	{ "freeze_on_pmi", p_freeze_on_pmi, true },
};

int main(void)
{
	mvg_pmu_discover(&pmu);
	mvg_set_handler(MVG_NMI_VECTOR, conf_irq);
	mvg_set_handler(CONF_VECTOR, conf_irq);
	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		probe = probes[i].name;
		if (!pmu.nr_gp && probes[i].fn != p_discover)
			continue;
		if (probes[i].quiesce)
			quiesce();
		probes[i].fn();
	}
	mvg_printf("conf: done=1\n");
	return 0;
}
