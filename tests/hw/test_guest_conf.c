/* The conformance probes on bare metal for every model: the log's key
 * observations against FACTS.md (which pins the log format the VM
 * equivalence test compares), state restored, the probe table. */
#include <stdio.h>
#include <stdlib.h>

#include "guest/guest_bare.h"
#include "guest/guest_conf.h"
#include "hw_facts.c"

/* The probes count a block of 10000 kernel + 5000 user instructions,
 * n/5 branches, cycles 3n/5, ref cycles 2n/5, slots 12n/5 (guest_conf.c
 * `block`); overflow probes preset -1000 and run 10000 instructions. */
#define P_INSTR 15000
#define P_BRANCH 3000
#define P_PERIOD 1000

struct bare {
	struct sim sim;
	struct hw_cpu cpu;
	struct guest_bare gb;
	struct guest_conf_log log;
};

static struct bare *bare_new(const struct fact_model *f)
{
	struct bare *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	sim_init(&b->sim, 7, false);
	hw_cpu_init(&b->cpu, 0, &b->sim, hw_model_find(f->name));
	guest_bare_init(&b->gb, &b->cpu, 1);
	guest_conf_log_init(&b->log);
	return b;
}

static void bare_free(struct bare *b)
{
	sim_free(&b->sim);
	free(b);
}

static uint64_t get(const struct bare *b, const char *probe, const char *key)
{
	uint64_t v = 0;

	if (!guest_conf_u64(&b->log, probe, key, &v))
		fail_msg("missing %s: %s", probe, key);
	return v;
}

static void expect_str(const struct bare *b, const char *probe,
		       const char *key, const char *want)
{
	char buf[64];

	if (!guest_conf_value(&b->log, probe, key, buf, sizeof(buf)))
		fail_msg("missing %s: %s", probe, key);
	if (strcmp(buf, want) != 0)
		fail_msg("%s: %s=%s, want %s", probe, key, buf, want);
}

static void check_discover(const struct bare *b, const struct fact_model *f)
{
	expect_str(b, "discover", "vendor", f->intel ? "intel" : "amd");
	assert_int_equal(get(b, "discover", "nr_gp"), f->nr_gp);
	assert_int_equal(get(b, "discover", "gp_width"), f->width);
	if (f->intel) {
		assert_int_equal(get(b, "discover", "version"), f->version);
		assert_int_equal(get(b, "discover", "fixed_exists"), f->fixed_exist);
		assert_int_equal(get(b, "perf_caps", "fw_write"), f->fw_write);
	} else {
		assert_int_equal(get(b, "discover", "perfmon_v2"), f->perfmon_v2);
	}
	if (has_global(f))
		assert_int_equal(get(b, "global_ctrl_reset", "value"), X86_MASK(f->nr_gp));
}

static void check_counts(const struct bare *b, const struct fact_model *f)
{
	static const uint64_t fixed[4] = { P_INSTR, P_INSTR * 3 / 5,
					   P_INSTR * 2 / 5, P_INSTR * 12 / 5 };
	char k[40];

	for (unsigned i = 0; i < f->nr_gp; i++) {
		snprintf(k, sizeof(k), "gp%u.instructions", i);
		assert_int_equal(get(b, "count_gp", k), P_INSTR);
		snprintf(k, sizeof(k), "gp%u.instructions.rdpmc", i);
		assert_int_equal(get(b, "count_gp", k), P_INSTR);
		snprintf(k, sizeof(k), "gp%u.branches", i);
		assert_int_equal(get(b, "count_gp", k), P_BRANCH);
	}
	for (unsigned i = 0; i < 4; i++) {
		if (!(f->fixed_exist & (1u << i)))
			continue;
		snprintf(k, sizeof(k), "fixed%u", i);
		assert_int_equal(get(b, "count_fixed", k), fixed[i]);
	}
	assert_int_equal(get(b, "privilege", "usr_only.kernel_block"), 0);
	assert_int_equal(get(b, "privilege", "os_only.kernel_block"), 3000);
	assert_int_equal(get(b, "disabled", "no_en"), 0);
	if (has_global(f))
		assert_int_equal(get(b, "disabled", "no_global"), 0);
	assert_int_equal(get(b, "write_read", "gp0.rdpmc"), 0x01234567);
}

