/* hw_cpuid: the CPUID leaves outside the PMU's (which the vendor ops fill
 * in): vendor, signature, brand, and the feature bits of the modelled CPU
 * that this machine implements, no more (the instructions Unicorn 2.0.1's
 * TCG runs, the MSRs the model has); every other leaf reads 0.  Leaf
 * layouts from the SDM vol. 2 CPUID page and the AMD APM vol. 3 appendix
 * E; docs/realcode.md lists the bits and why each is or is not there. */
#include <string.h>

#include "hw_cpu.h"

#define MAX_BASIC	0xD
#define MAX_EXT_INTEL	0x80000008u
#define MAX_EXT_AMD	0x80000022u

/* CPUID.1:EDX: FPU, DE, PSE, TSC, MSR, PAE, CX8, APIC (when enabled),
 * PGE, CMOV, PAT, CLFSH, MMX, FXSR, SSE, SSE2.  Not VME (no virtual-8086
 * mode), MCE/MCA (no machine-check MSRs), SEP (SYSENTER is #UD here), MTRR
 * (no MTRR MSRs), PSE-36, DS, ACPI, TM, PBE, HTT (one logical CPU). */
#define LEAF1_EDX	(X86_BIT(0) | X86_BIT(2) | X86_BIT(3) | X86_BIT(4) | X86_BIT(5) | \
			 X86_BIT(6) | X86_BIT(8) | X86_BIT(13) | X86_BIT(15) | X86_BIT(16) | \
			 X86_BIT(19) | X86_BIT(23) | X86_BIT(24) | X86_BIT(25) | X86_BIT(26))
/* CPUID.1:ECX: SSE3, PCLMULQDQ, SSSE3, CX16, SSE4.1, SSE4.2, x2APIC (every
 * modelled CPU has one: Intel since Nehalem-EX servers, AMD since Zen 2),
 * MOVBE, POPCNT, AES.  Not MONITOR (#UD here), TSC-deadline (no deadline
 * timer on bare metal), XSAVE/AVX (not in the emulator), RDRAND (#UD). */
#define LEAF1_ECX	(X86_BIT(0) | X86_BIT(1) | X86_BIT(9) | X86_BIT(13) | X86_BIT(19) | \
			 X86_BIT(20) | X86_BIT(21) | X86_BIT(22) | X86_BIT(23) | X86_BIT(25))
/* CPUID.7.0:EBX: BMI1, ERMS, BMI2, ADX (instructions; no SMEP/SMAP,
 * FSGSBASE or AVX2, which need more than the emulator gives). */
#define LEAF7_EBX	(X86_BIT(3) | X86_BIT(8) | X86_BIT(9) | X86_BIT(19))
/* CPUID.80000001h:EDX: SYSCALL, NX, RDTSCP, LM; ECX: LAHF/SAHF. */
#define EXT1_EDX	(X86_BIT(11) | X86_BIT(20) | X86_BIT(27) | X86_BIT(29))
#define EXT1_ECX	X86_BIT(0)

static void vendor_string(const struct hw_model *m, uint32_t r[4])
{
	/* Leaf 0 spells the vendor in EBX, EDX, ECX order. */
	const char *s = m->vendor == HW_INTEL ? "GenuineIntel" : "AuthenticAMD";

	memcpy(&r[1], s, 4);
	memcpy(&r[3], s + 4, 4);
	memcpy(&r[2], s + 8, 4);
}

/* CPUID.1:EAX: stepping, model, family; family above 0xF goes to the
 * extended family field, the model's high nibble to the extended model. */
static uint32_t signature(const struct hw_model *m)
{
	uint32_t fam = m->family > 0xF ? 0xF : m->family;
	uint32_t ext_fam = m->family > 0xF ? m->family - 0xF : 0;

	return (ext_fam << 20) | ((m->model_id >> 4) << 16) | (fam << 8) |
	       ((m->model_id & 0xF) << 4) | (m->stepping & 0xF);
}

static uint32_t max_ext(const struct hw_model *m)
{
	return m->vendor == HW_INTEL ? MAX_EXT_INTEL : MAX_EXT_AMD;
}

uint32_t hw_cpuid_leaf(const struct hw_model *m, uint32_t leaf)
{
	bool in = leaf <= MAX_BASIC || (leaf >= 0x80000000u && leaf <= max_ext(m));

	/* SDM vol. 2 CPUID: beyond the maximum basic or extended leaf, Intel
	 * processors return the highest basic leaf's data; AMD's return 0. */
	if (!in && m->vendor == HW_INTEL)
		return MAX_BASIC;
	return leaf;
}

void hw_cpuid_base(const struct hw_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	const struct hw_model *m = cpu->model;

	switch (leaf) {
	case 0:
		r[0] = MAX_BASIC;
		vendor_string(m, r);
		break;
	case 1:
		r[0] = signature(m);
		r[1] = (uint32_t)cpu->id << 24 | 8 << 8;	/* APIC ID, CLFLUSH line 64 bytes */
		r[2] = (uint32_t)LEAF1_ECX;
		r[3] = (uint32_t)LEAF1_EDX;
		/* SDM 11.4.3: the APIC bit follows IA32_APIC_BASE.EN. */
		if (hw_apic_enabled(&cpu->apic.misc))
			r[3] |= (uint32_t)CPUID_1_EDX_APIC;
		break;
	case 7:
		if (sub == 0)
			r[1] = (uint32_t)LEAF7_EBX;
		break;
	case 0xB:
		/* One logical processor: SMT level, then core level. */
		if (sub <= 1) {
			r[1] = 1;
			r[2] = sub | ((sub + 1) << 8);
		} else {
			r[2] = sub;
		}
		r[3] = (uint32_t)cpu->id;
		break;
	case 0x80000000u:
		r[0] = max_ext(m);
		if (m->vendor == HW_AMD)
			vendor_string(m, r);
		break;
	case 0x80000001u:
		if (m->vendor == HW_AMD)
			r[0] = signature(m);
		r[2] = (uint32_t)EXT1_ECX;
		r[3] = (uint32_t)EXT1_EDX;
		break;
	case 0x80000002u: case 0x80000003u: case 0x80000004u: {
		char b[48] = { 0 };
		size_t n = m->brand ? strlen(m->brand) : 0;

		memcpy(b, m->brand ? m->brand : "", n < 47 ? n : 47);
		memcpy(r, b + 16 * (leaf - 0x80000002u), 16);
		break;
	}
	case 0x80000008u:
		/* Physical and linear address bits (no 5-level paging here). */
		r[0] = (m->vendor == HW_INTEL ? 46u : 48u) | (48u << 8);
		break;
	default:
		break;
	}
}
