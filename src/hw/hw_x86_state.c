/* hw_x86_state: the CPU state Unicorn's API does not reach.  Unicorn
 * 2.0.1 (FACTS.md s.9) never delivers faults or interrupts through the
 * guest's IDT, its segment-register writes set only the selector, it
 * has no way to lower CPL, and it keeps an "exception in flight" that
 * turns the next fault into #DF.  Delivering events as the hardware does
 * needs those, so this module edits them in the CPU state that
 * uc_context_save() copies out and uc_context_restore() copies back.
 *
 * The offsets are those of QEMU 5.0's CPUX86State (target/i386/cpu.h:
 * regs[16], eip, eflags, cc_*, hflags, hflags2, segs[6] of SegmentCache
 * {selector, base, limit, flags}; error_code and old_exception further
 * on).  They are not taken on faith: x86_state_init() finds the state in
 * the context by marker values, checks each field against the API's view,
 * and runs a probe (two #DE and a #GP with a known error code) that fails
 * unless every offset is right.  A different libunicorn is refused with a
 * message instead of being corrupted. */
#include <stdio.h>
#include <string.h>

#include "hw_x86_internal.h"

/* Offsets from the start of CPUX86State (QEMU 5.0 as built in Unicorn
 * 2.0.1 for x86_64), checked by x86_state_init(). */
#define OFF_EIP		128
#define OFF_HFLAGS	176
#define OFF_SEGS	184
#define SEG_SIZE	24
#define OFF_EFER	560
#define OFF_ERROR_CODE	5352
#define OFF_OLD_EXC	5464

/* hflags bits (QEMU target/i386/cpu.h HF_*). */
#define HF_CPL_MASK	0x3u
#define HF_INHIBIT_IRQ	(1u << 3)
#define HF_CS32		(1u << 4)
#define HF_SS32		(1u << 5)
#define HF_ADDSEG	(1u << 6)
#define HF_PE		(1u << 7)
#define HF_LMA		(1u << 14)
#define HF_CS64		(1u << 15)
#define HF_SVME		(1u << 20)

#define DESC_B		(1u << 22)
#define DESC_L		(1u << 21)
#define CR0_PE		0x1u
#define EFER_LMA	(1ULL << 10)
#define RFLAGS_VM	(1ULL << 17)

static uint8_t *state(struct hw_x86 *x)
{
	return (uint8_t *)x->ctx + x->lay.data;
}

static void save(struct hw_x86 *x)
{
	uc_context_save(x->uc, x->ctx);
}

