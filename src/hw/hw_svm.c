/* hw_svm: VMRUN and #VMEXIT as they touch the PMU, and the SVM MSR
 * permission map lookup.  SVM has no atomic GLOBAL_CTL switch: counting
 * splits between host and guest only through Host/GuestOnly selector bits. */
#include <string.h>

#include "hw_virt.h"

void hw_vmcb_init(struct hw_vmcb *vmcb)
{
	memset(vmcb, 0, sizeof(*vmcb));
	memset(vmcb->msrpm, 0xFF, sizeof(vmcb->msrpm));
	vmcb->intercept_rdpmc = true;
	vmcb->intercept_intr = true;
	vmcb->intercept_nmi = true;
}

/* APM 15.11: three 2 KiB vectors for MSRs 0-0x1FFF, 0xC0000000-0xC0001FFF
 * and 0xC0010000-0xC0011FFF; two bits per MSR, read then write. */
static long msrpm_bit(uint32_t msr, bool write)
{
	long base;

	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
		base = 0x800 * 8, msr -= 0xC0000000;
	else if (msr >= 0xC0010000 && msr <= 0xC0011FFF)
		base = 0x1000 * 8, msr -= 0xC0010000;
	else
		return -1;
	return base + 2L * msr + (write ? 1 : 0);
}

void hw_svm_msr_intercept(struct hw_vmcb *vmcb, uint32_t msr, bool read,
			  bool write)
{
	hw_bitmap_assign(vmcb->msrpm, msrpm_bit(msr, false), read);
	hw_bitmap_assign(vmcb->msrpm, msrpm_bit(msr, true), write);
}

bool hw_svm_msr_exits(const struct hw_vmcb *vmcb, uint32_t msr, bool write)
{
	return hw_bitmap_test(vmcb->msrpm, msrpm_bit(msr, write));
}

void hw_svm_vmrun(struct hw_cpu *cpu, struct hw_vmcb *vmcb, int ctx)
{
	(void)vmcb;
	sim_advance(cpu->sim, cpu->model->cost.vmentry, SIM_T_TRANSITION);
	hw_cpu_set_guest_mode(cpu, true);
	cpu->ctx = ctx;
	hw_cpu_where(cpu);
	sim_trace(cpu->sim, TR_VMENTRY, (uint32_t)ctx, cpu->pmu.global_ctrl, 0, NULL);
}

void hw_svm_exit(struct hw_cpu *cpu, struct hw_vmcb *vmcb, uint32_t code,
		 uint64_t info)
{
	vmcb->exit_code = code;
	vmcb->exit_info = info;
	hw_cpu_set_guest_mode(cpu, false);
	cpu->ctx = 0;
	hw_cpu_where(cpu);
	sim_advance(cpu->sim, cpu->model->cost.vmexit, SIM_T_TRANSITION);
	sim_trace(cpu->sim, TR_VMEXIT, code, info, cpu->pmu.global_ctrl, NULL);
}
