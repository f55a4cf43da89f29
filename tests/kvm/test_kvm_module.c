/* test_kvm_module: the vPMU decided once for the host, as Linux 7.0's module
 * parameters decide it: the host checks at load (zen3, hybrid), every VM of
 * a mediated host mediated, the per-VM disable capability, a VM without an
 * in-kernel irqchip; and the legacy vPMU's pinned perf events. */
#include <errno.h>

#include "kvm_test.h"

static struct kvm_vm *add_vm(struct kt *t, int index, const struct mv_vm_config *cfg,
			     struct kvm_vcpu **vcpu)
{
	char err[160];
	struct kvm_vm *vm = kvm_vm_create(t->kvm, index, cfg, err, sizeof(err));

	assert_non_null(vm);
	*vcpu = kvm_vcpu_create(vm, 0, index % KT_MAX_CPUS);
	assert_non_null(*vcpu);
	return vm;
}

/* The host requirements are checked once, at load: on zen3 (no PerfMonV2)
 * enable_mediated_pmu is forced off and every VM gets the legacy vPMU,
 * with the reason. */
static void test_zen3_forced_off(void **state)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct kvm_vcpu *v0, *v1;
	struct kvm_vm *a, *b;
	struct kt t;

	(void)state;
	kt_machine(&t, "zen3", false, MV_VPMU_MEDIATED);
	assert_true(kvm_get_params(t.kvm)->enable_pmu);
	assert_false(kvm_get_params(t.kvm)->enable_mediated_pmu);
	assert_non_null(strstr(kvm_params_reason(t.kvm), "PerfMonV2"));
	a = add_vm(&t, 0, &cfg, &v0);
	b = add_vm(&t, 1, &cfg, &v1);
	assert_int_equal(kvm_vm_vpmu(a), MV_VPMU_EMULATED);
	assert_int_equal(kvm_vm_vpmu(b), MV_VPMU_EMULATED);
	assert_false(v0->pmu.mediated || v1->pmu.mediated);
	assert_non_null(strstr(kvm_vm_fallback_reason(a), "PerfMonV2"));
	assert_int_equal(perf_nr_mediated_vms(t.host), 0);
	kt_teardown(&t);
}

/* A hybrid host gets no vPMU at all (kvm_init_pmu_capability turns
 * enable_pmu off).  No preset is hybrid, so a copy of skylake is. */
static void test_hybrid_no_vpmu(void **state)
{
	struct hw_model hybrid = *hw_model_find("skylake");
	struct kvm_params params = kt_params(MV_VPMU_MEDIATED);
	struct mv_vm_config cfg = kt_vm_config();
	struct kt t;

	(void)state;
	hybrid.hybrid = true;
	kt_machine_model(&t, &hybrid, false, &params);
	assert_false(kvm_get_params(t.kvm)->enable_pmu);
	assert_false(kvm_get_params(t.kvm)->enable_mediated_pmu);
	assert_non_null(strstr(kvm_params_reason(t.kvm), "hybrid"));
	kt_vm(&t, &cfg);
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_NONE);
	assert_false(t.vcpu->pmu.enabled);
	assert_non_null(strstr(kvm_vm_fallback_reason(t.vm), "hybrid"));
	kt_teardown(&t);

	/* The same host without the flag keeps both. */
	kt_machine(&t, "skylake", false, MV_VPMU_MEDIATED);
	assert_true(kvm_get_params(t.kvm)->enable_mediated_pmu);
	assert_string_equal(kvm_params_reason(t.kvm), "");
	kt_teardown(&t);
}

/* Module-wide: on a mediated host every VM with a PMU is mediated; one VM
 * may still disable its own PMU, and a VM without an in-kernel irqchip has
 * it disabled (kvm_arch_vcpu_precreate). */
static void test_mediated_host_every_vm(void **state)
{
	struct mv_vm_config plain = kt_vm_config(), off = kt_vm_config(), noirq = kt_vm_config();
	struct kvm_vcpu *v[3];
	struct kvm_vm *vm[3];
	struct kt t;

	(void)state;
	off.disable_pmu = true;
	noirq.no_irqchip = true;
	kt_machine(&t, "sapphirerapids", false, MV_VPMU_MEDIATED);
	vm[0] = add_vm(&t, 0, &plain, &v[0]);
	vm[1] = add_vm(&t, 1, &off, &v[1]);
	vm[2] = add_vm(&t, 2, &noirq, &v[2]);
	assert_int_equal(kvm_vm_vpmu(vm[0]), MV_VPMU_MEDIATED);
	assert_true(v[0]->pmu.mediated);
	assert_int_equal(kvm_vm_vpmu(vm[1]), MV_VPMU_NONE);
	assert_false(v[1]->pmu.enabled);
	assert_non_null(strstr(kvm_vm_fallback_reason(vm[1]), "disabled"));
	assert_int_equal(kvm_vm_vpmu(vm[2]), MV_VPMU_NONE);
	assert_false(v[2]->pmu.enabled);
	assert_non_null(strstr(kvm_vm_fallback_reason(vm[2]), "irqchip"));
	/* Only the VM with a PMU took the mediated PMU from perf. */
	assert_int_equal(perf_nr_mediated_vms(t.host), 1);
	kt_teardown(&t);
}

struct pmi_count {
	unsigned calls;
	uint64_t status;
};

