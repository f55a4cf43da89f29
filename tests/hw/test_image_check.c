/* test_image_check: issue 11's "How it will be checked", on every model
 * and vPMU.  guest/foreign/pmu_check.S is written without mvpmu's guest
 * runtime (its own stack, GDT and IDT, gcc's default static layout);
 * guest/tests/smoke.c does the same with the runtime.  Each programs
 * PERFEVTSEL0 for instructions retired, counts a loop of known length,
 * reads it with RDPMC, tries a reserved selector bit, takes an overflow
 * PMI as an NMI through its IDT, prints and exits.  The expected values
 * are derived here from the code and the facts cited, not from a run. */
#include "rc_test.h"
#include "sim/sim.h"

#define N 1000	/* both loops */

static bool is_intel(const char *cpu)
{
	return strncmp(cpu, "zen", 3) != 0;
}

/* After the enabling WRMSR: MOV, N x (DEC, JNZ), XOR, then RDPMC, which
 * samples before it retires: 2N + 2 (FACTS s.8: the instruction that
 * enables a counter is not counted by it).  In a VM the PERFEVTSEL write
 * is intercepted (emulated: every PMU MSR; mediated: the selectors, for
 * the event filter), KVM skips it and counts it in software against the
 * counters enabled by then (Linux 7.0, kvm_pmu_request_counter_reprogram
 * -> kvm_pmu_recalc_pmc_emulation at the write, commit 5dfd498bad5f):
 * one more. */
static long long loop_count(enum mv_vpmu vp)
{
	return 2 * N + 2 + (rc_is_vm(vp) ? 1 : 0);
}

static void test_foreign_image(void **state)
{
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/foreign/pmu_check.elf", MV_GUEST_DIR);
	for (size_t m = 0; m < RC_NR_MODELS; m++)
		for (size_t v = 0; v < 3; v++) {
			const char *cpu = rc_models[m];
			enum mv_vpmu vp = rc_vpmus[v];
			const struct mv_image_result *im;

			rc_scenario_path(path, cpu, vp);
			im = rc_go();	/* fails on any invariant violated */
			assert_true(im->exited);
			assert_int_equal(im->exit_status, (0 << 1) | 1);
			assert_int_equal(rc_num("loop"), loop_count(vp));
			/* Bit 63 of PERFEVTSEL is reserved: #GP on Intel (FACTS
			 * s.1), ignored on AMD (s.2), so the rest of the write
			 * (event 0xC0, USR, OS; EN clear) is kept there. */
			assert_int_equal(rc_num("gp"), is_intel(cpu) ? 1 : 0);
			assert_int_equal(rc_num("sel"), is_intel(cpu) ? 0 : 0x300C0);
			/* The counter starts at -1000: it wraps on the 1000th
			 * instruction after the enabling WRMSR (999th in a VM,
			 * see loop_count), MOV being the first and iteration j's
			 * DEC the (2j)th, so %ebx = 2000 - 500 (or 2000 - 499). */
			assert_int_equal(rc_num("pmis"), 1);
			assert_int_equal(rc_num("pmi_ebx"), rc_is_vm(vp) ? 1501 : 1500);
			/* LVTPC = NMI; Intel sets its mask bit on delivery, AMD
			 * does not (FACTS s.3, SDM vol. 3 11.5.1). */
			assert_int_equal(rc_num("lvtpc"), is_intel(cpu) ? 0x10400 : 0x400);
			/* The truth per symbol, counted in pmu_check.S: the NMI
			 * handler is 3 PUSH, INC, 2 MOV, RDMSR, 2 MOV, 2 XOR,
			 * WRMSR, 3 POP, IRETQ = 16 instructions and one branch
			 * (IRETQ); the #GP handler (Intel only) INC, ADD, ADD,
			 * IRETQ; the fatal handler never runs. */
			assert_int_equal(rc_sym(im, "nmi")->insns_kernel, 16);
			assert_int_equal(rc_sym(im, "nmi")->branches_kernel, 1);
			if (is_intel(cpu)) {
				assert_int_equal(rc_sym(im, "gp")->insns_kernel, 4);
				assert_int_equal(rc_sym(im, "gp")->branches_kernel, 1);
			}
			for (unsigned i = 0; i < im->nr_sym; i++)
				assert_string_not_equal(im->sym[i].name, "fatal");
		}
}

