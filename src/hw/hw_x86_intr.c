/* hw_x86_intr: exceptions and interrupts delivered through the guest's
 * IDT as an x86-64 CPU delivers them (SDM vol. 3 6.14 "Exception and
 * Interrupt Handling in 64-bit Mode", in long mode; 6.12 with 32-bit
 * gates in legacy protected mode; 6.15 double-fault rules), and SYSCALL
 * (SDM vol. 2 SYSCALL), which Unicorn 2.0.1 does not perform. */
#include <inttypes.h>
#include <string.h>

#include "hw_x86_internal.h"

#define RFLAGS_TF	(1ULL << 8)
#define RFLAGS_IF	(1ULL << 9)
#define RFLAGS_NT	(1ULL << 14)
#define RFLAGS_RF	(1ULL << 16)
#define RFLAGS_VM	(1ULL << 17)

#define DESC_S		(1u << 12)
#define DESC_CODE	(1u << 11)
#define DESC_CONFORM	(1u << 10)
#define DESC_P		(1u << 15)
#define DESC_L		(1u << 21)
#define DESC_DB		(1u << 22)

#define GATE_INTR	0xE
#define GATE_TRAP	0xF

#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_GP 13
#define VEC_PF 14

/* A fault raised while delivering an event. */
struct fault {
	unsigned vector;
	bool has_err;
	uint32_t err;
	char why[96];
};

