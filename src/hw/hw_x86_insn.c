/* hw_x86_insn: the instructions the engine executes itself, before
 * Unicorn would: the PMU and MSR accessors, CPUID, port I/O and HLT go to
 * the environment (bare metal or the vCPU, struct mv_guest_ops), which
 * retires them as the hardware or KVM does; RDTSC, INT n and SYSCALL are
 * done here because Unicorn's own versions are not what the model needs
 * (a host clock, no IDT, a no-op).  Privilege checks follow the SDM's
 * instruction pages and come before any VM exit (SDM vol. 3 26.1.1). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hw_x86_internal.h"

#define MSR_TSC			0x10
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_EIP	0x176
#define MSR_PAT			0x277
#define MSR_STAR		0xC0000081
#define MSR_SFMASK		0xC0000084
#define MSR_FS_BASE		0xC0000100
#define MSR_TSC_AUX		0xC0000103
#define EFER_SCE		(1ULL << 0)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define EFER_NXE		(1ULL << 11)
#define EFER_CPU_BITS		(EFER_SCE | EFER_LME | EFER_NXE)
#define CR4_TSD			(1ULL << 2)
#define CR4_PCE			(1ULL << 8)
#define RFLAGS_DF		(1ULL << 10)
#define IOPL(rflags)		(((rflags) >> 12) & 3)
#define MAX_STRING_IO		65536

static bool raise(struct hw_x86 *x, uint64_t addr, unsigned v, bool has_err, uint32_t err)
{
	x->ev = (struct x86_event){ .pending = true, .vector = v, .has_err = has_err,
				    .err = err, .rip = addr };
	return false;
}

static bool gp0(struct hw_x86 *x, uint64_t addr)
{
	return raise(x, addr, 13, true, 0);
}

/* An instruction the environment retired: the truth per symbol. */
static void retired_by_env(struct hw_x86 *x, const struct x86_insn *in)
{
	int k = x->cpl == 0;

	x->sym[in->sym].insns[k]++;
	x->insns[k]++;
	x->total++;
	if (x->step_left)
		x->step_left--;
}

/* MSRs that are registers of the CPU core, served by Unicorn with no
 * exit: SYSCALL/SYSENTER targets, segment bases, TSC_AUX, PAT. */
static bool core_msr(uint32_t msr)
{
	return (msr >= MSR_SYSENTER_CS && msr <= MSR_SYSENTER_EIP) || msr == MSR_PAT ||
	       (msr >= MSR_STAR && msr <= MSR_SFMASK) ||
	       (msr >= MSR_FS_BASE && msr <= MSR_TSC_AUX);
}

static uint64_t cpu_msr(struct hw_x86 *x, uint32_t msr)
{
	uc_x86_msr m = { .rid = msr };

	uc_reg_read(x->uc, UC_X86_REG_MSR, &m);
	return m.value;
}

static void set_cpu_msr(struct hw_x86 *x, uint32_t msr, uint64_t v)
{
	uc_x86_msr m = { .rid = msr, .value = v };

	uc_reg_write(x->uc, UC_X86_REG_MSR, &m);
}

static uint32_t ecx(struct hw_x86 *x)
{
	return (uint32_t)x86_reg(x, UC_X86_REG_RCX);
}

static void set_edx_eax(struct hw_x86 *x, uint64_t v)
{
	x86_set_reg(x, UC_X86_REG_RAX, (uint32_t)v);
	x86_set_reg(x, UC_X86_REG_RDX, v >> 32);
}

