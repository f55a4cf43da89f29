/* test_realcode: real x86-64 guest code (src/hw/hw_x86) on every model,
 * bare metal and under both vPMUs: the counting rules, exact overflow,
 * user mode and SYSCALL, faults and interrupts through the guest's IDT,
 * the platform's ports, how guests end, and rewritten code.  Expected
 * values come from the guest programs' own instruction-by-instruction
 * counts (guest/tests/rc_NAME.c) and the SDM/FACTS.md rules cited. */
#include "rc_test.h"

/* guest/tests/rc_count.c: body() is 29 instructions, 15 branches, 9 of
 * them conditional, counted line by line there; the region measured
 * around it adds the CALL, 3 MOVs and the disabling WRMSR. */
#define BODY_INSNS 29
#define BODY_BRANCHES 15
#define BODY_COND 9
#define BODY_CALLS 3	/* main measures three events, one call each */

static void test_counting_rules(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m++) {
		for (size_t v = 0; v < 3; v++) {
			const struct mv_image_result *im = rc_run("rc_count", rc_models[m], rc_vpmus[v]);
			const struct mv_symbol_result *body = rc_sym(im, "body");
			uint64_t sum = 0;

			assert_true(im->exited);
			assert_int_equal(im->exit_status, 1);
			/* The enabling and the disabling write go the same way
			 * (both intercepted, or both on the hardware), so the
			 * total is the bare-metal one everywhere (FACTS.md s.8). */
			assert_int_equal(rc_num("insns"), BODY_INSNS + 5);
			assert_int_equal(rc_num("branches"), BODY_BRANCHES + 1);
			assert_int_equal(rc_num("cond"), BODY_COND);
			assert_int_equal(body->insns_kernel, BODY_CALLS * BODY_INSNS);
			assert_int_equal(body->branches_kernel, BODY_CALLS * BODY_BRANCHES);
			assert_int_equal(body->insns_user, 0);
			/* The truth per symbol adds up to the total. */
			for (unsigned i = 0; i < im->nr_sym; i++)
				sum += im->sym[i].insns_user + im->sym[i].insns_kernel;
			sum += im->other.insns_user + im->other.insns_kernel;
			assert_int_equal(sum, im->insns_user + im->insns_kernel);
		}
	}
}

/* guest/tests/rc_exact.c: counter 0 (instructions) or 1 (branches)
 * starts at -k; the PMI interrupts a run of 2-byte instructions at
 * index "at".  The wrap is at the k-th event after the enabling WRMSR,
 * so the PMI is taken before instruction k (+ skid).  In a VM the
 * PERFEVTSEL write that enables the counter is intercepted, and Linux
 * 7.0 counts the instruction it skips against the counters enabled by
 * then (kvm_pmu_recalc_pmc_emulation at the write, commit 5dfd498bad5f),
 * so the instruction counter needs one event fewer from the run. */
static const unsigned exact_ks[] = { 1, 2, 7, 31, 32, 33, 64 };

static void check_exact(enum mv_vpmu vp, uint64_t skid)
{
	for (size_t i = 0; i < sizeof(exact_ks) / sizeof(exact_ks[0]); i++) {
		unsigned k = exact_ks[i];
		char key[32];
		long long insns_at = -1, br_at = -1;
		const char *s;

		snprintf(key, sizeof(key), "insns k=%u at", k);
		s = strstr(rc_text, key);
		assert_non_null(s);
		insns_at = strtoll(s + strlen(key) + 1, NULL, 10);
		snprintf(key, sizeof(key), "branches k=%u at", k);
		s = strstr(rc_text, key);
		assert_non_null(s);
		br_at = strtoll(s + strlen(key) + 1, NULL, 10);
		assert_int_equal(insns_at, (long long)(k - (rc_is_vm(vp) ? 1 : 0) + skid));
		assert_int_equal(br_at, (long long)(k + skid));
	}
}

static void test_exact_overflow(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m++)
		for (size_t v = 0; v < 3; v++) {
			rc_run("rc_exact", rc_models[m], rc_vpmus[v]);
			check_exact(rc_vpmus[v], 0);
		}
}