static int raise_fault(struct fault *f, unsigned v, uint32_t err, const char *why)
{
	f->vector = v;
	f->has_err = v != 1 && v != 2;
	f->err = err;
	snprintf(f->why, sizeof(f->why), "%s", why);
	return 1;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* SDM 6.15 table 6-4: contributory exceptions. */
static bool contributory(unsigned v)
{
	return v == 0 || (v >= 10 && v <= 13);
}

/* Memory access failure during delivery: #PF when the page walk says so
 * (CR2 is set), else #GP (memory that does not exist). */
static int mem_fault(struct fault *f, int r, uint32_t pf_err, const char *why)
{
	if (r > 0)
		return raise_fault(f, VEC_PF, pf_err, why);
	return raise_fault(f, VEC_GP, 0, why);
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* A segment descriptor from the GDT or LDT (8 bytes). */
static int read_desc(struct hw_x86 *x, uint16_t sel, uint32_t ext, uint64_t *desc,
		     struct fault *f)
{
	uc_x86_mmr dt;
	uint32_t pf;
	uint8_t b[8];
	int r;

	uc_reg_read(x->uc, (sel & 4) ? UC_X86_REG_LDTR : UC_X86_REG_GDTR, &dt);
	if ((uint64_t)(sel & ~7u) + 7 > dt.limit)
		return raise_fault(f, VEC_GP, (sel & ~3u) | ext, "code selector beyond the GDT");
	r = x86_vread(x, dt.base + (sel & ~7u), b, 8, &pf);
	if (r)
		return mem_fault(f, r, pf, "reading a descriptor");
	*desc = u64(b);
	return 0;
}

/* RSP0-2 or IST1-7 from the 64-bit TSS (SDM 7.7). */
static int tss_stack(struct hw_x86 *x, unsigned off, uint32_t ext, uint64_t *rsp,
		     struct fault *f)
{
	uc_x86_mmr tr;
	uint32_t pf;
	uint8_t b[8];
	int r;

	uc_reg_read(x->uc, UC_X86_REG_TR, &tr);
	if (!(tr.selector & ~3u) || (uint64_t)off + 7 > tr.limit)
		return raise_fault(f, VEC_TS, (tr.selector & ~3u) | ext, "no usable TSS for the stack switch");
	r = x86_vread(x, tr.base + off, b, 8, &pf);
	if (r)
		return mem_fault(f, r, pf, "reading the TSS");
	*rsp = u64(b);
	return 0;
}

struct delivery {
	unsigned vector;
	enum x86_deliver kind;
	bool has_err;
	uint32_t err;
	uint64_t ret_rip;	/* pushed as the return address */
	uint64_t fault_rip;	/* where a fault of the delivery is reported */
	bool ext;		/* an event external to the program (EXT bit) */
	const struct x86_event *soft;	/* INT n to retire once delivered */
};

/* The delivery is committed (the frame is pushed): an INT n retires,
 * then the CPU enters the handler: CS (and SS on a privilege change),
 * CPL, RFLAGS without TF/NT/RF/VM (and IF through an interrupt gate),
 * the stack and the entry point.  SDM vol. 3 6.12.1. */
static void enter_handler(struct hw_x86 *x, const struct delivery *d, const struct x86_seg *cs,
			  const struct x86_seg *ss, unsigned new_cpl, uint64_t rflags,
			  bool intr_gate, uint64_t sp, uint64_t ip)
{
	const struct x86_seg *segs[6] = { NULL, cs, ss, NULL, NULL, NULL };

	if (d->soft)
		x86_retire_plain(x, d->soft->sym, true);
	x86_set_cpl(x, new_cpl);
	x86_state_set(x, segs, (int)new_cpl);
	rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (intr_gate)
		rflags &= ~RFLAGS_IF;
	x86_set_reg(x, UC_X86_REG_RSP, sp);
	x86_set_reg(x, UC_X86_REG_RFLAGS, rflags);
	x86_set_reg(x, UC_X86_REG_RIP, ip);
}

/* An IDT gate and the code segment it names, as both modes check them
 * (SDM vol. 3 6.12.1): the entry within the IDT limit (16 bytes in long
 * mode, 8 in legacy mode), an interrupt or trap gate, DPL >= CPL for
 * INT n, present, a non-null selector to present code (64-bit code in
 * long mode) no less privileged than CPL. */
struct gate {
	uint64_t lo, hi;	/* the entry (hi: long mode only) */
	uint64_t desc;		/* the target's descriptor */
	uint16_t sel;
	unsigned type, new_cpl;
};

static int read_gate(struct hw_x86 *x, const struct delivery *d, bool lm, struct gate *gt,
		     struct fault *f)
{
	unsigned size = lm ? 16 : 8, cpl = x->cpl;
	uint32_t ext = d->ext ? 1 : 0, pf, e2;
	uc_x86_mmr idtr;
	uint8_t g[16];
	int r;

	uc_reg_read(x->uc, UC_X86_REG_IDTR, &idtr);
	if ((uint64_t)d->vector * size + size - 1 > idtr.limit)
		return raise_fault(f, VEC_GP, d->vector * 8 + 2 + ext, "vector beyond the IDT limit");
	r = x86_vread(x, idtr.base + (uint64_t)d->vector * size, g, size, &pf);
	if (r)
		return mem_fault(f, r, pf, "reading the IDT");
	gt->lo = u64(g);
	gt->hi = lm ? u64(g + 8) : 0;
	gt->type = (gt->lo >> 40) & 0xF;
	gt->sel = (uint16_t)(gt->lo >> 16);
	if (gt->type != GATE_INTR && gt->type != GATE_TRAP)
		return raise_fault(f, VEC_GP, d->vector * 8 + 2 + ext, lm ?
				   "not an interrupt or trap gate" :
				   "not a 32-bit interrupt or trap gate (task and 16-bit gates are not modelled)");
	if (d->kind == XD_SOFT && ((gt->lo >> 45) & 3) < cpl)
		return raise_fault(f, VEC_GP, d->vector * 8 + 2, "gate DPL below CPL for INT n");
	if (!((gt->lo >> 47) & 1))
		return raise_fault(f, VEC_NP, d->vector * 8 + 2 + ext, "gate not present");
	if (!(gt->sel & ~3u))
		return raise_fault(f, VEC_GP, ext, "null code selector in the gate");
	if ((r = read_desc(x, gt->sel, ext, &gt->desc, f)))
		return r;
	e2 = (uint32_t)(gt->desc >> 32);
	if ((e2 & (DESC_S | DESC_CODE)) != (DESC_S | DESC_CODE))
		return raise_fault(f, VEC_GP, (gt->sel & ~3u) | ext, lm ?
				   "gate target is not 64-bit code" : "gate target is not code");
	if (lm && (!(e2 & DESC_L) || (e2 & DESC_DB)))
		return raise_fault(f, VEC_GP, (gt->sel & ~3u) | ext, "gate target is not 64-bit code");
	gt->new_cpl = (e2 & DESC_CONFORM) ? cpl : (e2 >> 13) & 3;
	if (gt->new_cpl > cpl)
		return raise_fault(f, VEC_GP, (gt->sel & ~3u) | ext, "gate target less privileged");
	if (!(e2 & DESC_P))
		return raise_fault(f, VEC_NP, (gt->sel & ~3u) | ext, "gate target not present");
	return 0;
}

static int try_deliver(struct hw_x86 *x, const struct delivery *d, struct fault *f)
{
	struct gate gt;
	uint64_t off, rsp = 0, old_rsp, rflags;
	uint32_t ext = d->ext ? 1 : 0, pf;
	unsigned ist, cpl = x->cpl, new_cpl;
	uint16_t old_cs = 0, old_ss = 0;
	uint64_t frame[6];
	unsigned n = 0;
	int r;

	if ((r = read_gate(x, d, true, &gt, f)))
		return r;
	new_cpl = gt.new_cpl;
	ist = (gt.lo >> 32) & 7;
	off = (gt.lo & 0xFFFF) | ((gt.lo >> 32) & 0xFFFF0000ULL) | (gt.hi << 32);
	if (!canonical(off))
		return raise_fault(f, VEC_GP, 0, "gate offset not canonical");
	old_rsp = x86_reg(x, UC_X86_REG_RSP);
	if (ist && (r = tss_stack(x, 36 + 8 * (ist - 1), ext, &rsp, f)))
		return r;
	if (!ist && new_cpl < cpl && (r = tss_stack(x, 4 + 8 * new_cpl, ext, &rsp, f)))
		return r;
	if (!ist && new_cpl == cpl)
		rsp = old_rsp;
	rsp &= ~0xFULL;	/* SDM 6.14.2: aligned to 16 bytes in 64-bit mode */
	uc_reg_read(x->uc, UC_X86_REG_CS, &old_cs);
	uc_reg_read(x->uc, UC_X86_REG_SS, &old_ss);
	rflags = x86_reg(x, UC_X86_REG_RFLAGS);
	if (d->has_err)
		frame[n++] = d->err;
	frame[n++] = d->ret_rip;
	frame[n++] = old_cs;
	frame[n++] = rflags;
	frame[n++] = old_rsp;
	frame[n++] = old_ss;
	rsp -= 8 * n;
	if (!canonical(rsp))
		return raise_fault(f, 12, 0, "stack not canonical");
	if ((r = x86_vwrite(x, rsp, frame, 8 * n, &pf)))
		return mem_fault(f, r, pf, "pushing the frame");

	{
		struct x86_seg cs = { (gt.sel & ~3u) | new_cpl, 0, 0xFFFFFFFF,
				      (uint32_t)(gt.desc >> 32) | (1u << 8) };
		struct x86_seg ss = { new_cpl, 0, 0, new_cpl << 13 };

		enter_handler(x, d, &cs, new_cpl < cpl ? &ss : NULL, new_cpl, rflags,
			      gt.type == GATE_INTR, rsp, off);
	}
	return 0;
}

/* The hidden part of a segment from its descriptor (SDM vol. 3 3.4.5),
 * the accessed bit set as loading sets it. */
static struct x86_seg seg_of(uint16_t sel, uint64_t d)
{
	uint32_t limit = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));

	if ((d >> 55) & 1)
		limit = (limit << 12) | 0xFFF;
	return (struct x86_seg){
		.selector = sel,
		.base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24),
		.limit = limit,
		.flags = (uint32_t)(d >> 32) | (1u << 8),
	};
}

