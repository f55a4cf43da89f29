/* test_kvm_vpmu: the vPMU as KVM offers it: which accesses exit under each
 * backend, PMIs reaching the guest, PERF_CAPABILITIES, the PMU disable
 * capability and enable_pmu, the EBUSY/EOPNOTSUPP exclusion, guest CPUID. */
#include <errno.h>

#include "kvm_test.h"

#define NR_ACCESSES 5
#define PERIOD 1000

static bool is_intel(const struct kt *t)
{
	return t->cpu[0].model->vendor == HW_INTEL;
}

static uint32_t sel0(const struct kt *t)
{
	return is_intel(t) ? MSR_IA32_PERFEVTSEL0 : MSR_F15H_PERF_CTL0;
}

static uint32_t ctr0(const struct kt *t)
{
	return is_intel(t) ? MSR_IA32_PMC0 : MSR_F15H_PERF_CTR0;
}

/* Instructions retired: event 0xC0 on both vendors. */
#define EV_INSTR 0xC0

/* ---- 3: which accesses exit ---- */

struct exits {
	struct kt *t;
	uint64_t rd, wr, rdpmc;		/* exits by reason across the accesses */
	uint64_t sel_wr;		/* MSR_WRITE exits across selector writes */
};

static void delta_begin(const struct kt *t, uint64_t snap[KVM_EXIT_NR])
{
	memcpy(snap, t->kvm->exits, sizeof(t->kvm->exits));
}

static uint64_t delta(const struct kt *t, const uint64_t snap[KVM_EXIT_NR], enum kvm_exit r)
{
	return t->kvm->exits[r] - snap[r];
}

static void access_counters(struct mv_guest *g, void *arg)
{
	struct exits *e = arg;
	struct kt *t = e->t;
	uint64_t snap[KVM_EXIT_NR], v;

	delta_begin(t, snap);
	for (int i = 0; i < NR_ACCESSES; i++)
		assert_int_equal(mv_rdmsr_safe(g, ctr0(t), &v), X86_OK);
	for (int i = 0; i < NR_ACCESSES; i++)
		assert_int_equal(mv_wrmsr_safe(g, ctr0(t), 100 + (uint64_t)i), X86_OK);
	for (int i = 0; i < NR_ACCESSES; i++)
		assert_int_equal(mv_rdpmc_safe(g, 0, &v), X86_OK);
	assert_int_equal(v, 104);
	e->rd = delta(t, snap, KVM_EXIT_MSR_READ);
	e->wr = delta(t, snap, KVM_EXIT_MSR_WRITE);
	e->rdpmc = delta(t, snap, KVM_EXIT_RDPMC);
	delta_begin(t, snap);
	for (int i = 0; i < NR_ACCESSES; i++)
		assert_int_equal(mv_wrmsr_safe(g, sel0(t), EV_INSTR | EVTSEL_OS |
					       (i & 1 ? EVTSEL_USR : 0)), X86_OK);
	e->sel_wr = delta(t, snap, KVM_EXIT_MSR_WRITE);
	assert_int_equal(delta(t, snap, KVM_EXIT_MSR_READ), 0);
	mv_wrmsr_safe(g, sel0(t), 0);
}

/* `rdpmc_passes`: 7.0 passes RDPMC through only to a guest with the host's
 * GP and fixed counts as perf reports them (not on Ice Lake and later,
 * where the guest gets 3 of 4 fixed counters). */
static void exits_on(const char *model, bool rdpmc_passes)
{
	struct kt t;
	struct exits e = { .t = &t };

	kt_setup(&t, model, MV_VPMU_EMULATED);
	kt_run(&t, access_counters, &e);
	assert_int_equal(e.rd, NR_ACCESSES);
	assert_int_equal(e.wr, NR_ACCESSES);
	assert_int_equal(e.rdpmc, NR_ACCESSES);
	assert_int_equal(e.sel_wr, NR_ACCESSES);
	kt_teardown(&t);

	/* Mediated: counters pass through, selectors still exit, RDPMC as
	 * above. */
	kt_setup(&t, model, MV_VPMU_MEDIATED);
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_MEDIATED);
	kt_run(&t, access_counters, &e);
	assert_int_equal(e.rd, 0);
	assert_int_equal(e.wr, 0);
	assert_int_equal(e.rdpmc, rdpmc_passes ? 0 : NR_ACCESSES);
	assert_int_equal(e.sel_wr, NR_ACCESSES);
	kt_teardown(&t);
}

static void test_exits_intel(void **state)
{
	(void)state;
	exits_on("skylake", true);
	exits_on("sapphirerapids", false);
}

static void test_exits_amd(void **state)
{
	(void)state;
	exits_on("zen4", true);
}

/* ---- 4: PMIs reach the guest handler ---- */

struct pmi {
	struct kt *t;
	uint32_t lvtpc;
	unsigned nr, vector, overflows;
	uint64_t status;
};

static void pmi_handler(struct mv_guest *g, unsigned vector, void *arg)
{
	struct pmi *p = arg;
	uint64_t lvt = 0;

	p->nr++;
	p->vector = vector;
	/* Intel masks LVTPC on delivery: unmask as Linux's handler does. */
	mv_rdmsr_safe(g, MSR_X2APIC_LVTPC, &lvt);
	if (lvt & APIC_LVT_MASKED)
		mv_wrmsr_safe(g, MSR_X2APIC_LVTPC, lvt & ~(uint64_t)APIC_LVT_MASKED);
}