static void check_faults(const struct bare *b, const struct fact_model *f)
{
	expect_str(b, "nonexistent", "ctr_nr_gp.write", "gp");
	expect_str(b, "nonexistent", "rdpmc_nr_gp", "gp");
	expect_str(b, "nonexistent", "rdpmc_bit31", "gp");
	expect_str(b, "rdpmc_cpl", "cpl3_pce0", "gp");
	expect_str(b, "rdpmc_cpl", "cpl3_pce1", "ok");
	if (f->intel) {
		assert_int_equal(get(b, "legacy_write", "0x80000000"),
				 0xFFFFFFFF80000000ULL & width_mask(f));
		expect_str(b, "full_width", "write_above_width", "gp");
		expect_str(b, "evtsel_reserved", "bit63", "gp");
		expect_str(b, "anythread", "evtsel", f->version >= 5 ? "gp" : "ok");
		expect_str(b, "status_readonly", "write", "gp");
		if (f->fixed_exist != 0xF)
			expect_str(b, "nonexistent", "fixed3.rdpmc", "gp");
	} else {
		/* GuestOnly kept, reserved 19/21/39/63 dropped, no fault. */
		expect_str(b, "evtsel_reserved", "reserved", "ok");
		assert_int_equal(get(b, "evtsel_reserved", "reserved.read"),
				 0xC0 | EVTSEL_OS | AMD_EVTSEL_GUESTONLY);
		assert_int_equal(get(b, "amd_alias", "ctr3.core"), 0x4444);
		if (f->perfmon_v2)
			expect_str(b, "status_readonly", "write", "ok");
	}
}

static void check_overflow(const struct bare *b, const struct fact_model *f)
{
	uint64_t masked = f->intel ? APIC_LVT_MASKED : 0;

	assert_int_equal(get(b, "overflow_noint", "gp.pmis"), 0);
	assert_int_equal(get(b, "overflow_noint", "gp.ctr0"), 9 * P_PERIOD);
	assert_int_equal(get(b, "overflow_pmi", "nmi.pmis"), 1);
	assert_int_equal(get(b, "overflow_pmi", "nmi.vector"), NMI_VECTOR);
	assert_int_equal(get(b, "overflow_pmi", "nmi.ctr1_in_handler"), P_PERIOD);
	assert_int_equal(get(b, "overflow_pmi", "nmi.lvtpc_in_handler"), APIC_DM_NMI | masked);
	assert_int_equal(get(b, "overflow_pmi", "fixed_vector.vector"), 0xF0);
	assert_int_equal(get(b, "overflow_pmi", "masked.pmis"), 0);
	if (has_global(f)) {
		assert_int_equal(get(b, "overflow_noint", "gp.status"), 1);
		assert_int_equal(get(b, "overflow_noint", "status_after_ctr_write"), 1);
		assert_int_equal(get(b, "overflow_noint", "status_after_clear"), 0);
		assert_int_equal(get(b, "overflow_pmi", "masked.status"), 1);
		assert_int_equal(get(b, "status_set", "status"),
				 f->intel ? X86_BIT(0) | X86_BIT(32) : X86_BIT(0));
		assert_int_equal(get(b, "status_set", "status_after_clear"), 0);
	}
	if (f->intel) {
		assert_int_equal(get(b, "overflow_fixed", "noint.pmis"), 0);
		assert_int_equal(get(b, "overflow_fixed", "pmi.pmis"), 1);
		assert_int_equal(get(b, "overflow_fixed", "pmi.status"), X86_BIT(32));
		assert_int_equal(get(b, "freeze_on_pmi", "frozen.ctr1"), P_PERIOD);
		assert_int_equal(get(b, "freeze_on_pmi", "frozen.status"),
				 X86_BIT(0) | GLOBAL_STATUS_CTR_FRZ);
		assert_int_equal(get(b, "freeze_on_pmi", "thawed.ctr1"), 2 * P_PERIOD);
	}
}

