/* hw_apic: the local APIC registers of a test kernel's set-up, in both
 * interfaces: xAPIC MMIO and x2APIC MSRs (SDM vol. 3 11.4-11.6, 11.12),
 * with KVM's behaviour where the SDM leaves room (lapic.c:
 * kvm_lapic_reg_read/write, apic_mmio_read/write).  No timer, no IPIs:
 * their registers keep what is written; the current count reads 0. */
#include "hw_apic.h"
#include "mvpmu/x86.h"

#define BASE_EN		(1ULL << 11)
#define BASE_EXTD	(1ULL << 10)
#define BASE_ADDR	0x000FFFFFFFFFF000ULL
#define LVT_MASKED	(1u << 16)
#define SVR_ENABLE	(1u << 8)
#define ICR_BUSY	(1u << 12)
#define DFR_FLAT	0xFFFFFFFFu

/* Writable bits of each LVT entry: vector, delivery mode, pin polarity
 * and trigger, mask, timer mode (periodic, TSC-deadline). */
#define LVT_TIMER_BITS	0x000600FFu
#define LVT_DM_BITS	0x000107FFu	/* thermal, LVTPC */
#define LVT_LINT_BITS	0x0001A7FFu
#define LVT_ERROR_BITS	0x000100FFu

void hw_apic_misc_reset(struct hw_apic_misc *a)
{
	*a = (struct hw_apic_misc){
		.base = APIC_BASE_DEFAULT | BASE_EN | BASE_EXTD,
		.svr = APIC_SVR_RESET, .dfr = DFR_FLAT,
		.lvt_timer = LVT_MASKED, .lvt_thermal = LVT_MASKED, .lvt_cmci = LVT_MASKED,
		.lint0 = APIC_DM_EXTINT, .lint1 = APIC_DM_NMI, .lvt_error = LVT_MASKED,
	};
}

void hw_apic_misc_set_mode(struct hw_apic_misc *a, bool x2apic)
{
	a->base = APIC_BASE_DEFAULT | BASE_EN | (x2apic ? BASE_EXTD : 0);
}

/* ---- the registers by offset, shared by both interfaces ---- */

static uint32_t x2apic_ldr(unsigned id)
{
	/* SDM 11.12.10.2: cluster ID in 31:16, one bit of 16 in 15:0. */
	return ((id >> 4) << 16) | (1u << (id & 0xF));
}

/* 0 with *v, or -1: no such register in this mode. */
static int reg_read(const struct hw_apic_misc *a, uint32_t lvtpc, unsigned id, uint32_t off,
		    bool x2, uint64_t *v)
{
	*v = 0;
	switch (off) {
	case APIC_OFF_ID: *v = x2 ? id : (uint64_t)id << 24; return 0;
	case APIC_OFF_VERSION: *v = APIC_VERSION; return 0;
	case APIC_OFF_TPR: *v = a->tpr; return 0;
	case APIC_OFF_PPR: *v = a->tpr; return 0;	/* no interrupt in service */
	case APIC_OFF_LDR: *v = x2 ? x2apic_ldr(id) : a->ldr; return 0;
	case APIC_OFF_SVR: *v = a->svr; return 0;
	case APIC_OFF_ESR: return 0;
	case APIC_OFF_ICR: *v = x2 ? a->icr : (uint32_t)a->icr & ~ICR_BUSY; return 0;
	case APIC_OFF_TIMER: *v = a->lvt_timer; return 0;
	case APIC_OFF_THERMAL: *v = a->lvt_thermal; return 0;
	case APIC_OFF_LVTPC: *v = lvtpc; return 0;
	case APIC_OFF_LINT0: *v = a->lint0; return 0;
	case APIC_OFF_LINT1: *v = a->lint1; return 0;
	case APIC_OFF_ERROR: *v = a->lvt_error; return 0;
	case APIC_OFF_TIMER_INIT: *v = a->timer_init; return 0;
	case APIC_OFF_TIMER_CUR: return 0;	/* no timer runs */
	case APIC_OFF_TIMER_DIV: *v = a->timer_div; return 0;
	}
	if (off >= 0x100 && off < 0x280)	/* ISR, TMR, IRR: nothing pending */
		return 0;
	if (x2)
		return -1;
	switch (off) {
	case APIC_OFF_APR: case APIC_OFF_EOI: case 0xC0:	/* RRD */
		return 0;
	case APIC_OFF_DFR: *v = a->dfr | 0x0FFFFFFFu; return 0;
	case APIC_OFF_ICR2: *v = (uint32_t)(a->icr >> 32); return 0;
	}
	return -1;
}