/* Counter 0 preset to -PERIOD with INT, then PERIOD + 500 instructions:
 * one overflow per round. */
static void pmi_guest(struct mv_guest *g, void *arg)
{
	struct pmi *p = arg;
	struct kt *t = p->t;
	struct mv_work w = mv_work_make(PERIOD + 500, true, "pmi");
	uint64_t preset = (0 - (uint64_t)PERIOD) & X86_MASK(48);
	uint32_t ctr = is_intel(t) ? MSR_IA32_A_PMC0 : ctr0(t);
	uint32_t status = is_intel(t) ? MSR_IA32_PERF_GLOBAL_STATUS : MSR_AMD_GLOBAL_STATUS;
	uint32_t clr = is_intel(t) ? MSR_IA32_PERF_GLOBAL_OVF_CTRL : MSR_AMD_GLOBAL_STATUS_CLR;

	mv_set_irq_handler(g, pmi_handler, p);
	assert_int_equal(mv_wrmsr_safe(g, MSR_X2APIC_LVTPC, p->lvtpc), X86_OK);
	for (unsigned r = 0; r < p->overflows; r++) {
		assert_int_equal(mv_wrmsr_safe(g, sel0(t), 0), X86_OK);
		assert_int_equal(mv_wrmsr_safe(g, ctr, preset), X86_OK);
		assert_int_equal(mv_wrmsr_safe(g, sel0(t), EV_INSTR | EVTSEL_OS |
					       EVTSEL_INT | EVTSEL_EN), X86_OK);
		mv_run(g, &w);
		assert_int_equal(mv_rdmsr_safe(g, status, &p->status), X86_OK);
		assert_int_equal(p->status & 1, 1);
		mv_wrmsr_safe(g, clr, 1);
	}
	mv_wrmsr_safe(g, sel0(t), 0);
	mv_set_irq_handler(g, NULL, NULL);
}

static void pmis_on(const char *model, enum mv_vpmu vp)
{
	struct kt t;
	struct pmi p = { .t = &t, .lvtpc = APIC_DM_NMI, .overflows = 3 };

	kt_setup(&t, model, vp);
	assert_int_equal(kvm_vm_vpmu(t.vm), vp);
	kt_run(&t, pmi_guest, &p);
	assert_int_equal(p.nr, 3);
	assert_int_equal(p.vector, NMI_VECTOR);
	assert_int_equal(kvm_vm_guest_pmis(t.vm), 3);
	assert_int_equal(t.sim.inv_violated, 0);

	/* A masked guest LVTPC: the status bit still sets, no PMI. */
	p = (struct pmi){ .t = &t, .lvtpc = APIC_DM_NMI | APIC_LVT_MASKED, .overflows = 2 };
	kt_run(&t, pmi_guest, &p);
	assert_int_equal(p.nr, 0);
	assert_int_equal(kvm_vm_guest_pmis(t.vm), 3);
	kt_teardown(&t);
}

static void test_pmi_emulated(void **state)
{
	(void)state;
	pmis_on("skylake", MV_VPMU_EMULATED);
	pmis_on("zen4", MV_VPMU_EMULATED);
}

static void test_pmi_mediated(void **state)
{
	(void)state;
	pmis_on("skylake", MV_VPMU_MEDIATED);
	pmis_on("sapphirerapids", MV_VPMU_MEDIATED);
	pmis_on("zen4", MV_VPMU_MEDIATED);
}

/* ---- 5: PERF_CAPABILITIES ---- */

struct caps {
	int wr_fault, fw_fault;
	uint64_t val;
	bool pdcm;
};

static void caps_guest(struct mv_guest *g, void *arg)
{
	struct caps *c = arg;
	uint32_t r[4];

	mv_cpuid(g, 1, 0, r);
	c->pdcm = r[2] & CPUID_1_ECX_PDCM;
	c->val = ~0ULL;
	if (c->pdcm)
		assert_int_equal(mv_rdmsr_safe(g, MSR_IA32_PERF_CAPABILITIES, &c->val), X86_OK);
	c->wr_fault = mv_wrmsr_safe(g, MSR_IA32_PERF_CAPABILITIES, c->pdcm ? c->val : 0);
	c->fw_fault = mv_wrmsr_safe(g, MSR_IA32_A_PMC0, 0x123);
}