static bool do_wrmsr(struct hw_x86 *x, uint64_t addr, const struct x86_insn *in)
{
	uint32_t msr = ecx(x);
	uint64_t val = (x86_reg(x, UC_X86_REG_RDX) << 32) | (uint32_t)x86_reg(x, UC_X86_REG_RAX);

	if (x->cpl)
		return gp0(x, addr);
	if (core_msr(msr)) {
		set_cpu_msr(x, msr, val);
		x86_retire_plain(x, in->sym, false);
		return true;
	}
	if (msr == MSR_TSC) {
		sim_trace(x->cfg.sim, TR_NOTE, msr, val, 0, "TSC write ignored");
		x86_retire_plain(x, in->sym, false);
		return true;
	}
	/* SDM vol. 4 IA32_EFER: LME may not change while paging is on. */
	if (msr == MSR_EFER && ((val ^ x86_state_efer(x)) & EFER_LME) &&
	    (x86_reg(x, UC_X86_REG_CR0) & (1ULL << 31)))
		return gp0(x, addr);
	if (x->g->ops->insn_wrmsr(x->g, msr, val))
		return gp0(x, addr);
	/* EFER: the environment keeps the value (SVME matters to the PMU);
	 * the CPU's bits go into Unicorn's state, whose WRMSR keeps only some
	 * of them (x86_state_set_efer).  LME makes the next MOV to CR0 that
	 * sets PG enter long mode; NXE changes what a page walk means. */
	if (msr == MSR_EFER) {
		x86_state_set_efer(x, val & EFER_CPU_BITS);
		x->efer = (x86_state_efer(x) & EFER_LMA) | (val & EFER_CPU_BITS);
		x->pg.pending = true;
	}
	retired_by_env(x, in);
	return true;
}

static bool do_rdmsr(struct hw_x86 *x, uint64_t addr, const struct x86_insn *in)
{
	uint32_t msr = ecx(x);
	uint64_t val = 0;

	if (x->cpl)
		return gp0(x, addr);
	if (core_msr(msr) || msr == MSR_TSC) {
		val = msr == MSR_TSC ? x->cfg.sim->cycle : cpu_msr(x, msr);
		set_edx_eax(x, val);
		x86_retire_plain(x, in->sym, false);
		return true;
	}
	if (x->g->ops->insn_rdmsr(x->g, msr, &val))
		return gp0(x, addr);
	if (msr == MSR_EFER)
		val = (val & ~(EFER_CPU_BITS | EFER_LMA)) |
		      (x86_state_efer(x) & (EFER_CPU_BITS | EFER_LMA));
	set_edx_eax(x, val);
	retired_by_env(x, in);
	return true;
}

static bool do_rdpmc(struct hw_x86 *x, uint64_t addr, const struct x86_insn *in)
{
	bool pce = x86_reg(x, UC_X86_REG_CR4) & CR4_PCE;
	uint64_t val = 0;

	if (pce != x->pce) {
		mv_set_cr4_pce(x->g, pce);
		x->pce = pce;
	}
	if (x->g->ops->insn_rdpmc(x->g, ecx(x), &val))
		return gp0(x, addr);
	set_edx_eax(x, val);
	retired_by_env(x, in);
	return true;
}

static bool do_cpuid(struct hw_x86 *x, const struct x86_insn *in)
{
	uint32_t r[4];

	x->g->ops->insn_cpuid(x->g, (uint32_t)x86_reg(x, UC_X86_REG_RAX), ecx(x), r);
	x86_set_reg(x, UC_X86_REG_RAX, r[0]);
	x86_set_reg(x, UC_X86_REG_RBX, r[1]);
	x86_set_reg(x, UC_X86_REG_RCX, r[2]);
	x86_set_reg(x, UC_X86_REG_RDX, r[3]);
	retired_by_env(x, in);
	return true;
}

/* SDM vol. 1 19.5: above IOPL, every port byte must be clear in the TSS
 * I/O permission bitmap. */
static bool io_allowed(struct hw_x86 *x, uint16_t port, unsigned size)
{
	uc_x86_mmr tr;
	uint8_t b[2];
	uint16_t base;
	uint32_t pf;

	if (x->cpl <= IOPL(x86_reg(x, UC_X86_REG_RFLAGS)))
		return true;
	uc_reg_read(x->uc, UC_X86_REG_TR, &tr);
	if (!(tr.selector & ~3u) || tr.limit < 0x67 || x86_vread(x, tr.base + 0x66, b, 2, &pf))
		return false;
	base = (uint16_t)(b[0] | (b[1] << 8));
	for (unsigned p = port; p < (unsigned)port + size; p++) {
		uint8_t bits;

		if ((uint64_t)base + p / 8 > tr.limit ||
		    x86_vread(x, tr.base + base + p / 8, &bits, 1, &pf) || (bits >> (p % 8)) & 1)
			return false;
	}
	return true;
}

