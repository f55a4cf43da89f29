/* test_multiboot: the project's multiboot test kernel (guest/multiboot/
 * mb_check.c, an x86-64 kernel made ELF32 with objcopy, as kvm-unit-tests
 * builds its x86 tests) on every model, bare metal and under both vPMUs.
 * Every expected value is derived here from the kernel's code and the
 * facts cited (FACTS.md s.1-3, 7-9, QEMU's multiboot and fw_cfg), never
 * copied from a run. */
#include "rc_test.h"

#define MIB (1024ULL * 1024)

static bool is_intel(const char *cpu)
{
	return strncmp(cpu, "zen", 3) != 0;
}

/* CPUID.1:EAX of the real parts the models stand for (stepping, model,
 * family, extended model and family; SDM vol. 2 CPUID, AMD APM vol. 3
 * E.3.2): Skylake-SP 06_55 stepping 4, Ice Lake-SP 06_6A stepping 6,
 * Sapphire Rapids 06_8F stepping 8, Milan 19h model 01h, Genoa 19h model
 * 11h, Turin 1Ah model 02h, stepping 1. */
static uint32_t signature(const char *cpu)
{
	static const struct { const char *cpu; uint32_t sig; } t[] = {
		{ "skylake", 0x50654 }, { "icelake", 0x606A6 }, { "sapphirerapids", 0x806F8 },
		{ "zen3", 0xA00F11 }, { "zen4", 0xA10F11 }, { "zen5", 0xB00F21 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].cpu, cpu))
			return t[i].sig;
	fail_msg("no signature for %s", cpu);
	return 0;
}

/* Host GP counters (FACTS.md s.5). */
static unsigned host_gp(const char *cpu)
{
	return !strcmp(cpu, "skylake") ? 4 : is_intel(cpu) ? 8 : 6;
}

static void setup(const char *cpu, enum mv_vpmu vp, const char *cmdline, bool fep)
{
	char path[512];
	struct mv_program *pr;

	snprintf(path, sizeof(path), "%s/multiboot/mb_check.elf", MV_GUEST_DIR);
	rc_scenario_path(path, cpu, vp);
	pr = &rc_sc.vm[0].prog[0];
	assert_int_equal(pr->kind, MV_PROG_IMAGE);
	if (cmdline) {
		snprintf(pr->cmdline, sizeof(pr->cmdline), "%s", cmdline);
		pr->cmdline_set = true;
	}
	rc_sc.bare = *pr;	/* the program bare metal runs (cli_scenario_image) */
	rc_sc.kvm.force_emulation_prefix = fep;
}

static void assert_str(const char *key, const char *want)
{
	if (strcmp(rc_str(key), want))
		fail_msg("%s on %s/%d: %s=%s, expected %s", rc_sc.name, rc_sc.cpu, rc_sc.vpmu, key,
			 rc_str(key), want);
}