static void perf_caps_on(enum mv_vpmu vp)
{
	struct kt t;
	struct caps c;

	kt_setup(&t, "skylake", vp);
	/* Bits the host has but KVM does not virtualize (LBR format, PEBS),
	 * and bits the host lacks (PERF_METRICS on skylake), are refused. */
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES,
					 PERF_CAP_FW_WRITE | 0x5, true), X86_GP);
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES,
					 PERF_CAP_FW_WRITE | X86_BIT(15), true), X86_GP);
	/* Before the first run the host may take FW_WRITE away. */
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES, 0, true), X86_OK);
	kt_run(&t, caps_guest, &c);
	assert_false(c.pdcm);
	assert_int_equal(c.wr_fault, X86_GP);
	assert_int_equal(c.fw_fault, X86_GP);	/* no full-width aliases */
	/* After KVM_RUN it is locked; rewriting the same value (userspace
	 * restoring every MSR) is still accepted, as KVM does. */
	assert_true(t.vcpu->ran);
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES,
					 PERF_CAP_FW_WRITE, true), X86_GP);
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES, 0, true), X86_OK);
	assert_int_equal(t.vcpu->pmu.perf_caps, 0);
	kt_teardown(&t);

	/* As the host: the guest reads FW_WRITE, but its write #GPs. */
	kt_setup(&t, "skylake", vp);
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES,
					 PERF_CAP_FW_WRITE, true), X86_OK);
	kt_run(&t, caps_guest, &c);
	assert_true(c.pdcm);
	assert_int_equal(c.val, PERF_CAP_FW_WRITE);
	assert_int_equal(c.wr_fault, X86_GP);
	assert_int_equal(c.fw_fault, X86_OK);
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES, 0, true), X86_GP);
	kt_teardown(&t);
}

static void test_perf_caps_emulated(void **state)
{
	(void)state;
	perf_caps_on(MV_VPMU_EMULATED);
}

static void test_perf_caps_mediated(void **state)
{
	(void)state;
	perf_caps_on(MV_VPMU_MEDIATED);
}

/* ---- IA32_MISC_ENABLE as KVM keeps it ---- */

struct misc {
	uint64_t first, after_rw, after_emon;
	int rd, clear_pebs, clear_bts, rw, emon;
};

static void misc_guest(struct mv_guest *g, void *arg)
{
	struct misc *m = arg;

	m->rd = mv_rdmsr_safe(g, MSR_IA32_MISC_ENABLE, &m->first);
	m->clear_pebs = mv_wrmsr_safe(g, MSR_IA32_MISC_ENABLE, m->first & ~MISC_ENABLE_PEBS_UNAVAIL);
	m->clear_bts = mv_wrmsr_safe(g, MSR_IA32_MISC_ENABLE, m->first & ~MISC_ENABLE_BTS_UNAVAIL);
	m->rw = mv_wrmsr_safe(g, MSR_IA32_MISC_ENABLE, m->first | X86_BIT(0));
	mv_rdmsr_safe(g, MSR_IA32_MISC_ENABLE, &m->after_rw);
	m->emon = mv_wrmsr_safe(g, MSR_IA32_MISC_ENABLE, m->after_rw ^ MISC_ENABLE_EMON);
	mv_rdmsr_safe(g, MSR_IA32_MISC_ENABLE, &m->after_emon);
}

/* KVM emulates IA32_MISC_ENABLE for every vCPU, AMD ones too (x86.c
 * kvm_get/set_msr_common): BTS and PEBS unavailable from reset, EMON
 * added by intel_pmu_refresh when the guest has a PMU.  A guest write
 * that changes BTS/PEBS_UNAVAIL #GPs; one that changes EMON is taken
 * with EMON kept; other bits are stored. */
static void misc_enable_on(const char *model, enum mv_vpmu vp, bool pmu_disabled)
{
	struct mv_vm_config cfg = kt_vm_config();
	uint64_t ro = MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
	char err[160];
	struct misc m;
	struct kt t;

	kt_machine(&t, model, false, vp);
	t.vm = kvm_vm_create(t.kvm, 0, &cfg, err, sizeof(err));
	assert_non_null(t.vm);
	if (pmu_disabled)
		assert_int_equal(kvm_vm_disable_pmu(t.vm), 0);
	t.vcpu = kvm_vcpu_create(t.vm, 0, 0);
	assert_non_null(t.vcpu);
	t.g = kvm_vcpu_guest(t.vcpu);
	kt_run(&t, misc_guest, &m);
	assert_int_equal(m.rd, X86_OK);
	assert_int_equal(m.first, ro | (is_intel(&t) && !pmu_disabled ? MISC_ENABLE_EMON : 0));
	assert_int_equal(m.clear_pebs, X86_GP);
	assert_int_equal(m.clear_bts, X86_GP);
	assert_int_equal(m.rw, X86_OK);
	assert_int_equal(m.after_rw, m.first | X86_BIT(0));
	assert_int_equal(m.emon, X86_OK);
	assert_int_equal(m.after_emon, m.after_rw);
	kt_teardown(&t);
}

static void test_misc_enable(void **state)
{
	(void)state;
	misc_enable_on("sapphirerapids", MV_VPMU_MEDIATED, false);
	misc_enable_on("skylake", MV_VPMU_EMULATED, false);
	misc_enable_on("skylake", MV_VPMU_MEDIATED, true);
	misc_enable_on("zen4", MV_VPMU_MEDIATED, false);
	misc_enable_on("zen3", MV_VPMU_EMULATED, false);
}

/* ---- 6: KVM_CAP_PMU_CAPABILITY disable, enable_pmu ---- */

struct nopmu {
	uint32_t a[4], ext1[4], ext22[4];
	int fault[5];
};