static void set_sized(struct hw_x86 *x, int reg, unsigned size, uint32_t v)
{
	uint64_t old = x86_reg(x, reg);

	if (size == 4)
		x86_set_reg(x, reg, v);	/* 32-bit results zero-extend */
	else if (size == 2)
		x86_set_reg(x, reg, (old & ~0xFFFFULL) | (v & 0xFFFF));
	else
		x86_set_reg(x, reg, (old & ~0xFFULL) | (v & 0xFF));
}

/* INS/OUTS, REP or not: every element's memory is checked before any
 * I/O happens (a fault leaves the instruction undone), then the whole
 * string goes to the device in one instruction.  0 done (retired here
 * when there was nothing to do: -1), 1 fault raised, 2 the guest ended. */
static int do_string_io(struct hw_x86 *x, uint64_t addr, const struct x86_insn *in,
			uint16_t port)
{
	bool in_dir = in->aux & XIO_IN, a32 = in->aux & XIO_ADDR32;
	int ireg = in_dir ? UC_X86_REG_RDI : UC_X86_REG_RSI;
	uint64_t mask = a32 ? 0xFFFFFFFFULL : ~0ULL;
	uint64_t count = ((in->aux & XIO_REP) ? x86_reg(x, UC_X86_REG_RCX) : 1) & mask;
	uint64_t ptr = x86_reg(x, ireg) & mask, seg = 0;
	int64_t step = (x86_reg(x, UC_X86_REG_RFLAGS) & RFLAGS_DF) ? -(int64_t)in->size : in->size;
	uint32_t *data, pf;

	if (count == 0)
		return -1;
	if (count > MAX_STRING_IO) {
		x86_end(x, HW_X86_ERROR, "REP INS/OUTS of %" PRIu64 " elements at 0x%" PRIx64
			" (at most %d are supported)", count, addr, MAX_STRING_IO);
		return 2;
	}
	if (in->aux & XIO_SEG_FS)
		seg = cpu_msr(x, MSR_FS_BASE);
	if (in->aux & XIO_SEG_GS)
		seg = cpu_msr(x, MSR_FS_BASE + 1);
	data = calloc(count, sizeof(*data));
	if (!data) {
		x86_end(x, HW_X86_ERROR, "out of memory for string I/O");
		return 2;
	}
	for (uint64_t i = 0; i < count; i++) {
		uint64_t va = seg + ((ptr + (uint64_t)step * i) & mask), pa;
		int r;

		if (in_dir) {
			r = x86_translate(x, va, true, x->cpl == 3, &pa, &pf);
			if (r > 0)
				x86_set_reg(x, UC_X86_REG_CR2, va);
			else if (!r && !x86_phys(x, pa, in->size))
				r = -1;
		} else {
			r = x86_vread(x, va, &data[i], in->size, &pf);
		}
		if (r) {
			free(data);
			if (r > 0)
				raise(x, addr, 14, true, pf);
			else
				gp0(x, addr);
			return 1;
		}
	}
	x->g->ops->insn_io(x->g, port, in->size, in_dir, data, (unsigned)count);
	for (uint64_t i = 0; in_dir && i < count; i++)
		x86_vwrite(x, seg + ((ptr + (uint64_t)step * i) & mask), &data[i], in->size, &pf);
	free(data);
	x86_set_reg(x, ireg, (x86_reg(x, ireg) & ~mask) | ((ptr + (uint64_t)step * count) & mask));
	if (in->aux & XIO_REP)
		x86_set_reg(x, UC_X86_REG_RCX, x86_reg(x, UC_X86_REG_RCX) & ~mask);
	return 0;
}

