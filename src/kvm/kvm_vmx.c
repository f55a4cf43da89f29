/* kvm_vmx: the VMX half of the hypervisor as the PMU sees it: VMCS
 * controls for GLOBAL_CTRL (entry load, exit load of the host's 0, exit
 * save or the exit MSR-store list), the MSR bitmap and RDPMC exiting. */
#include "kvm_internal.h"

static const uint32_t vmx_codes[KVM_EXIT_NR] = {
	[KVM_EXIT_MSR_READ] = VMX_EXIT_MSR_READ, [KVM_EXIT_MSR_WRITE] = VMX_EXIT_MSR_WRITE,
	[KVM_EXIT_RDPMC] = VMX_EXIT_RDPMC, [KVM_EXIT_CPUID] = VMX_EXIT_CPUID,
	[KVM_EXIT_HLT] = VMX_EXIT_HLT, [KVM_EXIT_EXTINT] = VMX_EXIT_EXTINT,
	[KVM_EXIT_NMI] = VMX_EXIT_NMI, [KVM_EXIT_EMULATE] = VMX_EXIT_EPT_MISCONFIG,
	[KVM_EXIT_IO] = VMX_EXIT_IO, [KVM_EXIT_APIC] = VMX_EXIT_APIC_ACCESS,
	[KVM_EXIT_UD] = VMX_EXIT_NMI,
};

static const char *const vmx_names[KVM_EXIT_NR] = {
	[KVM_EXIT_MSR_READ] = "MSR_READ", [KVM_EXIT_MSR_WRITE] = "MSR_WRITE",
	[KVM_EXIT_RDPMC] = "RDPMC", [KVM_EXIT_CPUID] = "CPUID",
	[KVM_EXIT_HLT] = "HLT", [KVM_EXIT_EXTINT] = "EXTERNAL_INTERRUPT",
	[KVM_EXIT_NMI] = "EXCEPTION_NMI", [KVM_EXIT_EMULATE] = "EPT_MISCONFIG",
	[KVM_EXIT_IO] = "IO_INSTRUCTION", [KVM_EXIT_APIC] = "APIC_ACCESS",
	[KVM_EXIT_UD] = "EXCEPTION_NMI",
};

static uint32_t vmx_exit_code(enum kvm_exit r)
{
	return vmx_codes[r];
}

static const char *vmx_exit_name(enum kvm_exit r)
{
	return vmx_names[r];
}

static void vmx_vcpu_init(struct kvm_vcpu *v)
{
	hw_vmcs_init(&v->vmcs);
	v->vmcs.pin = VMX_PIN_EXTINT_EXITING | VMX_PIN_NMI_EXITING;
	v->vmcs.proc |= VMX_PROC_RDPMC_EXITING;
}

/* Mediated: the guest's GLOBAL_CTRL goes in at entry, the host gets 0 at
 * exit, and the guest value is saved by the exit control where the CPU
 * has it (Sapphire Rapids) or else by the exit MSR-store list.
 * Emulated: perf's exclude_host/exclude_guest pair, switched atomically. */
