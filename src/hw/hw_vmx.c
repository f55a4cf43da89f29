/* hw_vmx: VM-entry and VM-exit as they touch the PMU (GLOBAL_CTRL load and
 * save controls, MSR load/store lists) and the VMX MSR bitmap lookup. */
#include <string.h>

#include "hw_virt.h"

void hw_bitmap_assign(uint8_t *map, long bit, bool on)
{
	if (bit < 0)
		return;
	if (on)
		map[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

bool hw_bitmap_test(const uint8_t *map, long bit)
{
	return bit < 0 || (map[bit / 8] & (1u << (bit % 8)));
}

void hw_vmcs_init(struct hw_vmcs *vmcs)
{
	memset(vmcs, 0, sizeof(*vmcs));
	memset(vmcs->msr_bitmap, 0xFF, sizeof(vmcs->msr_bitmap));
	vmcs->proc = VMX_PROC_USE_MSR_BITMAPS;
}

/* SDM 25.6.9: read bitmap for low MSRs at 0x000, high (0xC0000000-
 * 0xC0001FFF) at 0x400; the write bitmaps follow at +0x800. */
static long bitmap_bit(uint32_t msr, bool write)
{
	long base;

	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
		base = 0x400 * 8, msr -= 0xC0000000;
	else
		return -1;
	return base + (write ? 0x800 * 8 : 0) + msr;
}

void hw_vmx_msr_intercept(struct hw_vmcs *vmcs, uint32_t msr, bool read,
			  bool write)
{
	hw_bitmap_assign(vmcs->msr_bitmap, bitmap_bit(msr, false), read);
	hw_bitmap_assign(vmcs->msr_bitmap, bitmap_bit(msr, true), write);
}

bool hw_vmx_msr_exits(const struct hw_vmcs *vmcs, uint32_t msr, bool write)
{
	if (!(vmcs->proc & VMX_PROC_USE_MSR_BITMAPS))
		return true;
	return hw_bitmap_test(vmcs->msr_bitmap, bitmap_bit(msr, write));
}

void hw_msr_list_set(struct hw_msr_list *l, uint32_t index, uint64_t value)
{
	for (unsigned i = 0; i < l->nr; i++) {
		if (l->e[i].index == index) {
			l->e[i].value = value;
			return;
		}
	}
	if (l->nr < HW_MSR_LIST_MAX)
		l->e[l->nr++] = (struct hw_msr_entry){ index, value };
}

uint64_t hw_msr_list_get(const struct hw_msr_list *l, uint32_t index, bool *found)
{
	for (unsigned i = 0; i < l->nr; i++) {
		if (l->e[i].index == index) {
			*found = true;
			return l->e[i].value;
		}
	}
	*found = false;
	return 0;
}

/* The processor loads and stores these lists itself: no WRMSR cost, no
 * trace of individual writes, and no write hook (the hardware is atomic). */
static void load_list(struct hw_cpu *cpu, const struct hw_msr_list *l)
{
	struct hw_cpu_hooks saved;

	if (!l->nr)
		return;
	saved = cpu->hooks;
	cpu->hooks.on_pmu_write = NULL;
	for (unsigned i = 0; i < l->nr; i++) {
		uint64_t val = l->e[i].value;
		int fault = cpu->ops->wrmsr(cpu, l->e[i].index, val);

		if (fault == HW_MSR_NOT_MINE)
			fault = X86_GP;
		(void)fault;	/* SDM: a bad entry aborts the transition; the model's lists are built valid */
	}
	cpu->hooks = saved;
}

void hw_vmx_entry(struct hw_cpu *cpu, struct hw_vmcs *vmcs, int ctx)
{
	sim_advance(cpu->sim, cpu->model->cost.vmentry, SIM_T_TRANSITION);
	if (vmcs->entry_ctls & VMX_ENTRY_LOAD_PERF_GLOBAL_CTRL)
		cpu->pmu.global_ctrl = vmcs->guest_perf_global_ctrl;
	load_list(cpu, &vmcs->entry_load);
	hw_cpu_set_guest_mode(cpu, true);
	cpu->ctx = ctx;
	hw_cpu_where(cpu);
	sim_trace(cpu->sim, TR_VMENTRY, (uint32_t)ctx, cpu->pmu.global_ctrl, 0, NULL);
}

void hw_vmx_exit(struct hw_cpu *cpu, struct hw_vmcs *vmcs, uint32_t reason,
		 uint64_t qual)
{
	vmcs->exit_reason = reason;
	vmcs->exit_qual = qual;
	if (vmcs->exit_ctls & VMX_EXIT_SAVE_PERF_GLOBAL_CTRL)
		vmcs->guest_perf_global_ctrl = cpu->pmu.global_ctrl;
	for (unsigned i = 0; i < vmcs->exit_store.nr; i++) {
		uint64_t v = 0;

		if (cpu->ops->rdmsr(cpu, vmcs->exit_store.e[i].index, &v) != HW_MSR_NOT_MINE)
			vmcs->exit_store.e[i].value = v;
	}
	if (vmcs->exit_ctls & VMX_EXIT_LOAD_PERF_GLOBAL_CTRL)
		cpu->pmu.global_ctrl = vmcs->host_perf_global_ctrl;
	load_list(cpu, &vmcs->exit_load);
	hw_cpu_set_guest_mode(cpu, false);
	cpu->ctx = 0;
	hw_cpu_where(cpu);
	sim_advance(cpu->sim, cpu->model->cost.vmexit, SIM_T_TRANSITION);
	sim_trace(cpu->sim, TR_VMEXIT, reason, qual, cpu->pmu.global_ctrl, NULL);
}