static bool do_io(struct hw_x86 *x, uint64_t addr, const struct x86_insn *in)
{
	uint16_t port = (in->aux & XIO_DX) ? (uint16_t)x86_reg(x, UC_X86_REG_RDX) : in->arg;
	uint32_t v;

	if (!io_allowed(x, port, in->size))
		return gp0(x, addr);
	if (in->aux & XIO_STRING) {
		int r = do_string_io(x, addr, in, port);

		if (r < 0) {	/* nothing to move: no I/O, no exit */
			x86_retire_plain(x, in->sym, false);
			return true;
		}
		if (r)
			return false;
	} else if (in->aux & XIO_IN) {
		x->g->ops->insn_io(x->g, port, in->size, true, &v, 1);
		set_sized(x, UC_X86_REG_RAX, in->size, v);
	} else {
		v = (uint32_t)x86_reg(x, UC_X86_REG_RAX);
		x->g->ops->insn_io(x->g, port, in->size, false, &v, 1);
	}
	if (x->plat && x->plat->exited) {
		x86_end(x, HW_X86_EXITED, "wrote to isa-debug-exit at RIP 0x%" PRIx64
			": exit status %" PRIu32, addr, x->plat->exit_status);
		return false;
	}
	retired_by_env(x, in);
	return true;
}

bool x86_special(struct hw_x86 *x, uint64_t addr, const struct x86_insn *in)
{
	struct mv_guest *g = x->g;

	g->kernel = x->cpl == 0;
	g->label = x->cfg.label;
	switch (in->kind) {
	case XK_WRMSR:
		return do_wrmsr(x, addr, in);
	case XK_RDMSR:
		return do_rdmsr(x, addr, in);
	case XK_RDPMC:
		return do_rdpmc(x, addr, in);
	case XK_CPUID:
		return do_cpuid(x, in);
	case XK_HLT:
		if (x->cpl)
			return gp0(x, addr);
		g->ops->insn_hlt(g);
		retired_by_env(x, in);
		x->halted = true;
		return true;
	case XK_IO:
		return do_io(x, addr, in);
	case XK_INT:
		x->ev = (struct x86_event){ .pending = true, .vector = in->arg,
					    .soft = in->aux == 0, .retire = true, .rip = addr,
					    .next = addr + in->len, .sym = in->sym };
		return false;
	case XK_SYSCALL:
		if (!(x->efer & EFER_SCE))
			return raise(x, addr, 6, false, 0);
		x86_retire_plain(x, in->sym, true);
		x->syscall_pending = true;
		x->syscall_next = addr + in->len;
		return false;
	case XK_SYSRET:
		if (!(x->efer & EFER_SCE))
			return raise(x, addr, 6, false, 0);
		if (x->cpl || (uint64_t)((int64_t)(x86_reg(x, UC_X86_REG_RCX) << 16) >> 16) !=
		    x86_reg(x, UC_X86_REG_RCX))
			return gp0(x, addr);
		if (!in->aux) {
			x86_end(x, HW_X86_ERROR, "SYSRET to compatibility mode at 0x%" PRIx64
				" (32-bit code is not supported)", addr);
			return false;
		}
		x86_retire_plain(x, in->sym, true);
		x->sysret_pending = true;
		return false;
	case XK_RDTSC:
	case XK_RDTSCP:
		if ((x86_reg(x, UC_X86_REG_CR4) & CR4_TSD) && x->cpl)
			return gp0(x, addr);
		set_edx_eax(x, x->cfg.sim->cycle);
		if (in->kind == XK_RDTSCP)
			x86_set_reg(x, UC_X86_REG_RCX, (uint32_t)cpu_msr(x, MSR_TSC_AUX));
		x86_retire_plain(x, in->sym, false);
		return true;
	case XK_UD:
		return raise(x, addr, 6, false, 0);
	default:
		return true;
	}
}
