/* hw_virt: the virtualization hardware the PMU cares about.  VMX: the VMCS
 * controls for PERF_GLOBAL_CTRL load/save, the VM-exit MSR-store list, the
 * MSR bitmap, RDPMC and interrupt exiting.  SVM: the VMCB intercepts and the
 * MSR permission map.  Layouts from SDM vol. 3 ch. 25 and APM vol. 2 s.15.11. */
#ifndef HW_VIRT_H
#define HW_VIRT_H

#include <stdbool.h>
#include <stdint.h>

#include "hw_cpu.h"

/* VMX controls (SDM vol. 3, 25.6-25.8; FACTS.md section 4) */
#define VMX_PIN_EXTINT_EXITING		X86_BIT(0)
#define VMX_PIN_NMI_EXITING		X86_BIT(3)
#define VMX_PROC_RDPMC_EXITING		X86_BIT(11)
#define VMX_PROC_USE_MSR_BITMAPS	X86_BIT(28)
#define VMX_EXIT_LOAD_PERF_GLOBAL_CTRL	X86_BIT(12)
#define VMX_EXIT_SAVE_PERF_GLOBAL_CTRL	X86_BIT(30)
#define VMX_ENTRY_LOAD_PERF_GLOBAL_CTRL	X86_BIT(13)
#define VMCS_GUEST_PERF_GLOBAL_CTRL	0x2808
#define VMCS_HOST_PERF_GLOBAL_CTRL	0x2C04

/* VMX basic exit reasons (SDM vol. 3, appendix C) */
#define VMX_EXIT_NMI		0
#define VMX_EXIT_EXTINT		1
#define VMX_EXIT_CPUID		10
#define VMX_EXIT_HLT		12
#define VMX_EXIT_IO		30
#define VMX_EXIT_APIC_ACCESS	44
#define VMX_EXIT_RDPMC		15
#define VMX_EXIT_MSR_READ	31
#define VMX_EXIT_MSR_WRITE	32
#define VMX_EXIT_EPT_MISCONFIG	49	/* the model's "emulated instruction" */

#define HW_MSR_LIST_MAX 16

struct hw_msr_entry {
	uint32_t index;
	uint64_t value;
};

struct hw_msr_list {
	struct hw_msr_entry e[HW_MSR_LIST_MAX];
	unsigned nr;
};

struct hw_vmcs {
	uint64_t pin, proc, entry_ctls, exit_ctls;
	uint64_t guest_perf_global_ctrl;
	uint64_t host_perf_global_ctrl;
	struct hw_msr_list exit_store;	/* VM-exit MSR-store list */
	struct hw_msr_list entry_load;	/* VM-entry MSR-load list */
	struct hw_msr_list exit_load;	/* VM-exit MSR-load list */
	uint8_t msr_bitmap[4096];
	uint32_t exit_reason;
	uint64_t exit_qual;
};

/* One bit of an intercept bitmap (bit < 0: outside it, always exits). */
void hw_bitmap_assign(uint8_t *map, long bit, bool on);
bool hw_bitmap_test(const uint8_t *map, long bit);

void hw_vmcs_init(struct hw_vmcs *vmcs);
/* Sets or clears the read and write intercepts of one MSR. */
void hw_vmx_msr_intercept(struct hw_vmcs *vmcs, uint32_t msr, bool read,
			  bool write);
/* Whether an access exits: MSRs outside the bitmap's ranges always do. */
bool hw_vmx_msr_exits(const struct hw_vmcs *vmcs, uint32_t msr, bool write);
void hw_msr_list_set(struct hw_msr_list *l, uint32_t index, uint64_t value);
uint64_t hw_msr_list_get(const struct hw_msr_list *l, uint32_t index, bool *found);

/* VM-entry: loads guest GLOBAL_CTRL if the entry control asks, applies the
 * entry MSR-load list, switches the CPU to guest mode for context `ctx`. */
void hw_vmx_entry(struct hw_cpu *cpu, struct hw_vmcs *vmcs, int ctx);
/* VM-exit: records the reason, saves GLOBAL_CTRL (save control) or stores
 * the exit MSR-store list, loads the host GLOBAL_CTRL and the exit load
 * list, and switches the CPU to host mode. */
void hw_vmx_exit(struct hw_cpu *cpu, struct hw_vmcs *vmcs, uint32_t reason,
		 uint64_t qual);

/* SVM (APM vol. 2, appendix C exit codes; 15.11 MSR permission map) */
#define SVM_EXIT_EXCP_UD	0x46	/* SVM_EXIT_EXCP_BASE + #UD */
#define SVM_EXIT_INTR		0x60
#define SVM_EXIT_NMI		0x61
#define SVM_EXIT_RDPMC		0x6F
#define SVM_EXIT_CPUID		0x72
#define SVM_EXIT_HLT		0x78
#define SVM_EXIT_IOIO		0x7B
#define SVM_EXIT_MSR		0x7C
#define SVM_EXIT_NPF		0x400	/* the model's "emulated instruction" */

struct hw_vmcb {
	bool intercept_rdpmc, intercept_intr, intercept_nmi;
	uint8_t msrpm[8192];
	uint32_t exit_code;
	uint64_t exit_info;	/* MSR: 1 write / 0 read in bit 0; msr in 63:32 */
};

void hw_vmcb_init(struct hw_vmcb *vmcb);
void hw_svm_msr_intercept(struct hw_vmcb *vmcb, uint32_t msr, bool read,
			  bool write);
bool hw_svm_msr_exits(const struct hw_vmcb *vmcb, uint32_t msr, bool write);
void hw_svm_vmrun(struct hw_cpu *cpu, struct hw_vmcb *vmcb, int ctx);
void hw_svm_exit(struct hw_cpu *cpu, struct hw_vmcb *vmcb, uint32_t code,
		 uint64_t info);

#endif