/* Everything the kernel prints in its full run (no ending word). */
static void check_full(const char *cpu, enum mv_vpmu vp, bool fep)
{
	const struct mv_image_result *im = rc_go();
	bool vm = rc_is_vm(vp), intel = is_intel(cpu);

	assert_true(im->multiboot);
	/* mb_main returns 0x21: isa-debug-exit status (0x21 << 1) | 1. */
	assert_true(im->exited);
	assert_int_equal(im->exit_status, (0x21 << 1) | 1);
	assert_non_null(strstr(rc_text, "\ndone\n"));

	/* Multiboot v1: EAX = 0x2BADB002; QEMU's info flags MEMORY, BOOTDEV,
	 * CMDLINE, MODS, MMAP, LOADER_NAME (bits 0-3, 6, 9) = 0x24F;
	 * mem_lower 639 KiB (below the EBDA at 0x9FC00), mem_upper the KiB
	 * above 1 MiB of the default 256 MiB. */
	assert_int_equal(rc_num("magic"), 0x2BADB002);
	assert_int_equal(rc_num("flags"), 0x24F);
	assert_int_equal(rc_num("mem_lower"), 639);
	assert_int_equal(rc_num("mem_upper"), (256 * MIB - MIB) / 1024);
	assert_int_equal(rc_num("ram_end"), 256 * MIB);
	assert_str("cmdline", "[hello");	/* "[hello world]" split at the space */
	assert_non_null(strstr(rc_text, "cmdline=[hello world]\n"));
	assert_int_equal(rc_num("modules"), 0);

	/* boot.S's span after the enabling WRMSR: MOV, 10 x (DEC, JNZ), 3
	 * (CR4), 2 (CR3), 4 (EFER), 3 (CR0), MOV, LJMP, XOR, then RDPMC,
	 * which samples before it retires: 36.  In a VM the enabling write is
	 * intercepted and counted by KVM's software path (docs/realcode.md,
	 * Linux 7.0 kvm_pmu_recalc_pmc_emulation at the write): 37. */
	assert_int_equal(rc_num("span"), 36 + vm);

	/* The PMU the kernel finds: the model's on bare metal; in a VM
	 * Linux 7.0 caps Intel at version 2, 8 GP (FACTS.md s.7). */
	assert_int_equal(rc_num("intel"), intel);
	assert_int_equal(rc_num("gp"), host_gp(cpu) < 8 || !intel ? host_gp(cpu) : 8);
	if (intel)
		assert_int_equal(rc_num("version"), vm ? 2 : (!strcmp(cpu, "skylake") ? 4 : 5));

	/* fw_cfg: "QEMU", RAM size (key 3, 8 bytes), one CPU (key 5), an
	 * unknown key reads zeros.  The PIC masks read back as written. */
	assert_str("fwcfg_sig", "QEMU");
	assert_int_equal(rc_num("fwcfg_ram"), 256 * MIB);
	assert_int_equal(rc_num("fwcfg_cpus"), 1);
	assert_int_equal(rc_num("fwcfg_unknown"), 0);
	assert_str("pic_masks", "0xff,0xff");

	/* CPUID: the model's signature, APIC (enabled), x2APIC (every model
	 * has one; KVM emulates one anyway), the hypervisor bit only in a VM,
	 * and KVM's signature leaf "KVMKVMKVM" with 0x40000001 as the highest
	 * leaf.  On bare metal 0x40000000 is beyond the basic leaves: Intel
	 * answers with the highest basic leaf (0xD sub-leaf 0: no XSAVE
	 * state here, 0), AMD with 0. */
	assert_int_equal(rc_num("cpuid1_eax"), signature(cpu));
	assert_int_equal(rc_num("apic"), 1);
	assert_int_equal(rc_num("x2apic"), 1);
	assert_int_equal(rc_num("hypervisor"), vm);
	assert_str("hv_leaf", vm ? "0x40000001,0x4b4d564b,0x564b4d56,0x4d" : "0x0,0x0,0x0,0x0");
	/* An MSR no CPU has: #GP on bare metal, and KVM's #GP for an MSR it
	 * does not handle (kvm_msr_ignored_check, ignore_msrs=N). */
	assert_int_equal(rc_num("msr_unknown_rd"), 13);
	assert_int_equal(rc_num("msr_unknown_wr"), 13);

	/* Paging (mb_check.c's paging()): the value written through the very
	 * top page lands in its physical page; two virtual pages share one
	 * physical page; a remap is seen after INVLPG and after a CR3 write;
	 * code runs from a page after it is remapped and after it is
	 * rewritten through another mapping; a #PF at top page 40 (read, not
	 * present, CPL 0: error code 0) is fixed by its handler; 64 pages
	 * holding 1..64 sum to 64 * 65 / 2. */
	assert_str("top_va", "0xfffffffffffff000");
	assert_int_equal(rc_num("top_phys"), 0x1122334455667788LL);
	assert_str("two_vas", "0x5151,0x7272");
	assert_str("remap", "0xaaaa,0xbbbb,0xaaaa");
	assert_str("code", "1,2,3");
	assert_int_equal(rc_num("pf_count"), 1);
	assert_str("pf_cr2", "0xffffffffffe28000");
	assert_int_equal(rc_num("pf_err"), 0);
	assert_int_equal(rc_num("pf_value"), 0x77);
	assert_int_equal(rc_num("run_sum"), 64 * 65 / 2);

	/* The APIC at entry: xAPIC mode, BSP, enabled (base 0xFEE00000 | EN
	 * bit 11 | BSP bit 8); ID 0; x2APIC MSRs #GP (13) in xAPIC mode (SDM
	 * vol. 3 11.12.1).  A PMI on vector 0x40 through the xAPIC LVTPC:
	 * Intel sets the mask bit on delivery, AMD does not (FACTS.md s.3;
	 * KVM likewise only for Intel-compatible guests). */
	assert_int_equal(rc_num("apic_base"), 0xFEE00900);	/* first print */
	assert_int_equal(rc_num("apic_id"), 0);
	assert_int_equal(rc_num("svr"), 0x1FF);
	assert_int_equal(rc_num("x2apic_msr_in_xapic"), 13);
	assert_int_equal(rc_num("lvtpc"), 0x40);
	assert_int_equal(rc_num("pmis"), 1);
	assert_int_equal(rc_num("lvtpc_masked"), intel);
	assert_int_equal(rc_num("lvtpc_after"), intel ? 0x10040 : 0x40);
	/* x2APIC mode: base gains EXTD (bit 10); LVTPC through MSR 0x834
	 * keeps what was written; the xAPIC page reads all ones (SDM 11.12.1;
	 * KVM's apic_mmio_read).  A PMI as NMI (LVTPC 0x400). */
	assert_int_equal(rc_num("x2apic_enabled"), 1);
	assert_non_null(strstr(rc_text, "apic_base=0xfee00d00 lvtpc_msr=0x40 mmio_after=0xffffffff\n"));
	assert_int_equal(rc_num("nmis"), 1);

	/* Forced emulation: only in a VM whose host enables it.  Between the
	 * RDPMC samples: 13 instructions (the sampling RDPMC, 12 after it,
	 * the three prefixed JNEs each counted once by KVM's software path,
	 * the UD2s never retire) and 3 branches (the JNEs, not taken). */
	if (vm && fep) {
		assert_str("fep", "emulated");
		assert_int_equal(rc_num("fep_insns"), 13);
		assert_int_equal(rc_num("fep_branches"), 3);
	} else {
		assert_str("fep", "unavailable");
	}
}