static void test_runtime_smoke(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m++)
		for (size_t v = 0; v < 3; v++) {
			const char *cpu = rc_models[m];
			const struct mv_image_result *im = rc_run("smoke", cpu, rc_vpmus[v]);

			assert_int_equal(im->exit_status, 1);
			assert_int_equal(rc_num("loop"), loop_count(rc_vpmus[v]));
			assert_string_equal(rc_str("reserved"), is_intel(cpu) ? "gp" : "ok");
			assert_int_equal(rc_num("pmis"), 1);
			assert_string_equal(rc_str("vendor"), is_intel(cpu) ? "intel" : "amd");
		}
}

/* The worked example of docs/realcode.md (guest/examples/count.c): what
 * it counts around its own isort() is isort's truth (the report's, per
 * symbol; it runs isort twice) plus the few instructions of the call
 * and the reads, and every sample lands in isort. */
static void test_worked_example(void **state)
{
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/examples/count.elf", MV_GUEST_DIR);
	for (size_t m = 1; m < RC_NR_MODELS; m += 3)
		for (size_t v = 0; v < 3; v++) {
			const struct mv_image_result *im;
			const struct mv_symbol_result *is;
			long long once, counted;
			const char *s;

			rc_scenario_path(path, rc_models[m], rc_vpmus[v]);
			im = rc_go();
			assert_int_equal(im->exit_status, 1);
			is = rc_sym(im, "isort");
			once = (long long)is->insns_kernel / 2;
			s = strstr(rc_text, "isort: ");
			assert_non_null(s);
			counted = strtoll(s + 7, NULL, 10);
			assert_true(counted >= once && counted - once < 32);
			s = strstr(rc_text, "PMIs, ");
			assert_non_null(s);
			/* One PMI per 10000 instructions counted, all in isort. */
			assert_int_equal(strtoll(s + 6, NULL, 10), once / 10000);
		}
}

/* Exploration's guest-insn points (docs/explore.md): one before each
 * instruction of the guest's PMI handler, and only in a VM (on bare
 * metal nothing can exit the guest).  pmu_check.S's NMI handler is 16
 * instructions (test_foreign_image) and runs once, so a VM's run visits
 * exactly 16.  Injecting at the first exits the guest once more, for the
 * host's timer, and changes nothing the guest sees. */
static void test_points_in_pmi_handler(void **state)
{
	static const char *const cpus[] = { "sapphirerapids", "zen4" };
	char path[512], err[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/foreign/pmu_check.elf", MV_GUEST_DIR);
	for (size_t m = 0; m < 2; m++)
		for (size_t v = 0; v < 3; v++) {
			enum mv_vpmu vp = rc_vpmus[v];
			struct cli_points pts = { .log = true };
			uint32_t first = UINT32_MAX;
			uint64_t n = 0, exits;

			rc_scenario_path(path, cpus[m], vp);
			rc_sc.points = true;
			assert_int_equal(cli_run_scenario_points(&rc_sc, &rc_res, &pts, err,
								 sizeof(err)), 0);
			for (size_t i = 0; i < pts.nr_log; i++) {
				if (pts.log_recs[i].kind != SIM_PT_GUEST_INSN)
					continue;
				assert_string_equal(pts.log_recs[i].label, "guest-insn/pmi-handler");
				if (first == UINT32_MAX)
					first = (uint32_t)i;
				n++;
			}
			cli_points_free(&pts);
			assert_int_equal(n, rc_is_vm(vp) ? 16 : 0);
			assert_int_equal(rc_res.points_by_kind[SIM_PT_GUEST_INSN], n);
			if (!rc_is_vm(vp))
				continue;
			exits = rc_res.exits_total;
			rc_sc.points = false;
			rc_sc.inject_at = &first;
			rc_sc.nr_inject_at = 1;
			rc_go();
			assert_int_equal(rc_res.exits_total, exits + 1);
			assert_int_equal(rc_num("pmis"), 1);
			assert_int_equal(rc_num("loop"), loop_count(vp));
			assert_int_equal(rc_num("pmi_ebx"), 1501);
			rc_sc.inject_at = NULL;
			rc_sc.nr_inject_at = 0;
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_foreign_image),
		cmocka_unit_test(test_runtime_smoke),
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_points_in_pmi_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