static void restore(struct hw_x86 *x)
{
	uc_context_restore(x->uc, x->ctx);
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void wr64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

/* hflags as QEMU's cpu_x86_load_seg_cache derives them from the segment
 * caches: CS64 (and CS32, SS32) for a long-mode code segment with L set,
 * else CS32 from CS.D; SS32 from SS.B; ADDSEG unless every base of DS,
 * ES and SS is 0 in 32-bit protected mode. */
static uint32_t derive_hflags(const uint8_t *p, const struct x86_layout *lay, uint32_t hf,
			      uint64_t cr0, uint64_t rflags)
{
	uint32_t cs = rd32(p, lay->segs + (size_t)X86_SEG_CS * SEG_SIZE + 20);
	uint32_t ss = rd32(p, lay->segs + (size_t)X86_SEG_SS * SEG_SIZE + 20);
	uint64_t bases = rd64(p, lay->segs + (size_t)X86_SEG_DS * SEG_SIZE + 8) |
			 rd64(p, lay->segs + (size_t)X86_SEG_ES * SEG_SIZE + 8) |
			 rd64(p, lay->segs + (size_t)X86_SEG_SS * SEG_SIZE + 8);

	hf &= ~(HF_CS32 | HF_SS32 | HF_CS64 | HF_ADDSEG);
	if ((hf & HF_LMA) && (cs & DESC_L))
		hf |= HF_CS64 | HF_CS32;
	else if (cs & DESC_B)
		hf |= HF_CS32;
	if (ss & DESC_B)
		hf |= HF_SS32;
	if (hf & HF_CS64)
		return hf;
	if (!(cr0 & CR0_PE) || (rflags & RFLAGS_VM) || !(hf & HF_CS32) || bases)
		hf |= HF_ADDSEG;
	return hf;
}

void x86_state_set(struct hw_x86 *x, const struct x86_seg *seg[6], int cpl)
{
	uint64_t cr0 = x86_reg(x, UC_X86_REG_CR0), rflags = x86_reg(x, UC_X86_REG_RFLAGS);
	uint8_t *p;
	uint32_t hf;

	save(x);
	p = state(x);
	hf = rd32(p, x->lay.hflags);
	for (int i = 0; i < 6; i++) {
		size_t o = x->lay.segs + (size_t)i * SEG_SIZE;

		if (!seg[i])
			continue;
		wr32(p, o, seg[i]->selector);
		wr64(p, o + 8, seg[i]->base);
		wr32(p, o + 16, seg[i]->limit);
		wr32(p, o + 20, seg[i]->flags);
	}
	hf = derive_hflags(p, &x->lay, hf, cr0, rflags);
	if (cpl >= 0)
		hf = (hf & ~HF_CPL_MASK) | (uint32_t)cpl;
	hf &= ~HF_INHIBIT_IRQ;
	wr32(p, x->lay.hflags, hf);
	wr32(p, x->lay.old_exception, 0xFFFFFFFFu);
	restore(x);
	x->cpu_dirty = true;
}

void x86_state_mode(struct hw_x86 *x, unsigned *cpl, enum x86_mode *mode)
{
	uint32_t hf;

	save(x);
	hf = rd32(state(x), x->lay.hflags);
	*cpl = hf & HF_CPL_MASK;
	*mode = (hf & HF_CS64) ? X86_MODE_64 : (hf & HF_CS32) ? X86_MODE_32 : X86_MODE_16;
	x->lma = (hf & HF_LMA) != 0;
}

uint64_t x86_state_efer(struct hw_x86 *x)
{
	save(x);
	return rd64(state(x), x->lay.efer);
}

/* Unicorn 2.0.1's WRMSR keeps only the EFER bits its CPU model lists
 * (measured: SCE and NXE are dropped), so the engine writes EFER into the
 * state itself.  LMA is the CPU's: it follows CR0.PG with LME (QEMU's
 * cpu_x86_update_cr0 sets it on MOV to CR0).  SVME is not given to the
 * emulator: its SVM instructions are not the model's. */
void x86_state_set_efer(struct hw_x86 *x, uint64_t efer)
{
	uint8_t *p;
	uint64_t cur;

	save(x);
	p = state(x);
	cur = rd64(p, x->lay.efer);
	wr64(p, x->lay.efer, (efer & ~(EFER_LMA | EFER_SVME)) | (cur & EFER_LMA));
	restore(x);
}

/* 32-bit protected mode with paging off, as a multiboot loader leaves the
 * CPU: EFER 0, so no long mode, and hflags without LMA and CS64 (the
 * Unicorn API cannot clear LMA: its CR0 write does not see a transition). */
void x86_state_legacy(struct hw_x86 *x)
{
	uint8_t *p;
	uint32_t hf;

	save(x);
	p = state(x);
	wr64(p, x->lay.efer, 0);
	hf = rd32(p, x->lay.hflags) & ~(HF_LMA | HF_CS64 | HF_SVME);
	wr32(p, x->lay.hflags, hf | HF_PE);
	restore(x);
	x->lma = false;
}

uint32_t x86_state_error_code(struct hw_x86 *x)
{
	save(x);
	return rd32(state(x), x->lay.error_code);
}

void x86_state_exception_done(struct hw_x86 *x)
{
	save(x);
	wr32(state(x), x->lay.old_exception, 0xFFFFFFFFu);
	restore(x);
}

/* ---- finding and checking the layout ---- */

static void probe_intr(uc_engine *uc, uint32_t intno, void *arg)
{
	*(int *)arg = (int)intno;
	uc_emu_stop(uc);
}

/* Runs `code` at the boot area's scratch page; returns the vector raised. */
static int probe_run(struct hw_x86 *x, const uint8_t *code, size_t len, int *vector)
{
	uint64_t at = HW_X86_BOOT_BASE + 0xF000, rsp = HW_X86_BOOT_BASE + 0xF800;

	memcpy(x->boot + 0xF000, code, len);
	uc_ctl_remove_cache(x->uc, at, at + 0x100);
	uc_reg_write(x->uc, UC_X86_REG_RSP, &rsp);
	*vector = -1;
	uc_emu_start(x->uc, at, at + len, 0, 0);
	return *vector;
}

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "libunicorn is not the 2.0.1 build this engine was checked "
		 "against (%s); real-code guests cannot run", what);
	return -1;
}