static void test_full_every_model(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m++)
		for (size_t v = 0; v < 3; v++) {
			setup(rc_models[m], rc_vpmus[v], "hello world", true);
			check_full(rc_models[m], rc_vpmus[v], true);
		}
}

/* Without the host option the prefix is a #UD (KVM injects it back). */
static void test_fep_off(void **state)
{
	static const char *const cpus[] = { "sapphirerapids", "zen4" };

	(void)state;
	for (size_t m = 0; m < 2; m++)
		for (size_t v = 0; v < 3; v++) {
			setup(cpus[m], rc_vpmus[v], "hello world", false);
			check_full(cpus[m], rc_vpmus[v], false);
		}
}

/* A module is loaded page-aligned (the header asks for it) with its
 * arguments as its command line. */
static void test_module(void **state)
{
	char mod[256];
	struct mv_program *pr;

	(void)state;
	snprintf(mod, sizeof(mod), "%s/multiboot/mod.txt", MV_GUEST_DIR);
	{
		FILE *f = fopen(mod, "w");

		assert_non_null(f);
		fputs("Zmodule data\n", f);	/* 13 bytes */
		fclose(f);
	}
	setup("zen4", MV_VPMU_MEDIATED, NULL, false);
	pr = &rc_sc.vm[0].prog[0];
	snprintf(pr->modules[0], sizeof(pr->modules[0]), "%s arg1", mod);
	pr->nr_modules = 1;
	rc_sc.bare = *pr;
	rc_go();
	assert_int_equal(rc_num("modules"), 1);
	assert_non_null(strstr(rc_text, "module0 size=13 aligned=1 first=Z cmdline=["));
	assert_non_null(strstr(rc_text, "mod.txt arg1]\n"));
	remove(mod);
}