/* Legacy protected mode: 8-byte 32-bit interrupt and trap gates, a stack
 * switch through the 32-bit TSS's SS0:ESP0 (SS1/SS2) when the privilege
 * changes, a frame of 32-bit words: [SS, ESP,] EFLAGS, CS, EIP[, error]. */
static int try_deliver32(struct hw_x86 *x, const struct delivery *d, struct fault *f)
{
	uc_x86_mmr tr;
	uint8_t t[8];
	struct gate gt;
	uint64_t rflags, sdesc = 0;
	uint32_t ext = d->ext ? 1 : 0, pf, frame[5], off, esp, old_esp;
	unsigned cpl = x->cpl, new_cpl, n = 0;
	uint16_t old_cs = 0, old_ss = 0, ss_sel = 0;
	struct x86_seg cs, ss;
	int r;

	if ((r = read_gate(x, d, false, &gt, f)))
		return r;
	new_cpl = gt.new_cpl;
	off = (uint32_t)((gt.lo & 0xFFFF) | ((gt.lo >> 32) & 0xFFFF0000ULL));
	old_esp = esp = (uint32_t)x86_reg(x, UC_X86_REG_RSP);
	if (new_cpl < cpl) {
		uc_reg_read(x->uc, UC_X86_REG_TR, &tr);
		if (!(tr.selector & ~3u) || 8 * (uint64_t)new_cpl + 11 > tr.limit)
			return raise_fault(f, VEC_TS, (tr.selector & ~3u) | ext, "no usable TSS for the stack switch");
		r = x86_vread(x, tr.base + 4 + 8 * (uint64_t)new_cpl, t, 8, &pf);
		if (r)
			return mem_fault(f, r, pf, "reading the TSS");
		esp = (uint32_t)u64(t);
		ss_sel = (uint16_t)(u64(t) >> 32);
		if (!(ss_sel & ~3u))
			return raise_fault(f, VEC_TS, ext, "null SS in the TSS");
		if ((r = read_desc(x, ss_sel, ext, &sdesc, f)))
			return r;
	}
	uc_reg_read(x->uc, UC_X86_REG_CS, &old_cs);
	uc_reg_read(x->uc, UC_X86_REG_SS, &old_ss);
	rflags = x86_reg(x, UC_X86_REG_RFLAGS);
	if (d->has_err)
		frame[n++] = d->err;
	frame[n++] = (uint32_t)d->ret_rip;
	frame[n++] = old_cs;
	frame[n++] = (uint32_t)rflags;
	if (new_cpl < cpl) {
		frame[n++] = old_esp;
		frame[n++] = old_ss;
	}
	esp -= 4 * n;
	{
		uint32_t lin = esp;

		if (new_cpl < cpl)
			lin += (uint32_t)seg_of(ss_sel, sdesc).base;
		if ((r = x86_vwrite(x, lin, frame, 4 * n, &pf)))
			return mem_fault(f, r, pf, "pushing the frame");
	}
	cs = seg_of((uint16_t)((gt.sel & ~3u) | new_cpl), gt.desc);
	ss = seg_of((uint16_t)((ss_sel & ~3u) | new_cpl), sdesc);
	enter_handler(x, d, &cs, new_cpl < cpl ? &ss : NULL, new_cpl, rflags, gt.type == GATE_INTR,
		      esp, off);
	return 0;
}

