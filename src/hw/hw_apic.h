/* hw_apic: the local APIC registers beyond the LVTPC and EOI that a test
 * kernel sets up, in xAPIC (MMIO page at 0xFEE00000) and x2APIC (MSRs
 * 0x800-0x8FF) mode, and IA32_APIC_BASE's mode switches (SDM vol. 3 ch.
 * 11, "Advanced Programmable Interrupt Controller").  The same rules serve
 * the CPU's APIC (hw_cpu) and KVM's virtual one; the LVTPC itself and EOI
 * stay with their owner, which the PMU and the PMI path use. */
#ifndef HW_APIC_H
#define HW_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* xAPIC register offsets in the APIC page (x2APIC MSR = 0x800 + off/16). */
#define APIC_OFF_ID		0x20
#define APIC_OFF_VERSION	0x30
#define APIC_OFF_TPR		0x80
#define APIC_OFF_APR		0x90
#define APIC_OFF_PPR		0xA0
#define APIC_OFF_EOI		0xB0
#define APIC_OFF_LDR		0xD0
#define APIC_OFF_DFR		0xE0
#define APIC_OFF_SVR		0xF0
#define APIC_OFF_ESR		0x280
#define APIC_OFF_CMCI		0x2F0
#define APIC_OFF_ICR		0x300
#define APIC_OFF_ICR2		0x310
#define APIC_OFF_TIMER		0x320
#define APIC_OFF_THERMAL	0x330
#define APIC_OFF_LVTPC		0x340
#define APIC_OFF_LINT0		0x350
#define APIC_OFF_LINT1		0x360
#define APIC_OFF_ERROR		0x370
#define APIC_OFF_TIMER_INIT	0x380
#define APIC_OFF_TIMER_CUR	0x390
#define APIC_OFF_TIMER_DIV	0x3E0
#define APIC_OFF_SELF_IPI	0x3F0	/* x2APIC only */

struct hw_apic_misc {
	uint64_t base;		/* IA32_APIC_BASE but BSP: address, EN, EXTD */
	uint32_t tpr, svr, ldr, dfr;
	uint32_t lvt_timer, lvt_thermal, lvt_cmci, lint0, lint1, lvt_error;
	uint32_t timer_init, timer_div;
	uint64_t icr;		/* the last IPI command (IPIs are not modelled) */
};

/* What an MMIO access did besides reading or writing its register. */
enum hw_apic_effect {
	HW_APIC_NONE,
	HW_APIC_EOI,		/* a write to EOI */
	HW_APIC_LVTPC,		/* the LVTPC was written (already stored) */
};

/* Reset as a host kernel and the API programs run it: enabled, x2APIC
 * mode, SVR 0x1FF, LINT0 ExtINT and LINT1 NMI (as firmware programs them
 * for the BSP: QEMU's apic_reset_common, KVM's kvm_lapic_reset), the
 * other LVT entries masked. */
void hw_apic_misc_reset(struct hw_apic_misc *a);
/* The mode firmware leaves an image in: x2APIC, or xAPIC (multiboot). */
void hw_apic_misc_set_mode(struct hw_apic_misc *a, bool x2apic);

static inline bool hw_apic_x2apic(const struct hw_apic_misc *a)
{
	return (a->base & (1ULL << 10)) && (a->base & (1ULL << 11));
}

static inline bool hw_apic_enabled(const struct hw_apic_misc *a)
{
	return (a->base & (1ULL << 11)) != 0;
}

/* x2APIC MSRs exist only in x2APIC mode (SDM 11.12.1.2): elsewhere
 * RDMSR and WRMSR of 0x800-0x8FF #GP. */
static inline bool hw_apic_x2apic_msr(uint32_t msr)
{
	return msr >= 0x800 && msr <= 0x8FF;
}

/* MSRs: IA32_APIC_BASE and the x2APIC registers other than LVTPC and EOI.
 * Each returns whether `msr` is one of them, with the fault in *fault.
 * Read-only registers and reserved bits #GP, and so do x2APIC MSRs
 * outside x2APIC mode. */
bool hw_apic_misc_wrmsr_fault(const struct hw_apic_misc *a, uint32_t msr, uint64_t val,
			      int *fault);
bool hw_apic_misc_wrmsr(struct hw_apic_misc *a, uint32_t msr, uint64_t val, int *fault);
bool hw_apic_misc_rdmsr(const struct hw_apic_misc *a, unsigned apic_id, uint32_t msr,
			uint64_t *val, int *fault);

/* An xAPIC MMIO access at `off` in the page.  Outside xAPIC mode (disabled
 * or x2APIC) reads give all ones and writes are dropped, as KVM's
 * LAPIC_MMIO_HOLE quirk does.  Reads of registers without a value and of
 * offsets between registers give 0; writes other than 4 bytes at a
 * register, and to read-only registers, are dropped (KVM's
 * apic_mmio_write).  `lvtpc`: the owner's LVTPC. */
enum hw_apic_effect hw_apic_mmio(struct hw_apic_misc *a, uint32_t *lvtpc, unsigned apic_id,
				 uint32_t off, unsigned size, bool write, uint64_t *val);

#endif