/* A kernel that halts with interrupts off ends as halted, never hangs. */
static void test_halt_cli(void **state)
{
	(void)state;
	for (size_t v = 0; v < 3; v++) {
		const struct mv_image_result *im;

		setup("skylake", rc_vpmus[v], "halt-cli", false);
		im = rc_go();
		assert_false(im->exited);
		assert_string_equal(im->exit, "halted");
		assert_non_null(strstr(im->message, "interrupts disabled"));
	}
}

/* A low page, itself RAM, mapped to another physical page: the bridge
 * cannot serve it (FACTS.md s.9); the guest ends naming the address,
 * before the read prints anything. */
static void test_unsupported_mapping(void **state)
{
	(void)state;
	for (size_t v = 0; v < 3; v++) {
		const struct mv_image_result *im;

		setup("zen4", rc_vpmus[v], "unsupported", false);
		im = rc_go();
		assert_string_equal(im->exit, "unsupported-mapping");
		assert_non_null(strstr(im->message, "virtual 0x200000"));
		assert_null(strstr(rc_text, "read="));
	}
}

/* guest/kut/kut_pmu.S, a kernel written the way kvm-unit-tests writes
 * its x86-64 tests (flags-0 header, GS base in 32-bit mode, xAPIC reset,
 * INIT/SIPI to all-but-self, fw_cfg CPU count, x2APIC), made ELF32 by
 * objcopy.  Its counter counts MOV, N x LOOP, XOR, XOR, MOV and the
 * disabling WRMSR on bare metal (the enabling one is not counted, the
 * disabling one is; FACTS.md s.8): N + 5.  In a VM the enabling write is
 * counted by KVM's software path and the disabling one is not (Linux 7.0,
 * docs/realcode.md): N + 5 as well.  One PMI from -100 with INT set.
 * Every check passing: exit outl(0, 0xf4), status (0 << 1) | 1. */
static void test_kut_style(void **state)
{
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/kut/kut_pmu.elf", MV_GUEST_DIR);
	for (size_t m = 0; m < RC_NR_MODELS; m++)
		for (size_t v = 0; v < 3; v++) {
			const struct mv_image_result *im;

			rc_scenario_path(path, rc_models[m], rc_vpmus[v]);
			im = rc_go();
			assert_true(im->multiboot);
			if (!im->exited || im->exit_status != 1 ||
			    !strstr(rc_text, "PASS: instructions 1005\r\n") ||
			    !strstr(rc_text, "PASS: pmi 1\r\n") ||
			    !strstr(rc_text, "PASS: fw_cfg cpus 1\r\n") ||
			    !strstr(rc_text, "PASS: apic id 0\r\n") ||
			    !strstr(rc_text, "PASS: x2apic enabled, apic base 4276096256\r\n") ||
			    !strstr(rc_text, "SUMMARY: 6 tests, 0 unexpected failures\r\n"))
				fail_msg("kut_pmu on %s/%d: %s (%s)\n%s", rc_models[m], rc_vpmus[v],
					 im->exit, im->message, rc_text);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_every_model),
		cmocka_unit_test(test_fep_off),
		cmocka_unit_test(test_module),
		cmocka_unit_test(test_halt_cli),
		cmocka_unit_test(test_unsupported_mapping),
		cmocka_unit_test(test_kut_style),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