static void vmx_prepare_global_ctrl(struct kvm_vcpu *v)
{
	struct hw_vmcs *vmcs = &v->vmcs;
	const struct hw_model *m = vcpu_host_model(v);

	vmcs->entry_ctls &= ~VMX_ENTRY_LOAD_PERF_GLOBAL_CTRL;
	vmcs->exit_ctls &= ~(VMX_EXIT_LOAD_PERF_GLOBAL_CTRL | VMX_EXIT_SAVE_PERF_GLOBAL_CTRL);
	vmcs->exit_store.nr = 0;
	if (v->pmu.mediated) {
		vmcs->entry_ctls |= VMX_ENTRY_LOAD_PERF_GLOBAL_CTRL;
		vmcs->exit_ctls |= VMX_EXIT_LOAD_PERF_GLOBAL_CTRL;
		vmcs->guest_perf_global_ctrl = kvm_mediated_hw_global_ctrl(v);
		vmcs->host_perf_global_ctrl = 0;
		if (m->vmx_save_global_ctrl)
			vmcs->exit_ctls |= VMX_EXIT_SAVE_PERF_GLOBAL_CTRL;
		else
			hw_msr_list_set(&vmcs->exit_store, MSR_IA32_PERF_GLOBAL_CTRL, 0);
		return;
	}
	struct perf_guest_switch_msr sw[4];
	unsigned n;

	/* Test-only: the switch forgotten (mvpmu/test_hooks.h). */
	if (v->vm->kvm->sim->test.vmx_no_perf_global_switch)
		return;
	n = perf_guest_get_msrs(v->vm->kvm->perf, v->cpu->id, sw, 4);

	for (unsigned i = 0; i < n; i++) {
		if (sw[i].msr != MSR_IA32_PERF_GLOBAL_CTRL || !m->vmx_load_global_ctrl)
			continue;
		vmcs->entry_ctls |= VMX_ENTRY_LOAD_PERF_GLOBAL_CTRL;
		vmcs->exit_ctls |= VMX_EXIT_LOAD_PERF_GLOBAL_CTRL;
		vmcs->guest_perf_global_ctrl = sw[i].guest;
		vmcs->host_perf_global_ctrl = sw[i].host;
	}
}

static void vmx_enter(struct kvm_vcpu *v)
{
	vmx_prepare_global_ctrl(v);
	hw_vmx_entry(v->cpu, &v->vmcs, v->ctx);
}

static void vmx_exit(struct kvm_vcpu *v, enum kvm_exit reason, uint64_t qual)
{
	hw_vmx_exit(v->cpu, &v->vmcs, vmx_exit_code(reason), qual);
}

/* Where the guest wrote GLOBAL_CTRL directly, read back what it left. */
static void vmx_sync_global_ctrl(struct kvm_vcpu *v)
{
	struct hw_vmcs *vmcs = &v->vmcs;
	bool found = true;

	if (!v->pmu.mediated || !v->pmu.passthrough_global)
		return;
	if (vmcs->exit_ctls & VMX_EXIT_SAVE_PERF_GLOBAL_CTRL) {
		kvm_charge(v, vcpu_host_model(v)->cost.vmread);
		v->pmu.global_ctrl = vmcs->guest_perf_global_ctrl;
	} else {
		uint64_t val = hw_msr_list_get(&vmcs->exit_store, MSR_IA32_PERF_GLOBAL_CTRL, &found);

		if (found)
			v->pmu.global_ctrl = val;
	}
}

static bool vmx_msr_exits(struct kvm_vcpu *v, uint32_t msr, bool write)
{
	return hw_vmx_msr_exits(&v->vmcs, msr, write);
}

static void vmx_msr_intercept(struct kvm_vcpu *v, uint32_t msr, bool read, bool write)
{
	hw_vmx_msr_intercept(&v->vmcs, msr, read, write);
}

static void vmx_set_rdpmc_exiting(struct kvm_vcpu *v, bool on)
{
	if (on)
		v->vmcs.proc |= VMX_PROC_RDPMC_EXITING;
	else
		v->vmcs.proc &= ~VMX_PROC_RDPMC_EXITING;
}

static bool vmx_rdpmc_exits(struct kvm_vcpu *v)
{
	return v->vmcs.proc & VMX_PROC_RDPMC_EXITING;
}

/* SDM 26.1.1: RDPMC exiting is checked before RDPMC's own #GP. */
static bool vmx_rdpmc_faults_first(struct kvm_vcpu *v, uint32_t ecx)
{
	(void)v; (void)ecx;
	return false;
}

const struct kvm_x86_ops kvm_vmx_ops = {
	.name = "vmx",
	.vcpu_init = vmx_vcpu_init,
	.enter = vmx_enter,
	.exit = vmx_exit,
	.msr_exits = vmx_msr_exits,
	.msr_intercept = vmx_msr_intercept,
	.set_rdpmc_exiting = vmx_set_rdpmc_exiting,
	.rdpmc_exits = vmx_rdpmc_exits,
	.rdpmc_faults_first = vmx_rdpmc_faults_first,
	.sync_global_ctrl = vmx_sync_global_ctrl,
	.exit_name = vmx_exit_name,
	.exit_code = vmx_exit_code,
};