static void nopmu_guest(struct mv_guest *g, void *arg)
{
	struct nopmu *n = arg;
	uint64_t v;

	mv_cpuid(g, 0xA, 0, n->a);
	mv_cpuid(g, 0x80000001, 0, n->ext1);
	mv_cpuid(g, 0x80000022, 0, n->ext22);
	n->fault[0] = mv_rdmsr_safe(g, MSR_IA32_PMC0, &v);
	n->fault[1] = mv_wrmsr_safe(g, MSR_IA32_PERFEVTSEL0, 0xC0 | EVTSEL_EN);
	n->fault[2] = mv_rdpmc_safe(g, 0, &v);
	n->fault[3] = mv_wrmsr_safe(g, MSR_F15H_PERF_CTL0, 0xC0 | EVTSEL_EN);
	n->fault[4] = mv_rdmsr_safe(g, MSR_K7_PERFCTR0, &v);
}

static void check_no_pmu(struct kt *t)
{
	struct nopmu n;

	assert_int_equal(kvm_vm_vpmu(t->vm), MV_VPMU_NONE);
	assert_true(strlen(kvm_vm_fallback_reason(t->vm)) > 0);
	kt_run(t, nopmu_guest, &n);
	if (is_intel(t)) {
		assert_int_equal(n.a[0] & 0xFF, 0);	/* version 0 */
		assert_int_equal(n.fault[0], X86_GP);
		assert_int_equal(n.fault[1], X86_GP);
	} else {
		assert_int_equal(n.ext1[2] & CPUID_80000001_ECX_PERFCTR_CORE, 0);
		assert_int_equal(n.ext22[0] & CPUID_80000022_EAX_PERFMON_V2, 0);
		assert_int_equal(n.fault[3], X86_GP);
		assert_int_equal(n.fault[4], X86_GP);
	}
	assert_int_equal(n.fault[2], X86_GP);
}

static void disable_on(const char *model, enum mv_vpmu vp)
{
	struct mv_vm_config cfg = kt_vm_config();
	char err[160];
	struct kt t;

	kt_machine(&t, model, false, vp);
	t.vm = kvm_vm_create(t.kvm, 0, &cfg, err, sizeof(err));
	assert_non_null(t.vm);
	assert_int_equal(kvm_vm_disable_pmu(t.vm), 0);
	t.vcpu = kvm_vcpu_create(t.vm, 0, 0);
	assert_non_null(t.vcpu);
	t.g = kvm_vcpu_guest(t.vcpu);
	assert_false(t.vcpu->pmu.enabled);
	/* The capability is refused once a vCPU exists. */
	assert_int_equal(kvm_vm_disable_pmu(t.vm), -EINVAL);
	check_no_pmu(&t);
	/* A disabled VM never takes the mediated PMU from perf. */
	assert_false(t.vm->mediated_created);
	kt_teardown(&t);

	/* Without the capability, a vCPU makes it too late. */
	kt_setup(&t, model, vp);
	assert_int_equal(kvm_vm_disable_pmu(t.vm), -EINVAL);
	assert_true(t.vcpu->pmu.enabled);
	kt_teardown(&t);

	/* enable_pmu=false (with or without enable_mediated_pmu, which it
	 * forces off): no vPMU for any VM, and the capability is refused. */
	struct kvm_params off = kt_params(vp);

	off.enable_pmu = false;
	kt_machine_params(&t, model, false, &off);
	assert_false(kvm_get_params(t.kvm)->enable_mediated_pmu);
	t.vm = kvm_vm_create(t.kvm, 0, &cfg, err, sizeof(err));
	assert_non_null(t.vm);
	assert_int_equal(kvm_vm_disable_pmu(t.vm), -EINVAL);
	t.vcpu = kvm_vcpu_create(t.vm, 0, 0);
	assert_non_null(t.vcpu);
	t.g = kvm_vcpu_guest(t.vcpu);
	assert_false(t.vcpu->pmu.enabled);
	check_no_pmu(&t);
	kt_teardown(&t);
}

static void test_disable_pmu(void **state)
{
	(void)state;
	disable_on("skylake", MV_VPMU_MEDIATED);
	disable_on("skylake", MV_VPMU_EMULATED);
	disable_on("zen4", MV_VPMU_MEDIATED);
}

/* ---- 7: EBUSY (no fallback) and EOPNOTSUPP ---- */

static int open_host(struct kt *t, bool exclude_guest, struct perf_event **ev)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_HARDWARE,
		.config = PERF_COUNT_HW_INSTRUCTIONS,
		.exclude_guest = exclude_guest,
	};

	*ev = NULL;
	return perf_event_open(t->host, &attr, 0, NULL, NULL, NULL, ev);
}