/* skid: the PMI is delivered `skid` instructions after the overflow. */
static void test_exact_overflow_skid(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m += 3) {
		rc_scenario("rc_exact", rc_models[m], MV_VPMU_NONE);
		rc_sc.skid = 3;
		rc_go();
		check_exact(MV_VPMU_NONE, 3);
	}
}

/* guest/tests/rc_modes.c. */
static void test_user_mode_and_syscall(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m++)
		for (size_t v = 0; v < 3; v++) {
			const struct mv_image_result *im = rc_run("rc_modes", rc_models[m], rc_vpmus[v]);
			const struct mv_symbol_result *ufn = rc_sym(im, "ufn");
			const struct mv_symbol_result *entry = rc_sym(im, "mvg_syscall_entry");

			assert_int_equal(im->exit_status, 1);
			assert_int_equal(rc_num("syscall"), 7 * 21);	/* handler(nr, arg) = nr * arg */
			/* FACTS.md s.1: RDPMC at CPL > 0 with CR4.PCE = 0 is #GP. */
			assert_int_equal(rc_num("rdpmc_pce0"), 13);
			assert_int_equal(rc_num("rdpmc_pce1"), 0);
			assert_int_equal(rc_num("value_ok"), 1);
			/* USR counts every instruction at CPL > 0, and only those. */
			assert_int_equal(rc_num("usr"), im->insns_user);
			assert_int_equal(rc_num("os_nonzero"), 1);
			assert_true(ufn->insns_user > 0);
			assert_int_equal(ufn->insns_kernel, 0);
			/* SYSCALL retires at CPL 3 (a branch of ufn), the entry
			 * stub and its SYSRETQ at CPL 0. */
			assert_true(ufn->branches_user >= 3);
			assert_int_equal(entry->insns_user, 0);
			assert_int_equal(entry->branches_kernel, 3 * 2);	/* call, sysretq */
		}
}

/* guest/tests/rc_faults.c: vectors, error codes and CR2 (SDM vol. 3
 * 6.15); two #DE in a row are two #DE, not a double fault. */
static void test_faults(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m += 2)
		for (size_t v = 0; v < 3; v++) {
			const struct mv_image_result *im = rc_run("rc_faults", rc_models[m], rc_vpmus[v]);

			assert_int_equal(im->exit_status, 1);
			assert_int_equal(rc_num("gp_msr"), 13);
			assert_int_equal(rc_num("ud"), 6);
			assert_int_equal(rc_num("de"), 0);
			assert_int_equal(rc_num("de_again"), 0);
			assert_int_equal(rc_num("gp_selector_error"), 0x1234);
			assert_int_equal(rc_num("pf_error"), 0);	/* not present, read, CPL 0 */
			assert_int_equal(rc_num("pf_cr2"), 0x800010);
			assert_int_equal(rc_num("bp_hits"), 1);
			assert_int_equal(rc_num("bp_rip_ok"), 1);	/* INT3 returns after itself */
			assert_int_equal(rc_num("user_int_vec"), 13);
			assert_int_equal(rc_num("user_int_error"), 0x40 * 8 + 2);
		}
}

/* guest/tests/rc_nmi.c and rc_irq.c. */
static void test_interrupts(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m++)
		for (size_t v = 0; v < 3; v++) {
			rc_run("rc_nmi", rc_models[m], rc_vpmus[v]);
			assert_int_equal(rc_num("pmis"), 2);
			assert_int_equal(rc_num("max_depth"), 1);
			rc_run("rc_irq", rc_models[m], rc_vpmus[v]);
			assert_int_equal(rc_num("before_sti"), 0);
			assert_int_equal(rc_num("pmis"), 1);
			assert_int_equal(rc_num("rip_ok"), 1);
			assert_int_equal(rc_res.guest_pmis, 1);
		}
}

/* guest/tests/rc_ports.c: FACTS.md s.8's 16550 and isa-debug-exit. */
static void test_ports(void **state)
{
	(void)state;
	for (size_t v = 0; v < 3; v++) {
		const struct mv_image_result *im = rc_run("rc_ports", "icelake", rc_vpmus[v]);

		assert_true(im->exited);
		assert_int_equal(im->exit_status, (0x55 << 1) | 1);
		assert_int_equal(rc_num("lsr"), 0x60);
		assert_int_equal(rc_num("open8"), 0xFF);
		assert_int_equal(rc_num("open16"), 0xFFFF);
		assert_int_equal(rc_num("open32"), 0xFFFFFFFFLL);
		assert_non_null(strstr(rc_text, "\nvia rep outsb\n"));
		assert_null(strchr(rc_text, 'X'));	/* a divisor latch write */
	}
}

