/* kvm_svm: the SVM half: VMCB intercepts and the MSR permission map.  SVM
 * has no atomic GLOBAL_CTL switch; the mediated vPMU leaves the guest's
 * enables in the hardware and relies on GuestOnly selectors. */
#include "kvm_internal.h"

static const uint32_t svm_codes[KVM_EXIT_NR] = {
	[KVM_EXIT_MSR_READ] = SVM_EXIT_MSR, [KVM_EXIT_MSR_WRITE] = SVM_EXIT_MSR,
	[KVM_EXIT_RDPMC] = SVM_EXIT_RDPMC, [KVM_EXIT_CPUID] = SVM_EXIT_CPUID,
	[KVM_EXIT_HLT] = SVM_EXIT_HLT, [KVM_EXIT_EXTINT] = SVM_EXIT_INTR,
	[KVM_EXIT_NMI] = SVM_EXIT_NMI, [KVM_EXIT_EMULATE] = SVM_EXIT_NPF,
	[KVM_EXIT_IO] = SVM_EXIT_IOIO, [KVM_EXIT_APIC] = SVM_EXIT_NPF,
	[KVM_EXIT_UD] = SVM_EXIT_EXCP_UD,
};

static const char *const svm_names[KVM_EXIT_NR] = {
	[KVM_EXIT_MSR_READ] = "MSR", [KVM_EXIT_MSR_WRITE] = "MSR",
	[KVM_EXIT_RDPMC] = "RDPMC", [KVM_EXIT_CPUID] = "CPUID",
	[KVM_EXIT_HLT] = "HLT", [KVM_EXIT_EXTINT] = "INTR",
	[KVM_EXIT_NMI] = "NMI", [KVM_EXIT_EMULATE] = "NPF",
	[KVM_EXIT_IO] = "IOIO", [KVM_EXIT_APIC] = "NPF",
	[KVM_EXIT_UD] = "UD_EXCP",
};

static uint32_t svm_exit_code(enum kvm_exit r)
{
	return svm_codes[r];
}

static const char *svm_exit_name(enum kvm_exit r)
{
	return svm_names[r];
}

static void svm_vcpu_init(struct kvm_vcpu *v)
{
	hw_vmcb_init(&v->vmcb);
}

static void svm_enter(struct kvm_vcpu *v)
{
	hw_svm_vmrun(v->cpu, &v->vmcb, v->ctx);
}

static void svm_exit(struct kvm_vcpu *v, enum kvm_exit reason, uint64_t qual)
{
	hw_svm_exit(v->cpu, &v->vmcb, svm_exit_code(reason),
		    reason == KVM_EXIT_MSR_WRITE ? (qual << 32) | 1 : qual << 32);
}

/* GLOBAL_CTL writes that do not exit leave the guest's value only in the
 * hardware: read it back after the exit, before put zeroes it. */
static void svm_sync_global_ctrl(struct kvm_vcpu *v)
{
	uint64_t val = 0;

	if (!v->pmu.mediated || !v->pmu.passthrough_global || !v->pmu.loaded)
		return;
	if (hw_rdmsr(v->cpu, MSR_AMD_GLOBAL_CTL, &val) == X86_OK)
		v->pmu.global_ctrl = val;
}

static bool svm_msr_exits(struct kvm_vcpu *v, uint32_t msr, bool write)
{
	return hw_svm_msr_exits(&v->vmcb, msr, write);
}

static void svm_msr_intercept(struct kvm_vcpu *v, uint32_t msr, bool read, bool write)
{
	hw_svm_msr_intercept(&v->vmcb, msr, read, write);
}

static void svm_set_rdpmc_exiting(struct kvm_vcpu *v, bool on)
{
	v->vmcb.intercept_rdpmc = on;
}

static bool svm_rdpmc_exits(struct kvm_vcpu *v)
{
	return v->vmcb.intercept_rdpmc;
}

/* APM: exceptions an instruction raises (#GP for CPL/PCE or an index the
 * hardware lacks) are checked before the RDPMC intercept (FACTS.md s.1). */
static bool svm_rdpmc_faults_first(struct kvm_vcpu *v, uint32_t ecx)
{
	if (v->cpl > 0 && !v->cr4_pce)
		return true;
	return ecx >= vcpu_host_model(v)->nr_gp;
}

const struct kvm_x86_ops kvm_svm_ops = {
	.name = "svm",
	.vcpu_init = svm_vcpu_init,
	.enter = svm_enter,
	.exit = svm_exit,
	.msr_exits = svm_msr_exits,
	.msr_intercept = svm_msr_intercept,
	.set_rdpmc_exiting = svm_set_rdpmc_exiting,
	.rdpmc_exits = svm_rdpmc_exits,
	.rdpmc_faults_first = svm_rdpmc_faults_first,
	.sync_global_ctrl = svm_sync_global_ctrl,
	.exit_name = svm_exit_name,
	.exit_code = svm_exit_code,
};