static void exclusion_on(const char *model)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct perf_event *ev, *ev2;
	struct kt t;

	char err[160];
	struct kvm_vcpu *v;

	/* A host event that counts guests makes perf refuse the mediated
	 * PMU: in 7.0 the first KVM_CREATE_VCPU fails with EBUSY and the
	 * kernel warns; there is no fallback to the legacy vPMU.  Every
	 * retry fails the same way while the event exists. */
	kt_machine(&t, model, false, MV_VPMU_MEDIATED);
	assert_int_equal(open_host(&t, false, &ev), 0);
	t.vm = kvm_vm_create(t.kvm, 0, &cfg, err, sizeof(err));
	assert_non_null(t.vm);
	for (int tries = 0; tries < 2; tries++) {
		assert_null(kvm_vcpu_create(t.vm, 0, 0));
		assert_int_equal(kvm_vm_create_error(t.vm), -EBUSY);
	}
	assert_non_null(strstr(kvm_vm_warning(t.vm), "Failed to enable mediated vPMU"));
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_NONE);
	assert_int_equal(t.vm->nr_vcpus, 0);
	assert_false(t.vm->mediated_created);
	assert_int_equal(perf_nr_mediated_vms(t.host), 0);
	/* No vCPU and no mediated PMU: the VMM may still disable the PMU,
	 * and then the vCPU is created without one. */
	assert_int_equal(kvm_vm_disable_pmu(t.vm), 0);
	v = kvm_vcpu_create(t.vm, 0, 0);
	assert_non_null(v);
	assert_false(v->pmu.enabled);
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_NONE);
	perf_event_close(ev);
	kt_teardown(&t);

	/* Once the mediated PMU exists the capability is refused, even with
	 * no vCPU: a creation that fails after the precreate keeps it. */
	kt_machine(&t, model, false, MV_VPMU_MEDIATED);
	t.vm = kvm_vm_create(t.kvm, 0, &cfg, err, sizeof(err));
	assert_non_null(t.vm);
	assert_null(kvm_vcpu_create(t.vm, 0, KT_MAX_CPUS));	/* no such pCPU */
	assert_int_equal(kvm_vm_create_error(t.vm), -EINVAL);
	assert_true(t.vm->mediated_created);
	assert_int_equal(t.vm->nr_vcpus, 0);
	assert_int_equal(kvm_vm_disable_pmu(t.vm), -EINVAL);
	kt_teardown(&t);

	/* The reverse: with a mediated VM, such an event is refused, while
	 * exclude_guest events open; once the VM is gone it opens again. */
	kt_setup(&t, model, MV_VPMU_MEDIATED);
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_MEDIATED);
	assert_int_equal(open_host(&t, false, &ev), -EOPNOTSUPP);
	assert_null(ev);
	assert_int_equal(open_host(&t, true, &ev2), 0);
	kvm_vm_destroy(t.vm);
	t.vm = NULL;
	assert_int_equal(open_host(&t, false, &ev), 0);
	perf_event_close(ev);
	perf_event_close(ev2);
	kt_teardown(&t);

	/* A VM asking for the emulated vPMU takes nothing from perf. */
	kt_setup(&t, model, MV_VPMU_EMULATED);
	assert_int_equal(open_host(&t, false, &ev), 0);
	perf_event_close(ev);
	kt_teardown(&t);
}

static void test_ebusy_eopnotsupp(void **state)
{
	(void)state;
	exclusion_on("skylake");
	exclusion_on("zen4");
}

/* ---- 8: guest CPUID from the VM config, limited by the host ---- */

struct shape {
	uint32_t a[4], ext1[4], ext22[4];
	int sel_fault[3];
};

static void shape_guest(struct mv_guest *g, void *arg)
{
	struct shape *s = arg;

	mv_cpuid(g, 0xA, 0, s->a);
	mv_cpuid(g, 0x80000001, 0, s->ext1);
	mv_cpuid(g, 0x80000022, 0, s->ext22);
	/* Selectors 1, 2 and 5: present only when the guest has them. */
	if (s->a[0] & 0xFF) {
		s->sel_fault[0] = mv_wrmsr_safe(g, MSR_IA32_PERFEVTSEL0 + 1, 0);
		s->sel_fault[1] = mv_wrmsr_safe(g, MSR_IA32_PERFEVTSEL0 + 2, 0);
		s->sel_fault[2] = mv_wrmsr_safe(g, MSR_IA32_PERFEVTSEL0 + 5, 0);
	} else {
		s->sel_fault[0] = mv_wrmsr_safe(g, MSR_F15H_PERF_CTL0 + 2, 0);
		s->sel_fault[1] = mv_wrmsr_safe(g, MSR_F15H_PERF_CTL0 + 4, 0);
		s->sel_fault[2] = mv_wrmsr_safe(g, MSR_F15H_PERF_CTL0 + 10, 0);
	}
}

static void shape_p(const char *model, enum mv_vpmu vp, uint32_t patches, int version,
		    int nr_gp, int nr_fixed, struct shape *s)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct kvm_params params = kt_params(vp);
	struct kt t;

	cfg.pmu_version = version;
	cfg.nr_gp = nr_gp;
	cfg.nr_fixed = nr_fixed;
	params.patches = patches;
	kt_machine_params(&t, model, false, &params);
	kt_vm(&t, &cfg);
	assert_int_equal(kvm_vm_vpmu(t.vm), vp);
	memset(s, 0, sizeof(*s));
	kt_run(&t, shape_guest, s);
	kt_teardown(&t);
}

static void shape(const char *model, enum mv_vpmu vp, int version, int nr_gp,
		  int nr_fixed, struct shape *s)
{
	shape_p(model, vp, 0, version, nr_gp, nr_fixed, s);
}

#define A_VERSION(s) ((s).a[0] & 0xFF)
#define A_NR_GP(s) (((s).a[0] >> 8) & 0xFF)
#define A_WIDTH(s) (((s).a[0] >> 16) & 0xFF)
#define D_NR_FIXED(s) ((s).a[3] & 0x1F)