static void test_endings(void **state)
{
	const struct mv_image_result *im;

	(void)state;
	for (size_t v = 0; v < 3; v++) {
		im = rc_run("rc_halt", "zen4", rc_vpmus[v]);
		assert_false(im->exited);
		assert_string_equal(im->exit, "halted");
		assert_non_null(strstr(im->message, "interrupts disabled"));
		im = rc_run("rc_triple", "skylake", rc_vpmus[v]);
		assert_string_equal(im->exit, "triple-fault");
		/* The exception loop, in 4096 deliveries (not the 2.8 million of
		 * the stack's way down to a triple fault). */
		im = rc_run("rc_loop", "icelake", rc_vpmus[v]);
		assert_string_equal(im->exit, "error");
		assert_non_null(strstr(im->message, "exception loop"));
		assert_true(im->insns_kernel >= 10 && im->insns_kernel < 20);
		/* libunicorn 2.0.1 aborts on this #UD form: an error, then the
		 * next image runs as usual in the same process. */
		im = rc_run("rc_farreg", "zen5", rc_vpmus[v]);
		assert_string_equal(im->exit, "error");
		assert_non_null(strstr(im->message, "undefined CALL/JMP FAR"));
		assert_non_null(strstr(im->message, "0x"));
		im = rc_run("rc_halt", "zen5", rc_vpmus[v]);
		assert_string_equal(im->exit, "halted");
		im = rc_run("rc_unmapped", "sapphirerapids", rc_vpmus[v]);
		assert_string_equal(im->exit, "error");
		assert_non_null(strstr(im->message, "0x40000000"));
		rc_scenario("rc_runaway", "zen5", rc_vpmus[v]);
		rc_sc.vm[0].prog[0].insn_limit = 100000;
		rc_sc.bare.insn_limit = 100000;
		im = rc_go();
		assert_string_equal(im->exit, "instruction-limit");
		assert_true(im->insns_kernel >= 100000 && im->insns_kernel < 100100);
	}
}

/* guest/tests/rc_smc.c: patched() and the label inside it are 4 + 4
 * instructions a call, two calls. */
static void test_rewritten_code(void **state)
{
	(void)state;
	for (size_t v = 0; v < 3; v++) {
		const struct mv_image_result *im = rc_run("rc_smc", "zen3", rc_vpmus[v]);

		assert_int_equal(rc_num("before"), 0x1234);
		assert_int_equal(rc_num("after_is_vendor"), 1);
		assert_int_equal(rc_sym(im, "patched")->insns_kernel + rc_sym(im, "patch_site")->insns_kernel,
				 16);
	}
}

/* Same seed and image: the same trace, byte for byte. */
/* guest/tests/rc_gate.c: an interrupt gate clears IF for its handler,
 * IRET restores it (SDM vol. 3 6.12.1.3), on bare metal and in a VM. */
static void test_interrupt_gate_clears_if(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m += 3)
		for (size_t v = 0; v < 3; v++) {
			const struct mv_image_result *im = rc_run("rc_gate", rc_models[m], rc_vpmus[v]);

			assert_int_equal(im->exit_status, 1);
			assert_int_equal(rc_num("hits"), 1);
			assert_int_equal(rc_num("live_if"), 0);
			assert_int_equal(rc_num("saved_if"), 1);
			assert_int_equal(rc_num("after_if"), 1);
		}
}

/* rc_nmi beside a host task on the same CPU, so that the seeded
 * scheduler picks between two threads and the seed is in play. */
static const struct mv_image_result *rc_nmi_beside_host(uint64_t seed, char *serial, size_t len)
{
	const struct mv_image_result *im;

	rc_scenario("rc_nmi", "icelake", MV_VPMU_MEDIATED);
	rc_sc.seed = seed;
	rc_sc.tick_cycles = 20000;
	rc_sc.host.has_work = true;
	rc_sc.host.work = (struct mv_workload){ .nr_seg = 1, .passes = 40, .chunk = 5000,
						 .seg = { { .label = "host", .instructions = 20000 } } };
	im = rc_go();
	snprintf(serial, len, "%s", rc_text);
	return im;
}