void x86_deliver(struct hw_x86 *x, unsigned v, enum x86_deliver kind, bool has_err,
		 uint32_t err, uint64_t rip, const struct x86_event *insn)
{
	struct delivery d = {
		.vector = v, .kind = kind, .has_err = has_err, .err = err,
		.ret_rip = insn ? insn->next : rip, .fault_rip = rip,
		.ext = kind == XD_NMI || kind == XD_EXT,
		.soft = insn,
	};
	unsigned first = v;

	if (!(x86_reg(x, UC_X86_REG_CR0) & 1)) {
		x86_end(x, HW_X86_ERROR, "vector %u at RIP 0x%" PRIx64 " in real mode (real-mode "
			"interrupts are not modelled)", v, rip);
		return;
	}
	/* A handler that faults at once (its gate points at a UD2, or SMEP
	 * forbids fetching it) brings the exception back for ever, and a CPU
	 * would spin there retiring nothing, which no instruction limit
	 * stops: end the guest once that is certain. */
	if (x->total != x->loop_total) {
		x->loop_total = x->total;
		x->loop_run = 0;
	}
	if (++x->loop_run > X86_DELIVER_LOOP_MAX) {
		x86_end(x, HW_X86_ERROR, "an exception loop: %d events delivered with no "
			"instruction retired in between (the last: vector %u at RIP 0x%" PRIx64 ")",
			X86_DELIVER_LOOP_MAX, v, rip);
		return;
	}
	for (;;) {
		struct fault f;

		if (!(x->lma ? try_deliver(x, &d, &f) : try_deliver32(x, &d, &f)))
			break;
		if (d.vector == VEC_DF) {
			x86_end(x, HW_X86_TRIPLE_FAULT,
				"triple fault: vector %u (%s) while delivering a double fault "
				"(first event: vector %u at RIP 0x%" PRIx64 ")", f.vector, f.why,
				first, d.fault_rip);
			return;
		}
		sim_trace(x->cfg.sim, TR_FAULT, f.vector, d.vector, f.err, "during delivery");
		if ((contributory(d.vector) && contributory(f.vector)) ||
		    (d.vector == VEC_PF && (contributory(f.vector) || f.vector == VEC_PF))) {
			d.vector = VEC_DF;
			d.err = 0;
			d.has_err = true;
		} else {
			d.vector = f.vector;
			d.err = f.err;
			d.has_err = f.has_err;
		}
		/* The fault belongs to the instruction the event came from. */
		d.kind = XD_FAULT;
		d.soft = NULL;
		d.ext = d.ext || kind != XD_SOFT;
		d.ret_rip = d.fault_rip;
	}
	if (kind == XD_NMI)
		x->nmi_blocked = true;	/* SDM 6.7.1: until the next IRET */
	x->frames = x->frames << 1 | (d.kind == XD_NMI || d.kind == XD_EXT);
	x->frames_depth++;
	x->shadow = false;
	x->halted = false;
	x->deliver_after = 0;
	x->room_valid = false;
	sim_trace(x->cfg.sim, kind == XD_NMI || kind == XD_EXT ? TR_IRQ : TR_FAULT, d.vector,
		  d.ret_rip, d.err, kind == XD_NMI ? "guest idt nmi" :
		  kind == XD_EXT ? "guest idt" : kind == XD_SOFT ? "guest idt int" : "guest idt fault");
}