static void mask_all(struct hw_apic_misc *a, uint32_t *lvtpc)
{
	a->lvt_timer |= LVT_MASKED;
	a->lvt_thermal |= LVT_MASKED;
	a->lint0 |= LVT_MASKED;
	a->lint1 |= LVT_MASKED;
	a->lvt_error |= LVT_MASKED;
	if (lvtpc)
		*lvtpc |= LVT_MASKED;
}

/* An LVT write: x2APIC refuses reserved bits, xAPIC drops them; a
 * software-disabled APIC keeps every entry masked (SDM 11.4.7.2). */
static int lvt(const struct hw_apic_misc *a, uint32_t *reg, uint64_t v, uint32_t bits, bool x2)
{
	if (x2 && (v & ~(uint64_t)bits))
		return -1;
	*reg = (uint32_t)v & bits;
	if (!(a->svr & SVR_ENABLE))
		*reg |= LVT_MASKED;
	return 0;
}

/* 0 done (effect in *fx), -1: #GP in x2APIC mode, dropped in xAPIC. */
static int reg_write(struct hw_apic_misc *a, uint32_t *lvtpc, uint32_t off, uint64_t v, bool x2,
		     enum hw_apic_effect *fx)
{
	*fx = HW_APIC_NONE;
	switch (off) {
	case APIC_OFF_TPR:
		if (x2 && (v & ~0xFFULL))
			return -1;
		a->tpr = (uint32_t)v & 0xFF;
		return 0;
	case APIC_OFF_EOI:
		if (x2 && v)
			return -1;	/* x2APIC EOI takes only 0 */
		*fx = HW_APIC_EOI;
		return 0;
	case APIC_OFF_SVR:
		if (x2 && (v & ~0x1FFULL))
			return -1;
		a->svr = (uint32_t)v & 0x1FF;
		if (!(a->svr & SVR_ENABLE))
			mask_all(a, lvtpc);
		return 0;
	case APIC_OFF_ESR:
		return x2 && v ? -1 : 0;
	case APIC_OFF_ICR:
		a->icr = x2 ? v : (a->icr & ~0xFFFFFFFFULL) | ((uint32_t)v & ~ICR_BUSY);
		return 0;
	case APIC_OFF_TIMER: return lvt(a, &a->lvt_timer, v, LVT_TIMER_BITS, x2);
	case APIC_OFF_THERMAL: return lvt(a, &a->lvt_thermal, v, LVT_DM_BITS, x2);
	case APIC_OFF_LVTPC:
		if (lvt(a, lvtpc, v, LVT_DM_BITS, x2))
			return -1;
		*fx = HW_APIC_LVTPC;
		return 0;
	case APIC_OFF_LINT0: return lvt(a, &a->lint0, v, LVT_LINT_BITS, x2);
	case APIC_OFF_LINT1: return lvt(a, &a->lint1, v, LVT_LINT_BITS, x2);
	case APIC_OFF_ERROR: return lvt(a, &a->lvt_error, v, LVT_ERROR_BITS, x2);
	case APIC_OFF_TIMER_INIT:
		if (x2 && (v >> 32))
			return -1;
		a->timer_init = (uint32_t)v;
		return 0;
	case APIC_OFF_TIMER_DIV:
		if (x2 && (v & ~0xBULL))
			return -1;
		a->timer_div = (uint32_t)v & 0xB;
		return 0;
	case APIC_OFF_SELF_IPI:
		return x2 && !(v >> 8) ? 0 : -1;	/* accepted, not delivered */
	}
	if (x2)
		return -1;	/* read-only or no such register */
	switch (off) {
	case APIC_OFF_LDR: a->ldr = (uint32_t)v & 0xFF000000u; return 0;
	case APIC_OFF_DFR: a->dfr = (uint32_t)v | 0x0FFFFFFFu; return 0;
	case APIC_OFF_ICR2: a->icr = ((uint64_t)((uint32_t)v & 0xFF000000u) << 32) | (uint32_t)a->icr; return 0;
	}
	return 0;	/* xAPIC: read-only registers ignore writes */
}