static void count_pmi(struct mv_guest *g, unsigned vector, void *arg)
{
	struct pmi_count *c = arg;

	(void)g; (void)vector;
	c->calls++;
}

static void overflow_guest(struct mv_guest *g, void *arg)
{
	struct pmi_count *c = arg;
	struct mv_work w = mv_work_make(1000, false, "w");

	mv_set_irq_handler(g, count_pmi, c);
	assert_int_equal(mv_wrmsr_safe(g, MSR_X2APIC_LVTPC, APIC_DM_NMI), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_PMC0, (uint64_t)-100), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_PERFEVTSEL0,
				       0xC0 | EVTSEL_USR | EVTSEL_INT | EVTSEL_EN), X86_OK);
	mv_run(g, &w);
	assert_int_equal(mv_rdmsr_safe(g, MSR_IA32_PERF_GLOBAL_STATUS, &c->status), X86_OK);
}

/* The legacy vPMU without an in-kernel irqchip keeps its counters (only
 * the mediated vPMU disables the PMU there), but KVM delivers PMIs only
 * through an in-kernel LAPIC (kvm_pmu_deliver_pmi). */
static void test_legacy_without_irqchip(void **state)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct pmi_count c = { 0 };
	struct kt t;

	(void)state;
	cfg.no_irqchip = true;
	kt_machine(&t, "skylake", false, MV_VPMU_EMULATED);
	kt_vm(&t, &cfg);
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_EMULATED);
	kt_run(&t, overflow_guest, &c);
	assert_int_equal(c.status & 1, 1);	/* it overflowed */
	assert_int_equal(c.calls, 0);
	assert_int_equal(kvm_vm_guest_pmis(t.vm), 0);
	kt_teardown(&t);

	/* With one, the same guest gets its PMI. */
	cfg.no_irqchip = false;
	c = (struct pmi_count){ 0 };
	kt_machine(&t, "skylake", false, MV_VPMU_EMULATED);
	kt_vm(&t, &cfg);
	kt_run(&t, overflow_guest, &c);
	assert_int_equal(c.calls, 1);
	kt_teardown(&t);
}

/* ---- the legacy vPMU's perf events ---- */

static void count_insns(struct mv_guest *g, void *arg)
{
	uint64_t *val = arg;
	struct mv_work w = mv_work_make(1000, false, "w");

	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_PMC0, 0), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_PERFEVTSEL0,
				       0xC0 | EVTSEL_USR | EVTSEL_EN), X86_OK);
	mv_run(g, &w);
	assert_int_equal(mv_rdmsr_safe(g, MSR_IA32_PMC0, val), X86_OK);
}

/* Host events on CPU 0 that take every skylake counter (3 fixed, 4 GP). */
static const char *const fill_all[] = {
	"instructions", "cycles", "ref-cycles", "branches", "branch-misses",
	"cache-references", "cache-misses",
};

static void open_all(struct kt *t, bool pinned, struct perf_event **ev)
{
	for (size_t i = 0; i < sizeof(fill_all) / sizeof(fill_all[0]); i++) {
		struct perf_event_attr a;

		assert_int_equal(perf_parse_event(fill_all[i], &a, NULL, 0), 0);
		a.pinned = pinned;
		assert_int_equal(perf_event_open(t->host, &a, 0, NULL, NULL, NULL, &ev[i]), 0);
		assert_true(perf_event_hw_idx(ev[i]) >= 0);
	}
}

/* KVM's events are pinned, exclude_idle, exclude_host (pmc_reprogram_counter):
 * a pinned task event goes before the CPU's flexible events, so the guest
 * counts exactly even though host events held every counter; against pinned
 * host events it cannot get a counter and goes to perf's error state: it is
 * not multiplexed, and the guest reads the stale value (here its 0). */
static void test_legacy_events_pinned(void **state)
{
	struct perf_event *host[7];
	const struct perf_event_attr *a;
	uint64_t val = ~0ULL;
	struct kt t;

	(void)state;
	kt_setup(&t, "skylake", MV_VPMU_EMULATED);
	open_all(&t, false, host);
	kt_run(&t, count_insns, &val);
	assert_int_equal(val, 1000);
	a = perf_event_attr_of(t.vcpu->pmu.gp[0].perf_event);
	assert_non_null(a);
	assert_true(a->pinned && a->exclude_idle && a->exclude_host);
	for (size_t i = 0; i < 7; i++)
		perf_event_close(host[i]);
	kt_teardown(&t);

	kt_setup(&t, "skylake", MV_VPMU_EMULATED);
	open_all(&t, true, host);
	kt_run(&t, count_insns, &val);
	assert_int_equal(val, 0);
	assert_non_null(t.vcpu->pmu.gp[0].perf_event);
	assert_int_equal(perf_event_hw_idx(t.vcpu->pmu.gp[0].perf_event), -1);
	/* Every host event kept its counter. */
	for (size_t i = 0; i < 7; i++) {
		assert_true(perf_event_hw_idx(host[i]) >= 0);
		perf_event_close(host[i]);
	}
	kt_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zen3_forced_off),
		cmocka_unit_test(test_hybrid_no_vpmu),
		cmocka_unit_test(test_mediated_host_every_vm),
		cmocka_unit_test(test_legacy_without_irqchip),
		cmocka_unit_test(test_legacy_events_pinned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