bool x86_irq_deliverable(struct hw_x86 *x, unsigned *vector, bool *nmi)
{
	if (x->nmi_pending && !x->nmi_blocked) {
		*vector = NMI_VECTOR;
		*nmi = true;
		return true;
	}
	*nmi = false;
	for (int w = 3; w >= 0; w--) {
		if (!x->irr[w])
			continue;
		if (!(x86_reg(x, UC_X86_REG_RFLAGS) & RFLAGS_IF))
			return false;
		*vector = (unsigned)(64 * w + 63 - __builtin_clzll(x->irr[w]));
		return true;
	}
	return false;
}

/* SDM vol. 2 SYSCALL, 64-bit mode: RCX and R11 keep the return state, CS
 * and SS come from STAR[47:32] with fixed flat attributes, RIP from
 * LSTAR, RFLAGS masked by SFMASK, CPL 0. */
void x86_do_syscall(struct hw_x86 *x, uint64_t next)
{
	uc_x86_msr star = { .rid = 0xC0000081 }, lstar = { .rid = 0xC0000082 },
		   fmask = { .rid = 0xC0000084 };
	uint64_t rflags = x86_reg(x, UC_X86_REG_RFLAGS);
	uint16_t base;

	uc_reg_read(x->uc, UC_X86_REG_MSR, &star);
	uc_reg_read(x->uc, UC_X86_REG_MSR, &lstar);
	uc_reg_read(x->uc, UC_X86_REG_MSR, &fmask);
	base = (uint16_t)(star.value >> 32);
	{
		struct x86_seg cs = { base & 0xFFFCu, 0, 0xFFFFFFFF, 0x00A09B00 };
		struct x86_seg ss = { (base + 8u) & 0xFFFCu, 0, 0xFFFFFFFF, 0x00C09300 };
		const struct x86_seg *segs[6] = { NULL, &cs, &ss, NULL, NULL, NULL };

		x86_set_cpl(x, 0);
		x86_state_set(x, segs, 0);
	}
	x86_set_reg(x, UC_X86_REG_RCX, next);
	x86_set_reg(x, UC_X86_REG_R11, rflags & ~RFLAGS_RF);
	x86_set_reg(x, UC_X86_REG_RFLAGS, rflags & ~fmask.value & ~RFLAGS_RF);
	x86_set_reg(x, UC_X86_REG_RIP, lstar.value);
	x->room_valid = false;
}

/* SDM vol. 2 SYSRET with REX.W: RIP from RCX, RFLAGS from R11, CS and SS
 * from STAR[63:48] (+16, +8) with RPL 3 and fixed flat attributes, CPL 3. */
void x86_do_sysret(struct hw_x86 *x)
{
	uc_x86_msr star = { .rid = 0xC0000081 };
	uint16_t base;

	uc_reg_read(x->uc, UC_X86_REG_MSR, &star);
	base = (uint16_t)(star.value >> 48);
	{
		struct x86_seg cs = { ((base + 16u) & 0xFFFCu) | 3, 0, 0xFFFFFFFF, 0x00A0FB00 };
		struct x86_seg ss = { ((base + 8u) & 0xFFFCu) | 3, 0, 0xFFFFFFFF, 0x00C0F300 };
		const struct x86_seg *segs[6] = { NULL, &cs, &ss, NULL, NULL, NULL };

		x86_set_cpl(x, 3);
		x86_state_set(x, segs, 3);
	}
	x86_set_reg(x, UC_X86_REG_RIP, x86_reg(x, UC_X86_REG_RCX));
	x86_set_reg(x, UC_X86_REG_RFLAGS, (x86_reg(x, UC_X86_REG_R11) & 0x3C7FD7ULL) | 2);
	x->room_valid = false;
}