/* The same seed gives the same run, byte for byte (its hash); another
 * seed interleaves the host task differently (another hash), while the
 * guest's own results, a function of its code alone, stay the same. */
static void test_determinism(void **state)
{
	static char s1[MV_SERIAL_MAX + 1], s2[MV_SERIAL_MAX + 1];
	uint64_t h1, h2, insns;
	unsigned differ = 0;

	(void)state;
	insns = rc_nmi_beside_host(3, s1, sizeof(s1))->insns_kernel;
	h1 = rc_res.trace_hash;
	rc_nmi_beside_host(3, s2, sizeof(s2));
	h2 = rc_res.trace_hash;
	assert_true(h1 == h2);
	assert_string_equal(s1, s2);
	for (uint64_t seed = 4; seed < 8; seed++) {
		const struct mv_image_result *im = rc_nmi_beside_host(seed, s2, sizeof(s2));

		differ += rc_res.trace_hash != h1;
		assert_int_equal(im->exit_status, 1);
		assert_int_equal(im->insns_kernel, insns);
		assert_string_equal(s1, s2);
	}
	assert_true(differ > 0);
	rc_run("rc_nmi", "icelake", MV_VPMU_EMULATED);
	assert_true(rc_res.trace_hash != h1);
}

/* guest/tests/rc_apic.c: the APIC registers a guest kernel sets up, as
 * docs/hw.md specifies them (enabled, x2APIC mode, base 0xFEE00000, BSP:
 * 0xFEE00000 | EN 0x800 | EXTD 0x400 | BSP 0x100), the same on bare metal
 * and in KVM's virtual APIC. */
static void test_apic(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m += 3)
		for (size_t v = 0; v < 3; v++) {
			const struct mv_image_result *im = rc_run("rc_apic", rc_models[m], rc_vpmus[v]);

			assert_int_equal(im->exit_status, 1);
			assert_int_equal(rc_num("cpuid_apic"), 1);
			assert_int_equal(rc_num("cpuid_x2apic"), 1);
			assert_int_equal(rc_num("apic_id"), 0);
			assert_int_equal(rc_num("apic_base"), 0xFEE00D00);
			assert_int_equal(rc_num("base_same"), 0);
			assert_int_equal(rc_num("base_xapic"), 13);	/* no xAPIC mode */
			assert_int_equal(rc_num("base_move"), 13);
			assert_int_equal(rc_num("id"), 0);
			/* SDM vol. 3 11.12.1.2: ID and version are read-only. */
			assert_int_equal(rc_num("id_write"), 13);
			assert_int_equal(rc_num("version"), 0x50014);
			assert_int_equal(rc_num("version_write"), 13);
			assert_int_equal(rc_num("svr_reset"), 0x1FF);
			assert_int_equal(rc_num("svr_write"), 0);
			assert_int_equal(rc_num("svr"), 0x1F0);
			assert_int_equal(rc_num("svr_reserved"), 13);
			assert_int_equal(rc_num("svr_after"), 0x1F0);
			assert_int_equal(rc_num("tpr_write"), 0);
			assert_int_equal(rc_num("tpr"), 0x20);
			assert_int_equal(rc_num("tpr_reserved"), 13);
			assert_int_equal(rc_num("tpr_after"), 0x20);
			/* Bits 63:32 of an x2APIC register other than ICR are
			 * reserved (#GP), and a faulting write changes nothing. */
			assert_int_equal(rc_num("lvtpc_high"), 13);
			assert_int_equal(rc_num("lvtpc_after"), 0x400);
			assert_int_equal(rc_num("eoi_zero"), 0);
			/* SDM: x2APIC EOI takes only 0 (bare metal; KVM's is not
			 * pinned here). */
			if (!rc_is_vm(rc_vpmus[v]))
				assert_int_equal(rc_num("eoi_nonzero"), 13);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counting_rules),
		cmocka_unit_test(test_exact_overflow),
		cmocka_unit_test(test_exact_overflow_skid),
		cmocka_unit_test(test_user_mode_and_syscall),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_interrupts),
		cmocka_unit_test(test_interrupt_gate_clears_if),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_endings),
		cmocka_unit_test(test_rewritten_code),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_apic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