/* Linux 7.0's cap (kvm_init_pmu_capability) for every Intel guest, both
 * vPMUs: version <= 2, GP as the host (<= 8), fixed <= 3; the Feb 2026
 * fixed-counter-3 proposal lifts the fixed cap to 4 for the mediated vPMU
 * only.  A guest asking for the host's shape (-1) gets the cap. */
static const struct {
	const char *model;
	enum mv_vpmu vp;
	uint32_t patches;
	unsigned version, gp, fixed;
} intel_caps[] = {
	{ "skylake", MV_VPMU_EMULATED, 0, 2, 4, 3 },
	{ "skylake", MV_VPMU_MEDIATED, 0, 2, 4, 3 },
	{ "skylake", MV_VPMU_MEDIATED, MV_PATCH_FIXED_COUNTER_3, 2, 4, 3 },
	{ "icelake", MV_VPMU_EMULATED, 0, 2, 8, 3 },
	{ "icelake", MV_VPMU_MEDIATED, 0, 2, 8, 3 },
	{ "icelake", MV_VPMU_MEDIATED, MV_PATCH_FIXED_COUNTER_3, 2, 8, 4 },
	{ "icelake", MV_VPMU_EMULATED, MV_PATCH_FIXED_COUNTER_3, 2, 8, 3 },
	{ "sapphirerapids", MV_VPMU_EMULATED, 0, 2, 8, 3 },
	{ "sapphirerapids", MV_VPMU_MEDIATED, 0, 2, 8, 3 },
	{ "sapphirerapids", MV_VPMU_MEDIATED, MV_PATCH_FIXED_COUNTER_3, 2, 8, 4 },
	{ "sapphirerapids", MV_VPMU_EMULATED, MV_PATCH_FIXED_COUNTER_3, 2, 8, 3 },
};

static void test_cpuid_intel(void **state)
{
	struct shape s;

	(void)state;
	for (size_t i = 0; i < sizeof(intel_caps) / sizeof(intel_caps[0]); i++) {
		shape_p(intel_caps[i].model, intel_caps[i].vp, intel_caps[i].patches,
			-1, -1, -1, &s);
		if (A_VERSION(s) != intel_caps[i].version || A_NR_GP(s) != intel_caps[i].gp ||
		    D_NR_FIXED(s) != intel_caps[i].fixed)
			fail_msg("%s vpmu %d patches %#x: v%u %u GP %u fixed, want v%u %u %u",
				 intel_caps[i].model, intel_caps[i].vp, intel_caps[i].patches,
				 A_VERSION(s), A_NR_GP(s), D_NR_FIXED(s), intel_caps[i].version,
				 intel_caps[i].gp, intel_caps[i].fixed);
		assert_int_equal(A_WIDTH(s), 48);
		assert_int_equal(s.a[2], 0);	/* ECX fixed bitmap: a v5 field */
		assert_int_equal((s.a[3] >> 5) & 0xFF, 48);	/* fixed width */
	}
	/* Below the cap: exactly what the config asks. */
	shape("skylake", MV_VPMU_MEDIATED, 2, 2, 1, &s);
	assert_int_equal(A_VERSION(s), 2);
	assert_int_equal(A_NR_GP(s), 2);
	assert_int_equal(D_NR_FIXED(s), 1);
	assert_int_equal(s.sel_fault[0], X86_OK);
	assert_int_equal(s.sel_fault[1], X86_GP);
	/* Above it: capped (v2, skylake's 4 GP, 3 fixed). */
	shape("skylake", MV_VPMU_MEDIATED, 9, 16, 8, &s);
	assert_int_equal(A_VERSION(s), 2);
	assert_int_equal(A_NR_GP(s), 4);
	assert_int_equal(D_NR_FIXED(s), 3);
	assert_int_equal(s.sel_fault[1], X86_OK);
	assert_int_equal(s.sel_fault[2], X86_GP);
	shape("sapphirerapids", MV_VPMU_MEDIATED, 5, -1, 4, &s);
	assert_int_equal(A_VERSION(s), 2);
	assert_int_equal(D_NR_FIXED(s), 3);
	assert_int_equal(s.sel_fault[2], X86_OK);
	/* Version 1: no fixed counters whatever the config asks. */
	shape("skylake", MV_VPMU_EMULATED, 1, 3, 3, &s);
	assert_int_equal(A_VERSION(s), 1);
	assert_int_equal(A_NR_GP(s), 3);
	assert_int_equal(s.a[3], 0);
}

static void test_cpuid_amd(void **state)
{
	struct shape s;

	(void)state;
	shape("zen4", MV_VPMU_MEDIATED, -1, -1, -1, &s);
	assert_true(s.ext22[0] & CPUID_80000022_EAX_PERFMON_V2);
	assert_int_equal(s.ext22[1] & 0xF, 6);
	assert_true(s.ext1[2] & CPUID_80000001_ECX_PERFCTR_CORE);
	assert_int_equal(s.sel_fault[2], X86_OK);
	/* Fewer counters than the host. */
	shape("zen4", MV_VPMU_MEDIATED, -1, 5, -1, &s);
	assert_int_equal(s.ext22[1] & 0xF, 5);
	assert_int_equal(s.sel_fault[1], X86_OK);
	assert_int_equal(s.sel_fault[2], X86_GP);
	/* More than the host: capped at 6. */
	shape("zen5", MV_VPMU_EMULATED, -1, 12, -1, &s);
	assert_int_equal(s.ext22[1] & 0xF, 6);
	/* Version 1: no PerfMonV2. */
	shape("zen4", MV_VPMU_EMULATED, 1, -1, -1, &s);
	assert_int_equal(s.ext22[0] & CPUID_80000022_EAX_PERFMON_V2, 0);
	/* zen3 has no PerfMonV2 to give. */
	shape("zen3", MV_VPMU_EMULATED, 2, -1, -1, &s);
	assert_int_equal(s.ext22[0] & CPUID_80000022_EAX_PERFMON_V2, 0);
	assert_true(s.ext1[2] & CPUID_80000001_ECX_PERFCTR_CORE);
}