/* ---- IA32_APIC_BASE (SDM 11.12.5, figure 11-26) ---- */

static bool base_write_ok(const struct hw_apic_misc *a, uint64_t val)
{
	uint64_t v = val & ~APIC_BASE_BSP;	/* BSP is the processor's, not written */
	bool en = v & BASE_EN, extd = v & BASE_EXTD;

	if ((v & ~(BASE_ADDR | BASE_EN | BASE_EXTD)) || (v >> 52))
		return false;		/* reserved bits */
	if ((v & BASE_ADDR) != APIC_BASE_DEFAULT)
		return false;		/* relocation is not modelled */
	if (extd && !en)
		return false;		/* invalid state */
	if (hw_apic_x2apic(a) && en && !extd)
		return false;		/* x2APIC to xAPIC needs disabling first */
	if (!hw_apic_enabled(a) && extd)
		return false;		/* disabled to x2APIC needs xAPIC first */
	return true;
}

/* ---- MSRs ---- */

static bool misc_msr(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE ||
	       (hw_apic_x2apic_msr(msr) && msr != MSR_X2APIC_LVTPC && msr != MSR_X2APIC_EOI);
}

bool hw_apic_misc_wrmsr_fault(const struct hw_apic_misc *a, uint32_t msr, uint64_t val,
			      int *fault)
{
	struct hw_apic_misc tmp = *a;
	uint32_t lvtpc = 0;
	enum hw_apic_effect fx;

	if (!misc_msr(msr))
		return false;
	if (msr == MSR_IA32_APIC_BASE)
		*fault = base_write_ok(a, val) ? X86_OK : X86_GP;
	else if (!hw_apic_x2apic(a))
		*fault = X86_GP;
	else
		*fault = reg_write(&tmp, &lvtpc, (msr - 0x800) * 16, val, true, &fx) ? X86_GP : X86_OK;
	return true;
}

bool hw_apic_misc_wrmsr(struct hw_apic_misc *a, uint32_t msr, uint64_t val, int *fault)
{
	uint32_t lvtpc = 0;
	enum hw_apic_effect fx;

	if (!hw_apic_misc_wrmsr_fault(a, msr, val, fault))
		return false;
	if (*fault != X86_OK)
		return true;
	if (msr == MSR_IA32_APIC_BASE)
		a->base = val & (BASE_ADDR | BASE_EN | BASE_EXTD);
	else
		reg_write(a, &lvtpc, (msr - 0x800) * 16, val, true, &fx);
	return true;
}

bool hw_apic_misc_rdmsr(const struct hw_apic_misc *a, unsigned apic_id, uint32_t msr,
			uint64_t *val, int *fault)
{
	if (!misc_msr(msr))
		return false;
	*val = 0;
	*fault = X86_OK;
	if (msr == MSR_IA32_APIC_BASE)
		*val = a->base | (apic_id == 0 ? APIC_BASE_BSP : 0);
	else if (!hw_apic_x2apic(a) || reg_read(a, 0, apic_id, (msr - 0x800) * 16, true, val))
		*fault = X86_GP;
	return true;
}

/* ---- MMIO ---- */

enum hw_apic_effect hw_apic_mmio(struct hw_apic_misc *a, uint32_t *lvtpc, unsigned apic_id,
				 uint32_t off, unsigned size, bool write, uint64_t *val)
{
	enum hw_apic_effect fx = HW_APIC_NONE;
	uint64_t v;

	if (!hw_apic_enabled(a) || hw_apic_x2apic(a)) {
		if (!write)
			*val = size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
		return HW_APIC_NONE;
	}
	if (write) {
		if (size == 4 && !(off & 0xF))
			reg_write(a, lvtpc, off, (uint32_t)*val, false, &fx);
		return fx;
	}
	/* A read sees the bytes of the 32-bit register holding them. */
	*val = 0;
	for (unsigned i = 0; i < size && i < 8; i++) {
		uint32_t o = off + i;

		if ((o & 0xF) < 4 && !reg_read(a, *lvtpc, apic_id, o & ~0xFu, false, &v))
			*val |= ((v >> (8 * (o & 3))) & 0xFF) << (8 * i);
	}
	return HW_APIC_NONE;
}