int x86_state_init(struct hw_x86 *x, char *err, size_t errlen)
{
	static const uint8_t div0[] = { 0x31, 0xC9, 0xF7, 0xF1, 0xF4 };	/* xor ecx,ecx; div ecx */
	static const uint8_t bad_ds[] = { 0x66, 0xB8, 0x34, 0x12, 0x8E, 0xD8, 0xF4 };	/* mov ax,0x1234; mov ds,ax */
	const uint64_t m1 = 0x1122334455667788ULL, m2 = 0x99AABBCCDDEEFF00ULL;
	uint64_t rip = HW_X86_BOOT_BASE + 0x1230;
	size_t size = uc_context_size(x->uc);
	uint8_t *c, *p;
	uint16_t cs = 0;
	uc_hook h;
	int v1, v2, v3, vec = -1;
	uint32_t ec;

	if (uc_context_alloc(x->uc, &x->ctx) != UC_ERR_OK)
		return fail(err, errlen, "no context");
	uc_reg_write(x->uc, UC_X86_REG_RAX, &m1);
	uc_reg_write(x->uc, UC_X86_REG_RCX, &m2);
	uc_reg_write(x->uc, UC_X86_REG_RIP, &rip);
	save(x);
	c = (uint8_t *)x->ctx;
	x->lay.data = 0;
	for (size_t o = 0; o + 16 <= 64 && o + 16 <= size; o += 8)
		if (rd64(c, o) == m1 && rd64(c, o + 8) == m2) {
			x->lay.data = o;
			break;
		}
	if (!x->lay.data || x->lay.data + OFF_OLD_EXC + 4 > size)
		return fail(err, errlen, "registers not found in the context");
	p = state(x);
	x->lay.hflags = OFF_HFLAGS;
	x->lay.segs = OFF_SEGS;
	x->lay.efer = OFF_EFER;
	x->lay.error_code = OFF_ERROR_CODE;
	x->lay.old_exception = OFF_OLD_EXC;
	uc_reg_read(x->uc, UC_X86_REG_CS, &cs);
	if (rd64(p, OFF_EIP) != rip)
		return fail(err, errlen, "RIP");
	if ((rd32(p, OFF_HFLAGS) & (HF_LMA | HF_CS64 | HF_CPL_MASK)) != (HF_LMA | HF_CS64))
		return fail(err, errlen, "hflags");
	if (rd32(p, OFF_SEGS + SEG_SIZE * X86_SEG_CS) != cs)
		return fail(err, errlen, "segment registers");
	if (rd32(p, OFF_OLD_EXC) != 0xFFFFFFFFu)
		return fail(err, errlen, "exception state");
	/* EFER: the API's view, and a change of LME through the API seen there. */
	{
		uc_x86_msr m = { .rid = 0xC0000080 };
		uint64_t before;

		uc_reg_read(x->uc, UC_X86_REG_MSR, &m);
		before = m.value;
		if (rd64(p, OFF_EFER) != before || !(before & EFER_LMA))
			return fail(err, errlen, "EFER");
		m.value = before ^ (1ULL << 8);
		uc_reg_write(x->uc, UC_X86_REG_MSR, &m);
		save(x);
		m.value = before;
		uc_reg_write(x->uc, UC_X86_REG_MSR, &m);
		if (rd64(state(x), OFF_EFER) != (before ^ (1ULL << 8)))
			return fail(err, errlen, "EFER write");
		save(x);
		p = state(x);
	}

	/* Two #DE in a row: the second is a #DE again only if resetting the
	 * exception state works; then a #GP whose error code is the selector. */
	if (uc_hook_add(x->uc, &h, UC_HOOK_INTR, (void *)probe_intr, &vec, 1, 0) != UC_ERR_OK)
		return fail(err, errlen, "hooks");
	v1 = probe_run(x, div0, sizeof(div0), &vec);
	save(x);
	if (v1 != 0 || rd32(state(x), OFF_OLD_EXC) != 0) {
		uc_hook_del(x->uc, h);
		return fail(err, errlen, "#DE probe");
	}
	x86_state_exception_done(x);
	v2 = probe_run(x, div0, sizeof(div0), &vec);
	x86_state_exception_done(x);
	v3 = probe_run(x, bad_ds, sizeof(bad_ds), &vec);
	ec = x86_state_error_code(x);
	x86_state_exception_done(x);
	uc_hook_del(x->uc, h);
	if (v2 != 0)
		return fail(err, errlen, "exception reset probe");
	if (v3 != 13 || ec != 0x1234)
		return fail(err, errlen, "error code probe");
	memset(x->boot + 0xF000, 0, 0x100);
	/* Not uc_ctl_flush_tlb(): in 2.0.1 it flushes every translation and
	 * clears Unicorn's whole 1 GiB code buffer (seconds of page faults). */
	uc_ctl_remove_cache(x->uc, HW_X86_BOOT_BASE + 0xF000, HW_X86_BOOT_BASE + 0xF100);
	return 0;
}