/* ---- 9: the legacy vPMU's events never count host work ---- */

struct split {
	struct kt *t;
	uint64_t truth0, val;
	int phase;
};

static uint64_t guest_instructions(const struct kt *t)
{
	return sim_truth_get(&t->sim.truth, t->vcpu->ctx, MV_EV_INSTRUCTIONS, true, true);
}

/* Phase 0 programs GP counter 0 for instructions in both modes and runs
 * some guest work; phase 1 (the next KVM_RUN) runs more and reads it. */
static void split_guest(struct mv_guest *g, void *arg)
{
	struct split *s = arg;
	struct mv_work u = mv_work_make(3000, false, "guest user");
	struct mv_work k = mv_work_make(2000, true, "guest kernel");

	if (s->phase == 0) {
		assert_int_equal(mv_wrmsr_safe(g, ctr0(s->t), 0), X86_OK);
		s->truth0 = guest_instructions(s->t);
		assert_int_equal(mv_wrmsr_safe(g, sel0(s->t), EV_INSTR | EVTSEL_USR | EVTSEL_OS |
					       EVTSEL_EN), X86_OK);
	}
	mv_run(g, &u);
	mv_run(g, &k);
	if (s->phase == 1)
		assert_int_equal(mv_rdmsr_safe(g, ctr0(s->t), &s->val), X86_OK);
}

static bool split_step(void *arg)
{
	struct split *s = arg;

	split_guest(s->t->g, s);
	return false;
}

/* The vCPU thread runs host code between two KVM_RUNs (the VMM handling
 * an exit in userspace, the kernel's ioctl path) with its perf events
 * scheduled: they are exclude_host (pmc_reprogram_counter), so the
 * guest's counter holds its own instructions only (Intel: out of the
 * host GLOBAL_CTRL value, AMD: GuestOnly). */
static void legacy_no_host_work_on(const char *model)
{
	struct kt t;
	struct split s = { .t = &t };
	struct mv_work hu = mv_work_make(7000, false, "vmm userspace");
	struct mv_work hk = mv_work_make(4000, true, "kvm ioctl");
	int cpu;

	kt_setup(&t, model, MV_VPMU_EMULATED);
	cpu = kvm_vcpu_pcpu(t.vcpu);
	perf_task_switch(t.host, cpu, NULL, kvm_vcpu_task(t.vcpu));
	kvm_vcpu_run(t.vcpu, split_step, &s, UINT64_MAX);
	assert_non_null(t.vcpu->pmu.gp[0].perf_event);
	assert_true(perf_event_hw_idx(t.vcpu->pmu.gp[0].perf_event) >= 0);
	hw_run_work(&t.cpu[cpu], &hu);
	hw_run_work(&t.cpu[cpu], &hk);
	s.phase = 1;
	kvm_vcpu_run(t.vcpu, split_step, &s, UINT64_MAX);
	perf_task_switch(t.host, cpu, kvm_vcpu_task(t.vcpu), NULL);
	/* The host work is in the host's truth, the guest's in the guest's. */
	assert_int_equal(sim_truth_get(&t.sim.truth, 0, MV_EV_INSTRUCTIONS, true, true), 11000);
	if (s.val != guest_instructions(&t) - s.truth0)
		fail_msg("%s: the guest's counter holds %llu, the guest ran %llu", model,
			 (unsigned long long)s.val,
			 (unsigned long long)(guest_instructions(&t) - s.truth0));
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

static void test_legacy_counts_no_host_work(void **state)
{
	(void)state;
	legacy_no_host_work_on("skylake");
	legacy_no_host_work_on("sapphirerapids");
	legacy_no_host_work_on("zen4");
	legacy_no_host_work_on("zen3");
}

/* ---- 10: fixed counters at one privilege level, under each vPMU ---- */

struct fixed_priv {
	struct kt *t;		/* NULL: bare metal */
	struct hw_cpu *cpu;
	int ctx;
	uint64_t ctrl;		/* FIXED_CTR_CTRL */
	uint64_t val[3], truth[3];
};

static uint64_t truth_of(const struct fixed_priv *f, enum mv_event ev, bool user, bool kernel)
{
	return sim_truth_get(&f->cpu->sim->truth, f->ctx, ev, user, kernel);
}

/* Fixed counters 0-2 (instructions, core cycles, reference cycles) with
 * the enables in `ctrl`, over user and kernel work. */
static void fixed_priv_guest(struct mv_guest *g, void *arg)
{
	static const enum mv_event ev[3] = { MV_EV_INSTRUCTIONS, MV_EV_CYCLES, MV_EV_REF_CYCLES };
	struct fixed_priv *f = arg;
	struct mv_work u = mv_work_make(30000, false, "fixed user");
	struct mv_work k = mv_work_make(20000, true, "fixed kernel");
	uint64_t t0[3][2];

	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_FIXED_CTR0 + i, 0), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_FIXED_CTR_CTRL, f->ctrl), X86_OK);
	for (unsigned i = 0; i < 3; i++) {
		t0[i][0] = truth_of(f, ev[i], true, false);
		t0[i][1] = truth_of(f, ev[i], false, true);
	}
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_PERF_GLOBAL_CTRL, X86_MASK(3) << 32), X86_OK);
	mv_run(g, &u);
	mv_run(g, &k);
	mv_run(g, &u);
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_PERF_GLOBAL_CTRL, 0), X86_OK);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t field = (f->ctrl >> (4 * i)) & 3;

		assert_int_equal(mv_rdmsr_safe(g, MSR_IA32_FIXED_CTR0 + i, &f->val[i]), X86_OK);
		f->truth[i] = (field & FIXED_CTRL_USR ? truth_of(f, ev[i], true, false) - t0[i][0] : 0) +
			      (field & FIXED_CTRL_OS ? truth_of(f, ev[i], false, true) - t0[i][1] : 0);
	}
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_FIXED_CTR_CTRL, 0), X86_OK);
}

