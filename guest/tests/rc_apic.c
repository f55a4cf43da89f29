/* rc_apic: the local APIC as a guest kernel sets it up through the x2APIC
 * MSRs (docs/hw.md): IA32_APIC_BASE (enabled, x2APIC mode, 0xFEE00000,
 * BSP) takes only its own value; ID and version are read-only (SDM vol. 3
 * 11.12.1.2); TPR and SVR keep what is written, reserved bits #GP; a
 * faulting LVTPC or EOI write changes nothing; CPUID.1 reports APIC and
 * x2APIC.  Prints key=value; tests/hw/test_realcode.c checks them. */
#include "mvpmu-guest.h"

static void show(const char *k, uint32_t msr)
{
	uint64_t v = 0;
	int f = mvg_rdmsr_safe(msr, &v);

	mvg_printf("%s=%s%s0x%lx\n", k, f ? "gp" : "", f ? "/" : "", v);
}

int main(void)
{
	uint32_t r[4];
	uint64_t base = mvg_rdmsr(0x1B);

	mvg_cpuid(1, 0, r);
	mvg_printf("cpuid_apic=%u cpuid_x2apic=%u apic_id=%u\n", (r[3] >> 9) & 1, (r[2] >> 21) & 1,
		   r[1] >> 24);
	show("apic_base", 0x1B);
	mvg_printf("base_same=%d\n", mvg_wrmsr_safe(0x1B, base));
	mvg_printf("base_xapic=%d\n", mvg_wrmsr_safe(0x1B, base & ~(1ULL << 10)));
	mvg_printf("base_move=%d\n", mvg_wrmsr_safe(0x1B, base + 0x1000));
	show("id", 0x802);
	mvg_printf("id_write=%d\n", mvg_wrmsr_safe(0x802, 5));
	show("version", 0x803);
	mvg_printf("version_write=%d\n", mvg_wrmsr_safe(0x803, 0));
	show("svr_reset", 0x80F);
	mvg_printf("svr_write=%d\n", mvg_wrmsr_safe(0x80F, 0x1F0));
	show("svr", 0x80F);
	mvg_printf("svr_reserved=%d\n", mvg_wrmsr_safe(0x80F, 0x1000 | 0x1FF));
	show("svr_after", 0x80F);
	mvg_printf("tpr_write=%d\n", mvg_wrmsr_safe(0x808, 0x20));
	show("tpr", 0x808);
	mvg_printf("tpr_reserved=%d\n", mvg_wrmsr_safe(0x808, 0x120));
	show("tpr_after", 0x808);
	mvg_wrmsr(0x834, 0x400);
	mvg_printf("lvtpc_high=%d\n", mvg_wrmsr_safe(0x834, (1ULL << 32) | 0xF0));
	show("lvtpc_after", 0x834);
	mvg_printf("eoi_nonzero=%d\n", mvg_wrmsr_safe(0x80B, 1));
	mvg_printf("eoi_zero=%d\n", mvg_wrmsr_safe(0x80B, 0));
	return 0;
}