static void test_run_all_every_model(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct bare *b = bare_new(f), *b2 = bare_new(f);

		guest_conf_run_all(&b->gb.g, &b->log);
		assert_false(b->log.truncated);
		assert_true(b->log.nr > 50);
		check_discover(b, f);
		check_counts(b, f);
		check_faults(b, f);
		check_overflow(b, f);
		/* The log is deterministic. */
		guest_conf_run_all(&b2->gb.g, &b2->log);
		assert_string_equal(b->log.text, b2->log.text);
		bare_free(b);
		bare_free(b2);
	}
}

static void dummy_irq(struct mv_guest *g, unsigned vector, void *arg)
{
	(void)g; (void)vector; (void)arg;
}

/* Probes put back what they found: counters, selectors, global and APIC
 * state, the interrupt handler. */
static void bare_wr(struct bare *b, uint32_t msr, uint64_t v)
{
	assert_int_equal(hw_wrmsr(&b->cpu, msr, v), X86_OK);
}

static void test_state_restored(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct bare *b = bare_new(f);
		struct hw_pmu before;
		int tag;

		bare_wr(b, sel_msr(f, 2), ev_branch(f) | EVTSEL_OS);
		bare_wr(b, ctr_msr(f, 2), 0x123456);
		if (has_global(f))
			bare_wr(b, msr_global_ctrl(f), 0x5);
		if (f->intel ? f->version >= 4 : f->perfmon_v2)
			bare_wr(b, f->intel ? MSR_IA32_PERF_GLOBAL_STATUS_SET :
				MSR_AMD_GLOBAL_STATUS_SET, X86_BIT(1));
		if (f->intel)
			bare_wr(b, MSR_IA32_DEBUGCTL, 0x1);
		bare_wr(b, MSR_X2APIC_LVTPC, APIC_DM_FIXED | 0x33);
		mv_set_irq_handler(&b->gb.g, dummy_irq, &tag);
		before = b->cpu.pmu;
		guest_conf_run_all(&b->gb.g, &b->log);
		assert_memory_equal(&before, &b->cpu.pmu, sizeof(before));
		assert_int_equal(b->cpu.apic.lvtpc, APIC_DM_FIXED | 0x33);
		assert_ptr_equal(b->gb.g.irq, dummy_irq);
		assert_ptr_equal(b->gb.g.irq_arg, &tag);
		assert_int_equal(b->cpu.cpl, 0);
		assert_false(b->cpu.cr4_pce);
		bare_free(b);
	}
}

static void test_probe_table(void **state)
{
	struct bare *b = bare_new(&fact_models[0]);
	const char *const skip[] = { "count_gp", "discover" };
	char buf[8];

	(void)state;
	for (size_t i = 0; i < guest_conf_nr_probes; i++) {
		assert_ptr_equal(guest_conf_find(guest_conf_probes[i].name),
				 &guest_conf_probes[i]);
	}
	assert_null(guest_conf_find("no-such-probe"));
	assert_false(guest_conf_run_one(&b->gb.g, "no-such-probe", &b->log));
	assert_int_equal(b->log.nr, 0);
	/* Documented VM differences are named in the table. */
	assert_non_null(guest_conf_find("anythread")->vm_differs);
	assert_null(guest_conf_find("count_gp")->vm_differs);
	/* One probe logs only its own lines; exclusion drops a probe. */
	assert_true(guest_conf_run_one(&b->gb.g, "rdpmc_cpl", &b->log));
	assert_int_equal(strncmp(b->log.text, "rdpmc_cpl: ", 11), 0);
	guest_conf_log_init(&b->log);
	guest_conf_run_except(&b->gb.g, &b->log, skip, 2);
	assert_false(guest_conf_value(&b->log, "count_gp", "gp0.instructions", buf, sizeof(buf)));
	assert_false(guest_conf_value(&b->log, "discover", "vendor", buf, sizeof(buf)));
	assert_true(guest_conf_value(&b->log, "count_fixed", "fixed0", buf, sizeof(buf)));
	bare_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_all_every_model),
		cmocka_unit_test(test_state_restored),
		cmocka_unit_test(test_probe_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