static void check_fixed_priv(const struct fixed_priv *f, const char *model, const char *how)
{
	for (unsigned i = 0; i < 3; i++) {
		if (!f->truth[i] && ((f->ctrl >> (4 * i)) & 3))
			fail_msg("%s %s: fixed %u counts a mode with no work", model, how, i);
		if (f->val[i] != f->truth[i])
			fail_msg("%s %s ctrl %#llx: fixed %u counted %llu, truth %llu", model, how,
				 (unsigned long long)f->ctrl, i, (unsigned long long)f->val[i],
				 (unsigned long long)f->truth[i]);
	}
}

/* Each fixed counter's field selects OS (bit 0) or USR (bit 1) alone
 * (SDM 21.2.2, FACTS.md s.1): each counts only the work of that mode, on
 * bare metal and under both vPMUs (legacy: a perf event with
 * exclude_user/exclude_kernel; mediated: the field in the hardware). */
static void test_fixed_single_privilege(void **state)
{
	static const uint64_t ctrls[] = {
		FIXED_CTRL_FIELD(0, FIXED_CTRL_OS) | FIXED_CTRL_FIELD(1, FIXED_CTRL_USR) |
			FIXED_CTRL_FIELD(2, FIXED_CTRL_OS),
		FIXED_CTRL_FIELD(0, FIXED_CTRL_USR) | FIXED_CTRL_FIELD(1, FIXED_CTRL_OS) |
			FIXED_CTRL_FIELD(2, FIXED_CTRL_USR),
		FIXED_CTRL_FIELD(1, FIXED_CTRL_OS | FIXED_CTRL_USR),
	};
	static const char *const models[] = { "skylake", "sapphirerapids" };

	(void)state;
	for (size_t m = 0; m < 2; m++)
		for (size_t c = 0; c < sizeof(ctrls) / sizeof(ctrls[0]); c++) {
			struct fixed_priv f = { .ctrl = ctrls[c] };
			struct sim sim;
			struct hw_cpu cpu;
			struct guest_bare gb;

			/* Bare metal, the reference. */
			sim_init(&sim, 1, false);
			hw_cpu_init(&cpu, 0, &sim, hw_model_find(models[m]));
			guest_bare_init(&gb, &cpu, 1);
			f.cpu = &cpu;
			f.ctx = 1;
			fixed_priv_guest(&gb.g, &f);
			check_fixed_priv(&f, models[m], "bare metal");
			sim_free(&sim);
			for (int vp = MV_VPMU_EMULATED; vp <= MV_VPMU_MEDIATED; vp++) {
				struct kt t;

				kt_setup(&t, models[m], (enum mv_vpmu)vp);
				f = (struct fixed_priv){ .t = &t, .cpu = &t.cpu[0],
							 .ctx = t.vcpu->ctx, .ctrl = ctrls[c] };
				kt_run(&t, fixed_priv_guest, &f);
				check_fixed_priv(&f, models[m], vp == MV_VPMU_MEDIATED ? "mediated" :
						 "emulated");
				assert_int_equal(t.sim.inv_violated, 0);
				kt_teardown(&t);
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exits_intel),
		cmocka_unit_test(test_exits_amd),
		cmocka_unit_test(test_pmi_emulated),
		cmocka_unit_test(test_pmi_mediated),
		cmocka_unit_test(test_perf_caps_emulated),
		cmocka_unit_test(test_perf_caps_mediated),
		cmocka_unit_test(test_misc_enable),
		cmocka_unit_test(test_disable_pmu),
		cmocka_unit_test(test_ebusy_eopnotsupp),
		cmocka_unit_test(test_cpuid_intel),
		cmocka_unit_test(test_cpuid_amd),
		cmocka_unit_test(test_legacy_counts_no_host_work),
		cmocka_unit_test(test_fixed_single_privilege),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
