/* hw_x86: the real-code CPU's engine.  Unicorn runs the guest's code; a
 * hook at the start of every translation block counts the instructions
 * and branches of the block before it (lazily, in `pend`, given to the
 * PMU in one piece of work when something needs the counts), and stops
 * exactly where a counter would wrap: when a block could reach an event
 * the hardware announced (hw_pmu_headroom), a code hook is placed at the
 * instruction after the one that reaches it and the block is run again.
 * Instructions the environment must see (MSRs, RDPMC, CPUID, ports, HLT)
 * get code hooks at their addresses when their block is first decoded.
 * docs/realcode.md describes the rules and the entry state. */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hw_x86_internal.h"

/* The boot area (docs/realcode.md "Entry state"). */
#define BOOT_PML4	(HW_X86_BOOT_BASE + 0x0000)
#define BOOT_PDPT	(HW_X86_BOOT_BASE + 0x1000)
#define BOOT_PD		(HW_X86_BOOT_BASE + 0x2000)	/* 4 pages: 4 GiB of 2 MiB pages */
#define BOOT_GDT	(HW_X86_BOOT_BASE + 0x6000)
#define BOOT_STACK_TOP	(HW_X86_BOOT_BASE + 0xF000)
#define BOOT_CS		0x08
#define BOOT_DS		0x10
/* 64-bit code, DPL 0 (G, L, P, S, type execute/read accessed) and flat
 * data (G, B, P, S, type read/write accessed) descriptors. */
#define DESC_CODE64	0x00AF9B000000FFFFULL
#define DESC_DATA	0x00CF93000000FFFFULL

#define PTE_P		0x1ULL
#define PTE_RW		0x2ULL
#define PTE_US		0x4ULL
#define PTE_PS		0x80ULL
#define PTE_ADDR	0x000FFFFFFFFFF000ULL

#define CR0_PE		0x1ULL
#define CR0_MP		0x2ULL
#define CR0_ET		0x10ULL
#define CR0_NE		0x20ULL
#define CR0_WP		0x10000ULL
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x20ULL
#define CR4_OSFXSR	0x200ULL
#define CR4_OSXMMEXCPT	0x400ULL
#define RFLAGS_IF	0x200ULL

/* ---- small helpers ---- */

uint64_t x86_reg(struct hw_x86 *x, int reg)
{
	uint64_t v = 0;

	uc_reg_read(x->uc, reg, &v);
	return v;
}

void x86_set_reg(struct hw_x86 *x, int reg, uint64_t v)
{
	uc_reg_write(x->uc, reg, &v);
}

void x86_end(struct hw_x86 *x, enum hw_x86_end e, const char *fmt, ...)
{
	va_list ap;

	if (x->end != HW_X86_RUNNING)
		return;
	x->end = e;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	x->stop = STOP_END;
}

uint8_t *x86_phys(struct hw_x86 *x, uint64_t pa, uint64_t len)
{
	if (pa < x->cfg.mem && len <= x->cfg.mem - pa)
		return x->ram + pa;
	if (pa >= HW_X86_BOOT_BASE && pa - HW_X86_BOOT_BASE < HW_X86_BOOT_SIZE &&
	    len <= HW_X86_BOOT_SIZE - (pa - HW_X86_BOOT_BASE))
		return x->boot + (pa - HW_X86_BOOT_BASE);
	return NULL;
}

static int vaccess(struct hw_x86 *x, uint64_t va, void *buf, size_t len, bool write,
		   uint32_t *pf_err)
{
	uint8_t *b = buf;

	while (len) {
		size_t chunk = 4096 - (va & 4095);
		uint64_t pa;
		uint8_t *p;
		int r;

		if (chunk > len)
			chunk = len;
		r = x86_translate(x, va, write, false, &pa, pf_err);
		if (r > 0) {
			x86_set_reg(x, UC_X86_REG_CR2, va);
			return 1;
		}
		if (r < 0 || !(p = x86_phys(x, pa, chunk)))
			return -1;
		/* Writes go through Unicorn so that translations of code on
		 * that page are dropped. */
		if (write)
			uc_mem_write(x->uc, pa, b, chunk);
		else
			memcpy(b, p, chunk);
		va += chunk;
		b += chunk;
		len -= chunk;
	}
	return 0;
}

int x86_vread(struct hw_x86 *x, uint64_t va, void *buf, size_t len, uint32_t *pf_err)
{
	return vaccess(x, va, buf, len, false, pf_err);
}

int x86_vwrite(struct hw_x86 *x, uint64_t va, const void *buf, size_t len, uint32_t *pf_err)
{
	return vaccess(x, va, (void *)buf, len, true, pf_err);
}

/* ---- counting ---- */

static bool kernel(const struct hw_x86 *x)
{
	return x->cpl == 0;
}

static void use_step(struct hw_x86 *x, uint64_t n)
{
	x->step_left = n >= x->step_left ? 0 : x->step_left - n;
	x->total += n;
}

/* Retired instructions of the running block, up to (not including) `to`. */
static void retire_to(struct hw_x86 *x, uint32_t to)
{
	const struct x86_block *b = x->cur;
	uint32_t from = x->cur_start;
	uint64_t n = 0, br = 0, cond = 0;
	int k = kernel(x);
	const struct x86_insn *last;

	if (!b || to <= from)
		return;
	if (from == 0 && to == b->nr && b->sym >= 0) {
		n = b->nr;
		br = b->branches;
		cond = b->cond;
		x->sym[b->sym].insns[k] += n;
		x->sym[b->sym].branches[k] += br;
	} else {
		for (uint32_t i = from; i < to; i++) {
			const struct x86_insn *in = x86_block_insn(x, b, i);
			bool isbr = in->flags & XF_BRANCH;

			n++;
			br += isbr;
			cond += (in->flags & XF_COND) != 0;
			x->sym[in->sym].insns[k]++;
			x->sym[in->sym].branches[k] += isbr;
		}
	}
	x->pend[0] += n;
	x->pend[1] += br;
	x->pend[2] += cond;
	x->insns[k] += n;
	x->branches[k] += br;
	use_step(x, n);
	last = x86_block_insn(x, b, to - 1);
	x->shadow = last->flags & XF_SHADOW;
	x->rep_at = (last->flags & XF_REP) ? x86_block_insn_addr(x, b, to - 1) : 0;
	if (last->flags & XF_CPL)
		x->cpu_dirty = true;
	if (last->flags & XF_IRET) {
		x->nmi_blocked = false;	/* SDM 6.7.1: IRET ends NMI blocking */
		if (x->frames_depth) {
			x->frames_depth--;
			x->frames = x->frames_depth ? x->frames >> 1 : 0;
		}
	}
	/* QEMU ends a block after each XF_TLB instruction; any retired one
	 * has the paging bridge resync before the next block runs. */
	if (b->tlb)
		for (uint32_t i = from; i < to && !x->pg.pending; i++)
			if (x86_block_insn(x, b, i)->flags & XF_TLB)
				x->pg.pending = true;
	x->cur_start = to;
}

/* An instruction the engine itself completed (core MSR, RDTSC, INT n,
 * SYSCALL): it retires as the hardware retires it, counted with the
 * block around it. */
void x86_retire_plain(struct hw_x86 *x, int32_t sym, bool branch)
{
	int k = kernel(x);

	x->pend[0]++;
	x->pend[1] += branch;
	x->insns[k]++;
	x->branches[k] += branch;
	x->sym[sym].insns[k]++;
	x->sym[sym].branches[k] += branch;
	use_step(x, 1);
}

static void room_refresh(struct hw_x86 *x)
{
	const struct hw_headroom *r = &x->room;
	uint64_t m;

	x->g->kernel = kernel(x);
	x->g->ops->headroom(x->g, &x->room);
	m = r->ev[MV_EV_INSTRUCTIONS];
	if (r->ev[MV_EV_CYCLES] < m)
		m = r->ev[MV_EV_CYCLES];
	if (r->ev[MV_EV_REF_CYCLES] < m)
		m = r->ev[MV_EV_REF_CYCLES];
	if (r->ev[MV_EV_TOPDOWN_SLOTS] != UINT64_MAX &&
	    (r->ev[MV_EV_TOPDOWN_SLOTS] + MV_SLOTS_PER_CYCLE - 1) / MV_SLOTS_PER_CYCLE < m)
		m = (r->ev[MV_EV_TOPDOWN_SLOTS] + MV_SLOTS_PER_CYCLE - 1) / MV_SLOTS_PER_CYCLE;
	if (r->skid < m)
		m = r->skid;
	x->room_insns = m;
	x->room_valid = true;
}

/* The pending events have reached something the hardware must act on. */
static bool room_reached(struct hw_x86 *x)
{
	if (!x->room_valid)
		room_refresh(x);
	return x->pend[0] >= x->room_insns || x->pend[1] >= x->room.ev[MV_EV_BRANCHES] ||
	       x->pend[2] >= x->room.ev[MV_EV_COND_BRANCHES];
}

void x86_flush(struct hw_x86 *x)
{
	struct mv_work w;

	if (!x->pend[0] && !x->pend[1])
		return;
	w = mv_work_insns(x->pend[0], x->pend[1], x->pend[2], kernel(x), x->cfg.label);
	x->pend[0] = x->pend[1] = x->pend[2] = 0;
	x->g->kernel = w.kernel;
	x->g->label = w.label;
	x->g->ops->run(x->g, &w);
	x->room_valid = false;
}

void x86_set_cpl(struct hw_x86 *x, unsigned cpl)
{
	if (cpl == x->cpl)
		return;
	x86_flush(x);
	x->cpl = cpl;
	mv_set_cpl(x->g, cpl);
	x->room_valid = false;
}

/* The first instruction of `b` from `from` on whose retirement reaches
 * an event, given what is pending; b->nr when none does. */
static uint32_t critical(struct hw_x86 *x, const struct x86_block *b, uint32_t from)
{
	uint64_t k = b->nr;

	if (x->room_insns - x->pend[0] <= b->nr - from)
		k = from + x->room_insns - x->pend[0] - 1;
	if (x->deliver_after && from + x->deliver_after - 1 < k)
		k = from + x->deliver_after - 1;
	for (int e = 1; e <= 2; e++) {
		uint64_t room = x->room.ev[e == 1 ? MV_EV_BRANCHES : MV_EV_COND_BRANCHES];
		uint64_t cnt = x->pend[e];

		if (room == UINT64_MAX || cnt + (e == 1 ? b->branches : b->cond) < room)
			continue;
		for (uint32_t i = from; i < b->nr && i < k; i++) {
			uint8_t f = x86_block_insn(x, b, i)->flags;

			if (f & (e == 1 ? XF_BRANCH : XF_COND))
				cnt++;
			if (cnt >= room) {
				k = i;
				break;
			}
		}
	}
	return (uint32_t)k;
}

/* ---- code hooks ---- */

static void on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *arg);
static bool place_stop(struct hw_x86 *x, const struct x86_block *b, uint32_t at);

static bool hooked_has(const struct hw_x86 *x, uint64_t addr)
{
	for (size_t i = 0; i < x->nr_special_hooks; i++)
		if (x->special_addr[i] == addr)
			return true;
	return false;
}

static int hook_special(struct hw_x86 *x, uint64_t addr)
{
	uc_hook h;

	if (hooked_has(x, addr))
		return 0;
	if (x->nr_special_hooks == x->cap_special_hooks) {
		size_t n = x->cap_special_hooks ? 2 * x->cap_special_hooks : 64;
		uint64_t *a = realloc(x->special_addr, n * sizeof(*a));

		if (!a)
			return -1;
		x->special_addr = a;
		x->cap_special_hooks = n;
	}
	if (uc_hook_add(x->uc, &h, UC_HOOK_CODE, (void *)on_code, x, addr, addr) != UC_ERR_OK)
		return -1;
	x->special_addr[x->nr_special_hooks++] = addr;
	return 0;
}

/* The translation of the block that had the stop is dropped later, out
 * of Unicorn's run loop (it may be the block running now). */
static void drop_stop_hook(struct hw_x86 *x)
{
	if (!x->stop_hook_set)
		return;
	uc_hook_del(x->uc, x->stop_hook);
	if (x->nr_stale < sizeof(x->stale) / sizeof(x->stale[0])) {
		x->stale[x->nr_stale].addr = x->stop_blk_addr;
		x->stale[x->nr_stale].size = x->stop_blk_size;
		x->nr_stale++;
	}
	x->stop_hook_set = false;
}

static void drop_stale(struct hw_x86 *x)
{
	for (unsigned i = 0; i < x->nr_stale; i++)
		uc_ctl_remove_cache(x->uc, x->stale[i].addr, x->stale[i].addr + x->stale[i].size);
	x->nr_stale = 0;
}

/* Asks Unicorn to stop before the instruction at `rip`.  The RIP Unicorn
 * leaves behind is not always that one (stopped in a block hook while
 * code hooks exist, it keeps the start of the chain of blocks it ran), so
 * the engine sets it itself once Unicorn has returned. */
static void stop(struct hw_x86 *x, enum x86_stop why, uint64_t rip)
{
	if (x->stop == STOP_NONE || why == STOP_END)
		x->stop = why;
	x->cur = NULL;
	if (!x->resume) {
		x->resume = true;
		x->resume_rip = rip;
	}
	uc_emu_stop(x->uc);
}

static bool irq_ready(struct hw_x86 *x)
{
	unsigned v;
	bool nmi;

	return (x->nmi_pending || x->irr[0] || x->irr[1] || x->irr[2] || x->irr[3]) &&
	       x86_irq_deliverable(x, &v, &nmi);
}

/* ---- exploration's points inside interrupt handlers ---- */

/* The instruction at `addr` is about to execute, everything before it
 * retired: the point before it (once per instruction, whichever hook
 * comes first).  True when the guest is to stop there (an interrupt is
 * ready after the PMU's flush or the exit). */
static bool point_before(struct hw_x86 *x, uint64_t addr)
{
	if (!x->frames || (x->point_total == x->total && x->point_addr == addr))
		return false;
	x->point_total = x->total;
	x->point_addr = addr;
	/* The counters hold every retired instruction before the PMU is
	 * switched out for the exit. */
	x86_flush(x);
	if (x->g->ops->insn_point(x->g))
		x->room_valid = false;
	if (irq_ready(x) && !x->shadow) {
		stop(x, STOP_EVENT, addr);
		return true;
	}
	return false;
}

static void on_point(uc_engine *uc, uint64_t addr, uint32_t size, void *arg)
{
	struct hw_x86 *x = arg;
	const struct x86_block *b = x->cur;
	long i;

	(void)uc;
	(void)size;
	if (x->one_insn || !x->frames || !b || (i = x86_block_index(x, b, addr)) < 0 ||
	    (uint32_t)i < x->cur_start)
		return;
	retire_to(x, (uint32_t)i);
	point_before(x, addr);
}

/* During exploration (the machine's points are set before its guests
 * are made) every instruction is hooked, begin > end meaning all code,
 * and on_point acts inside interrupt handlers only.  Hooking only the
 * handlers would mean dropping every translation at each PMI, which
 * costs far more than the hook.  Outside exploration: no hook at all. */
static bool points_hook(struct hw_x86 *x)
{
	if (!x->cfg.sim->pts || !x->g->ops->insn_point)
		return true;
	x->point_hook_set = true;
	return uc_hook_add(x->uc, &x->point_hook, UC_HOOK_CODE, (void *)on_point, x, 1, 0) ==
	       UC_ERR_OK;
}

static void on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *arg)
{
	struct hw_x86 *x = arg;
	const struct x86_block *b = x->cur;
	const struct x86_insn *in;
	uint32_t k;
	long i;

	(void)uc;
	(void)size;
	if (x->one_insn || !b || (i = x86_block_index(x, b, addr)) < 0 || (uint32_t)i < x->cur_start)
		return;
	retire_to(x, (uint32_t)i);
	if (x->point_hook_set && point_before(x, addr))
		return;
	if (room_reached(x)) {
		x86_flush(x);
		if (irq_ready(x) && !x->shadow) {
			stop(x, STOP_EVENT, addr);
			return;
		}
		/* The hardware may now stop again inside the rest of this
		 * block (a skidded PMI): run it anew from here. */
		room_refresh(x);
		k = critical(x, b, (uint32_t)i);
		if (k + 1 < b->nr && place_stop(x, b, k + 1)) {
			x->cur = NULL;
			if (x->end != HW_X86_RUNNING) {
				stop(x, STOP_END, addr);
				return;
			}
			uc_ctl_remove_cache(x->uc, b->addr, b->addr + b->size);
			x86_set_reg(x, UC_X86_REG_RIP, addr);
			return;
		}
	}
	if (irq_ready(x) && !x->shadow) {
		stop(x, STOP_EVENT, addr);
		return;
	}
	in = x86_block_insn(x, b, (uint32_t)i);
	if (in->kind == XK_PLAIN)
		return;
	x86_flush(x);
	x->st.specials++;
	x->cur = NULL;
	if (!x86_special(x, addr, in)) {
		stop(x, STOP_EVENT, addr);
		return;
	}
	x->room_valid = false;
	x->shadow = false;
	if (x->halted || x->stop != STOP_NONE || !x->step_left || irq_ready(x) ||
	    x->cfg.sim->cycle >= x->step_cycles_end) {
		stop(x, STOP_EVENT, addr + in->len);
		return;
	}
	x86_set_reg(x, UC_X86_REG_RIP, addr + in->len);
}

/* ---- block hook ---- */

static bool place_hooks(struct hw_x86 *x, struct x86_block *b)
{
	uint64_t a = b->addr;

	for (uint32_t i = 0; i < b->nr; i++) {
		const struct x86_insn *in = x86_block_insn(x, b, i);

		if (in->kind != XK_PLAIN && hook_special(x, a))
			return false;
		a += in->len;
	}
	b->hooked = true;
	return true;
}

static bool place_stop(struct hw_x86 *x, const struct x86_block *b, uint32_t at)
{
	uint64_t a = x86_block_insn_addr(x, b, at);

	if (x->stop_hook_set && x->stop_at == a)
		return false;	/* in place: the block was run again with it */
	drop_stop_hook(x);
	x->st.exact_stops++;
	if (hooked_has(x, a))
		return false;	/* the special's own hook stops there */
	if (uc_hook_add(x->uc, &x->stop_hook, UC_HOOK_CODE, (void *)on_code, x, a, a) != UC_ERR_OK) {
		x86_end(x, HW_X86_ERROR, "cannot place an exact stop at 0x%" PRIx64, a);
		return true;
	}
	x->stop_hook_set = true;
	x->stop_at = a;
	x->stop_blk_addr = b->addr;
	x->stop_blk_size = b->size;
	return true;
}

/* Runs the block again from its start, translated anew (with new hooks). */
static void rerun(struct hw_x86 *x, uint64_t addr, uint32_t size)
{
	uc_ctl_remove_cache(x->uc, addr, addr + size);
	x86_set_reg(x, UC_X86_REG_RIP, addr);
}

/* CS changed (a far transfer, IRET, a delivery): CPL and code size. */
static void reread_cpu(struct hw_x86 *x)
{
	unsigned cpl;
	enum x86_mode mode;

	x->cpu_dirty = false;
	x86_state_mode(x, &cpl, &mode);
	x->mode = mode;
	x86_set_cpl(x, cpl);
}

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *arg)
{
	struct hw_x86 *x = arg;
	struct x86_block *b;
	bool rewritten;
	uint32_t k;

	(void)uc;
	if (x->one_insn)
		return;
	if (x->cur)
		retire_to(x, x->cur->nr);
	x->cur = NULL;
	if (x->stop_hook_set && x->stop_blk_addr != addr)
		drop_stop_hook(x);
	/* Paging may have changed: the bridge resyncs outside Unicorn's loop. */
	if (x->pg.pending) {
		stop(x, STOP_EVENT, addr);
		return;
	}
	if (x->cpu_dirty)
		reread_cpu(x);
	if (room_reached(x)) {
		x86_flush(x);
		room_refresh(x);
		if (x->room_insns == 0) {
			/* A skidded PMI is due with nothing pending: an empty
			 * piece of work lets the hardware deliver it. */
			struct mv_work w = mv_work_insns(0, 0, 0, kernel(x), x->cfg.label);

			x->g->ops->run(x->g, &w);
			room_refresh(x);
			if (x->room_insns == 0) {
				x86_end(x, HW_X86_ERROR, "the PMU keeps a PMI due that it never delivers");
				stop(x, STOP_END, addr);
				return;
			}
		}
	}
	if (x->total >= x->cfg.insn_limit) {
		x86_end(x, HW_X86_LIMIT, "reached its limit of %" PRIu64 " instructions",
			x->cfg.insn_limit);
		stop(x, STOP_END, addr);
		return;
	}
	if (!x->step_left || x->cfg.sim->cycle >= x->step_cycles_end) {
		stop(x, STOP_STEP, addr);
		return;
	}
	/* Unicorn repeats a REP string instruction as a block per iteration;
	 * it is one instruction, retired once, and not interrupted. */
	if (x->rep_at == addr) {
		b = (struct x86_block *)x86_block_get(x, addr, size, &rewritten);
		if (b && rewritten) {
			rerun(x, addr, size);
			return;
		}
		if (b && b->nr && (x86_block_insn(x, b, 0)->flags & XF_REP) &&
		    (!b->special || b->hooked)) {
			x->cur = b;
			x->cur_start = 1;
			return;
		}
	}
	if (irq_ready(x)) {
		if (!x->shadow) {
			stop(x, STOP_EVENT, addr);
			return;
		}
		x->deliver_after = 1;	/* after the instruction in the shadow */
	}
	b = (struct x86_block *)x86_block_get(x, addr, size, &rewritten);
	if (!b) {
		x86_end(x, HW_X86_ERROR, "%s at 0x%" PRIx64,
			x->decode_err ? x->decode_err : "out of memory decoding code", addr);
		stop(x, STOP_END, addr);
		return;
	}
	/* Its bytes changed since they were decoded: Unicorn's translation
	 * may be of the old ones (code written, or its page remapped, through
	 * another mapping than the one it runs at), so it is made anew. */
	if (rewritten) {
		x->st.retranslations++;
		rerun(x, addr, size);
		return;
	}
	if (b->special && !b->hooked) {
		if (!place_hooks(x, b)) {
			x86_end(x, HW_X86_ERROR, "cannot hook the instructions at 0x%" PRIx64, addr);
			stop(x, STOP_END, addr);
			return;
		}
		rerun(x, addr, size);
		return;
	}
	if (!x->room_valid)
		room_refresh(x);
	k = critical(x, b, 0);
	if (k + 1 < b->nr && place_stop(x, b, k + 1)) {
		if (x->end == HW_X86_RUNNING)
			rerun(x, addr, size);
		else
			stop(x, STOP_END, addr);
		return;
	}
	x->cur = b;
	x->cur_start = 0;
}

/* ---- exceptions Unicorn raises ---- */

/* SDM vol. 3 table 6-1: the exceptions that push an error code. */
static bool has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

/* The block stopped at `rip`: what ran before it retired. */
static void close_at(struct hw_x86 *x, uint64_t rip)
{
	long i;

	if (!x->cur)
		return;
	i = x86_block_index(x, x->cur, rip);
	retire_to(x, i >= 0 ? (uint32_t)i : x->cur->nr);
	x->cur = NULL;
}

static void on_intr(uc_engine *uc, uint32_t intno, void *arg)
{
	struct hw_x86 *x = arg;
	uint64_t rip = x86_reg(x, UC_X86_REG_RIP);

	close_at(x, rip);
	x->ev = (struct x86_event){ .pending = true, .vector = intno, .rip = rip };
	if (has_error_code(intno)) {
		x->ev.has_err = true;
		x->ev.err = x86_state_error_code(x);
	}
	stop(x, STOP_EVENT, rip);
	(void)uc;
}

static bool on_invalid(uc_engine *uc, void *arg)
{
	struct hw_x86 *x = arg;
	uint64_t rip = x86_reg(x, UC_X86_REG_RIP);

	close_at(x, rip);
	x->ev = (struct x86_event){ .pending = true, .vector = 6, .rip = rip };
	stop(x, STOP_EVENT, rip);
	(void)uc;
	return false;
}

static bool on_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size,
			int64_t value, void *arg)
{
	struct hw_x86 *x = arg;
	uint64_t rip = x86_reg(x, UC_X86_REG_RIP);
	bool fetch = type == UC_MEM_FETCH_UNMAPPED;
	const char *what = type == UC_MEM_WRITE_UNMAPPED ? "write to" :
			   fetch ? "instruction fetch from" : "read of";

	(void)uc;
	(void)size;
	(void)value;
	if (x->end != HW_X86_RUNNING)
		return false;
	/* With paging on, the address is virtual (Unicorn's walk passed, or
	 * comes after this): the bridge maps what it translates to. */
	switch (x86_paging_unmapped(x, fetch, address)) {
	case 1:
		return true;	/* the access is retried */
	case 2:
		/* A fetch is not retried (measured): start again at RIP,
		 * where the block being translated begins. */
		close_at(x, rip);
		x->refetch = true;
		stop(x, STOP_EVENT, rip);
		return false;
	}
	close_at(x, rip);
	if (x->end == HW_X86_RUNNING)
		x86_end(x, HW_X86_ERROR, "%s physical address 0x%" PRIx64 " where nothing is mapped "
			"(RIP 0x%" PRIx64 "; RAM ends at 0x%" PRIx64 ")", what, address, rip, x->cfg.mem);
	return false;
}

/* An access to the xAPIC page (its MMIO at 0xFEE00000, or an alias).
 * Unicorn does not tell which instruction made it (RIP is the block's
 * start here, measured): it is the first of the running block's
 * instructions from the current one whose memory operand is at that
 * register.  Found, its predecessors retire first and the environment may
 * retire it (a VM's APIC-access exit: KVM's emulator completes it). */
void x86_apic_access(struct hw_x86 *x, uint64_t off, unsigned size, bool write, uint64_t *val)
{
	const struct x86_block *b = x->cur;
	int how = x->one_insn ? MV_MMIO_EMULATED : MV_MMIO_HW;
	long at = -1;

	if (!x->one_insn && b) {
		for (uint32_t i = x->cur_start; i < b->nr && at < 0; i++) {
			uint64_t a = x86_block_insn_addr(x, b, i), ea;
			const struct x86_insn *in = x86_block_insn(x, b, i);
			unsigned sz;
			bool wr;

			if (x86_insn_mem(x, a, x->code + b->bytes + (a - b->addr),
					 b->addr + b->size - a, &ea, &sz, &wr) &&
			    (ea & 0xFFF) == off && wr == write && in->kind == XK_PLAIN)
				at = (long)i;
		}
		if (at >= 0) {
			retire_to(x, (uint32_t)at);
			x86_flush(x);
			how = MV_MMIO_SKIP;
		}
	}
	x->g->kernel = kernel(x);
	x->g->label = x->cfg.label;
	if (x->g->ops->insn_mmio(x->g, (uint32_t)off, size, write, val, how) && at >= 0) {
		const struct x86_insn *in = x86_block_insn(x, b, (uint32_t)at);
		int k = kernel(x);

		x->sym[in->sym].insns[k]++;
		x->insns[k]++;
		use_step(x, 1);
		x->cur_start = (uint32_t)at + 1;
		x->shadow = false;
	}
	x->room_valid = false;
}

/* ---- the guest's interrupts ---- */

/* The environment delivers an interrupt (a PMI through the LVTPC): it
 * waits here until the guest can take it. */
static void x86_irq(struct mv_guest *g, unsigned vector, void *arg)
{
	struct hw_x86 *x = arg;

	(void)g;
	if (vector == NMI_VECTOR)
		x->nmi_pending = true;
	else if (vector < 256)
		x->irr[vector / 64] |= 1ULL << (vector % 64);
}

/* KVM's forced-emulation prefix (FACTS.md s.8): UD2 and "kvm" before an
 * instruction. */
static const uint8_t kvm_fep[5] = { 0x0F, 0x0B, 0x6B, 0x76, 0x6D };

struct fep_insn {
	struct hw_x86 *x;
	uint64_t at;		/* the instruction after the prefix */
	struct x86_insn in;
	ZydisDecodedInstruction d;
};

/* The hypervisor emulates the instruction: it is carried out alone in
 * Unicorn, counting nothing (KVM's software path counts it).  False when
 * it faulted (x->ev holds the fault to inject). */
static bool fep_emulate(void *arg)
{
	struct fep_insn *f = arg;
	struct hw_x86 *x = f->x;
	uc_err e = UC_ERR_OK;

	if (f->in.kind != XK_PLAIN) {
		x86_end(x, HW_X86_ERROR, "forced emulation of %s at 0x%" PRIx64 " is not modelled "
			"(only instructions the CPU emulator executes itself)",
			ZydisMnemonicGetString(f->d.mnemonic), f->at);
		return false;
	}
	x->one_insn = true;
	for (int tries = 0; tries < 3; tries++) {
		/* uc_emu_start's count is exact only on fresh translations. */
		uc_ctl_remove_cache(x->uc, f->at, f->at + f->in.len);
		x->refetch = false;
		x->resume = false;
		e = uc_emu_start(x->uc, f->at, 0, 0, 1);
		uc_ctl_remove_cache(x->uc, f->at, f->at + f->in.len);
		if (x->resume) {
			x86_set_reg(x, UC_X86_REG_RIP, x->resume_rip);
			x->resume = false;
		}
		if (!x->refetch)
			break;
	}
	x->one_insn = false;
	x->refetch = false;
	if (x->ev.pending || x->end != HW_X86_RUNNING)
		return false;
	if (e != UC_ERR_OK) {
		x86_end(x, HW_X86_ERROR, "the CPU emulator could not carry out the emulated "
			"instruction at 0x%" PRIx64 ": %s", f->at, uc_strerror(e));
		return false;
	}
	return true;
}

/* A #UD at e->rip goes to the environment first (a VM's #UD intercept).
 * True when it was consumed: the instruction after a forced-emulation
 * prefix was emulated (and retired), or its fault now waits in x->ev. */
static bool undefined(struct hw_x86 *x, const struct x86_event *e)
{
	struct fep_insn f = { .x = x, .at = e->rip + sizeof(kvm_fep) };
	uint8_t b[sizeof(kvm_fep) + 15];
	uint32_t pf;
	bool fep = false, branch = false;
	int r;

	if (!x->g->ops->insn_ud)
		return false;
	if (!x86_vread(x, e->rip, b, sizeof(kvm_fep), &pf) && !memcmp(b, kvm_fep, sizeof(kvm_fep))) {
		size_t n = 15;

		while (n && x86_vread(x, f.at, b + sizeof(kvm_fep), n, &pf))
			n--;	/* the instruction may end where memory ends */
		fep = n && x86_decode_one(x, f.at, b + sizeof(kvm_fep), n, &f.in, &f.d);
		branch = fep && (f.in.flags & XF_BRANCH);
	}
	x->g->kernel = kernel(x);
	x->g->label = x->cfg.label;
	r = x->g->ops->insn_ud(x->g, fep, branch, fep_emulate, &f);
	x->room_valid = false;
	if (r < 0)
		return false;
	if (r > 0) {
		int k = kernel(x);

		x->sym[f.in.sym].insns[k]++;
		x->sym[f.in.sym].branches[k] += branch;
		x->insns[k]++;
		x->branches[k] += branch;
		use_step(x, 1);
		if (f.in.flags & XF_CPL)
			x->cpu_dirty = true;
		if (f.in.flags & XF_TLB)
			x->pg.pending = true;
	}
	return true;
}

/* Exceptions, SYSCALL, HLT and interrupts waiting at an instruction
 * boundary; false once the guest has ended. */
static bool events(struct hw_x86 *x)
{
	unsigned v;
	bool nmi;

	if (x->pg.pending)
		x86_paging_sync(x);
	if (x->syscall_pending) {
		x->syscall_pending = false;
		x86_do_syscall(x, x->syscall_next);
	}
	if (x->sysret_pending) {
		x->sysret_pending = false;
		x86_do_sysret(x);
	}
	while (x->ev.pending && x->end == HW_X86_RUNNING) {
		struct x86_event e = x->ev;

		x->ev.pending = false;
		if (e.vector == 6 && !e.soft && !e.retire && undefined(x, &e))
			continue;
		if (x->end != HW_X86_RUNNING)
			break;
		x->st.exceptions++;
		/* The handler may map the page without a flush. */
		if (e.vector == 14 && !e.soft)
			x86_paging_fault(x, x86_reg(x, UC_X86_REG_CR2));
		x86_deliver(x, e.vector, e.soft ? XD_SOFT : XD_FAULT, e.has_err, e.err, e.rip,
			    e.retire ? &e : NULL);
		break;
	}
	if (x->pg.pending)
		x86_paging_sync(x);
	if (x->end != HW_X86_RUNNING)
		return false;
	if (x->halted) {
		if (!x86_irq_deliverable(x, &v, &nmi)) {
			bool ifl = x86_reg(x, UC_X86_REG_RFLAGS) & RFLAGS_IF;

			x86_end(x, HW_X86_HALTED, "halted at RIP 0x%" PRIx64 " with %s",
				x86_reg(x, UC_X86_REG_RIP), ifl ? "no interrupt to wake it" :
				"interrupts disabled");
			return false;
		}
		x->halted = false;
	}
	while (x86_irq_deliverable(x, &v, &nmi)) {
		if (x->shadow) {
			x->deliver_after = 1;
			break;
		}
		if (nmi)
			x->nmi_pending = false;
		else
			x->irr[v / 64] &= ~(1ULL << (v % 64));
		x->st.interrupts++;
		x86_deliver(x, v, nmi ? XD_NMI : XD_EXT, false, 0, x86_reg(x, UC_X86_REG_RIP), NULL);
		if (x->end != HW_X86_RUNNING)
			return false;
	}
	return true;
}

static bool step(struct hw_x86 *x, uint64_t max_insns)
{
	if (x->cfg.raw) {
		uc_err e;

		x86_set_reg(x, UC_X86_REG_RDI, x->cfg.raw_arg);
		e = uc_emu_start(x->uc, x->cfg.raw_from, x->cfg.raw_until, 0, 0);
		if (e == UC_ERR_OK && x86_reg(x, UC_X86_REG_RIP) == x->cfg.raw_until)
			x86_end(x, HW_X86_EXITED, "the engine-only run reached 0x%" PRIx64,
				x->cfg.raw_until);
		else
			x86_end(x, HW_X86_ERROR, "the engine-only run stopped at RIP 0x%" PRIx64 ": %s",
				x86_reg(x, UC_X86_REG_RIP), uc_strerror(e));
		return false;
	}
	x->step_left = max_insns ? max_insns : 1;
	/* A step also ends after as many simulated cycles, so that a guest
	 * spinning on exits (a port it polls) comes back to the scheduler
	 * and its budget as often as one that computes. */
	x->step_cycles_end = x->cfg.sim->cycle + x->step_left;
	x->room_valid = false;
	while (x->end == HW_X86_RUNNING && x->step_left) {
		uc_err e;

		if (!events(x))
			break;
		x->stop = STOP_NONE;
		x->st.starts++;
		e = uc_emu_start(x->uc, x86_reg(x, UC_X86_REG_RIP), 0, 0, 0);
		drop_stop_hook(x);
		drop_stale(x);
		if (x->cur) {
			/* Unicorn stopped on its own (an error): what ran retired. */
			close_at(x, x86_reg(x, UC_X86_REG_RIP));
		}
		if (x->resume) {
			x86_set_reg(x, UC_X86_REG_RIP, x->resume_rip);
			x->resume = false;
		}
		if (x->stop == STOP_NONE && x->cfg.sim->cycle >= x->step_cycles_end)
			x->stop = STOP_STEP;
		if (e != UC_ERR_OK && !x->ev.pending && !x->refetch)
			x86_end(x, HW_X86_ERROR, "the CPU emulator stopped at RIP 0x%" PRIx64 ": %s",
				x86_reg(x, UC_X86_REG_RIP), uc_strerror(e));
		x->refetch = false;
		if (x->stop == STOP_STEP)
			break;
	}
	x86_flush(x);
	/* Mappings of guest RAM's own addresses elsewhere, made without a
	 * flush, are found here at the latest (FACTS.md s.9). */
	if (x->end == HW_X86_RUNNING)
		x86_paging_check(x);
	return x->end == HW_X86_RUNNING;
}

/* Unicorn 2.0.1 aborts the process on code it cannot translate: CALL
 * and JMP FAR with a register operand (FF /3, FF /5 with mod 3), #UD on
 * hardware, stop its code generator with "tcg fatal error"
 * (unicorn-engine/unicorn#1716), and nothing can be asked before it
 * translates a block.  A guest must never crash mvpmu: while the engine
 * runs, SIGABRT returns here and ends the guest, and the emulator is not
 * run again. */
static _Thread_local sigjmp_buf *abort_jmp;

static void on_abort(int sig)
{
	(void)sig;
	if (abort_jmp)
		siglongjmp(*abort_jmp, 1);
}

/* The undefined FF form at or after `rip` before the block's first
 * branch (the block Unicorn was translating), 0 none. */
static uint64_t undefined_far(struct hw_x86 *x, uint64_t rip)
{
	for (int n = 0; n < 512; n++) {
		ZydisDecodedInstruction d;
		ZydisDecoderContext dctx;
		uint8_t b[ZYDIS_MAX_INSTRUCTION_LENGTH];
		uint32_t pf;
		size_t len = sizeof(b);

		while (len && x86_vread(x, rip, b, len, &pf))
			len--;	/* the code may end at unmapped memory */
		if (!len)
			return 0;
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&x->dec[x->mode], &dctx, b, len, &d))) {
			/* Zydis knows these forms are not instructions. */
			size_t i = 0;

			while (x->mode == X86_MODE_64 && i < len && (b[i] & 0xF0) == 0x40)	/* REX */
				i++;
			if (i + 1 < len && b[i] == 0xFF && (b[i + 1] >> 6) == 3 &&
			    (((b[i + 1] >> 3) & 7) == 3 || ((b[i + 1] >> 3) & 7) == 5))
				return rip;
			return 0;
		}
		if (d.meta.category == ZYDIS_CATEGORY_COND_BR ||
		    d.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
		    d.meta.category == ZYDIS_CATEGORY_CALL || d.meta.category == ZYDIS_CATEGORY_RET)
			return 0;
		rip += d.length;
	}
	return 0;
}

bool hw_x86_step(struct hw_x86 *x, uint64_t max_insns)
{
	struct sigaction sa, old;
	sigjmp_buf jb;
	bool running;

	if (x->end != HW_X86_RUNNING || x->aborted)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_abort;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGABRT, &sa, &old);
	if (sigsetjmp(jb, 1)) {
		uint64_t rip = x86_reg(x, UC_X86_REG_RIP), at;

		abort_jmp = NULL;
		sigaction(SIGABRT, &old, NULL);
		x->aborted = true;
		x->cur = NULL;
		at = undefined_far(x, rip);
		if (at)
			x86_end(x, HW_X86_ERROR, "the CPU emulator cannot run the undefined CALL/JMP "
				"FAR with a register operand at 0x%" PRIx64 " (#UD on hardware; "
				"libunicorn 2.0.1 aborts on it)", at);
		else
			x86_end(x, HW_X86_ERROR, "the CPU emulator aborted while translating the "
				"code at RIP 0x%" PRIx64, rip);
		return false;
	}
	abort_jmp = &jb;
	running = step(x, max_insns);
	abort_jmp = NULL;
	sigaction(SIGABRT, &old, NULL);
	return running;
}

/* ---- creation and loading ---- */

static void *map_memory(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

struct hw_x86 *hw_x86_new(struct mv_guest *g, const struct hw_x86_config *cfg,
			  char *err, size_t errlen)
{
	struct hw_x86 *x = calloc(1, sizeof(*x));
	uc_hook h;
	uc_err e;

	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->g = g;
	x->point_addr = UINT64_MAX;	/* no point visited yet */
	x->plat = g->platform;
	x->cfg = *cfg;
	if (!x->cfg.insn_limit)
		x->cfg.insn_limit = HW_X86_INSN_LIMIT_DEFAULT;
	if (x->cfg.mem < HW_X86_MEM_MIN || x->cfg.mem > HW_X86_MEM_MAX || (x->cfg.mem & 4095)) {
		snprintf(err, errlen, "guest memory of %" PRIu64 " bytes: expected a multiple of 4 KiB "
			 "from 2 MiB to 3 GiB", x->cfg.mem);
		free(x);
		return NULL;
	}
	x->ram = map_memory(x->cfg.mem);
	x->boot = map_memory(HW_X86_BOOT_SIZE);
	if (!x->ram || !x->boot || x86_decode_init(x) || x86_paging_init(x)) {
		snprintf(err, errlen, "out of memory for %" PRIu64 " MiB of guest RAM", x->cfg.mem >> 20);
		hw_x86_free(x);
		return NULL;
	}
	e = uc_open(UC_ARCH_X86, UC_MODE_64, &x->uc);
	if (e == UC_ERR_OK)
		e = uc_mem_map_ptr(x->uc, 0, x->cfg.mem, UC_PROT_ALL, x->ram);
	if (e == UC_ERR_OK)
		e = uc_mem_map_ptr(x->uc, HW_X86_BOOT_BASE, HW_X86_BOOT_SIZE, UC_PROT_ALL, x->boot);
	if (e == UC_ERR_OK)
		e = x86_apic_map(x);
	x->boot_mapped = x->apic_mapped = e == UC_ERR_OK;
	if (e != UC_ERR_OK) {
		snprintf(err, errlen, "cannot start the CPU emulator: %s", uc_strerror(e));
		hw_x86_free(x);
		return NULL;
	}
	if (x86_state_init(x, err, errlen)) {
		hw_x86_free(x);
		return NULL;
	}
	if (!cfg->raw &&
	    (uc_hook_add(x->uc, &h, UC_HOOK_BLOCK, (void *)on_block, x, 1, 0) ||
	     uc_hook_add(x->uc, &h, UC_HOOK_INTR, (void *)on_intr, x, 1, 0) ||
	     uc_hook_add(x->uc, &h, UC_HOOK_INSN_INVALID, (void *)on_invalid, x, 1, 0) ||
	     uc_hook_add(x->uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)on_unmapped, x, 1, 0) ||
	     !points_hook(x) || uc_ctl_exits_enable(x->uc))) {
		snprintf(err, errlen, "cannot hook the CPU emulator");
		hw_x86_free(x);
		return NULL;
	}
	mv_set_irq_handler(g, x86_irq, x);
	return x;
}

void hw_x86_free(struct hw_x86 *x)
{
	if (!x)
		return;
	if (x->g && x->g->irq == x86_irq && x->g->irq_arg == x)
		mv_set_irq_handler(x->g, NULL, NULL);
	if (x->ctx)
		uc_context_free(x->ctx);
	if (x->uc)
		uc_close(x->uc);
	if (x->ram)
		munmap(x->ram, x->cfg.mem);
	if (x->boot)
		munmap(x->boot, HW_X86_BOOT_SIZE);
	x86_decode_free(x);
	x86_paging_free(x);
	free(x->special_addr);
	free(x->sym);
	free(x);
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Identity map of the first 4 GiB in 2 MiB pages, user-accessible and
 * writable, and a flat boot GDT. */
static void build_boot_area(struct hw_x86 *x)
{
	uint8_t *b = x->boot;

	memset(b, 0, HW_X86_BOOT_SIZE);
	wr64(b + (BOOT_PML4 - HW_X86_BOOT_BASE), BOOT_PDPT | PTE_P | PTE_RW | PTE_US);
	for (uint64_t g = 0; g < 4; g++) {
		wr64(b + (BOOT_PDPT - HW_X86_BOOT_BASE) + 8 * g,
		     (BOOT_PD + 0x1000 * g) | PTE_P | PTE_RW | PTE_US);
		for (uint64_t i = 0; i < 512; i++)
			wr64(b + (BOOT_PD - HW_X86_BOOT_BASE) + 0x1000 * g + 8 * i,
			     (g << 30) | (i << 21) | PTE_P | PTE_RW | PTE_US | PTE_PS);
	}
	wr64(b + (BOOT_GDT - HW_X86_BOOT_BASE) + 8, DESC_CODE64);
	wr64(b + (BOOT_GDT - HW_X86_BOOT_BASE) + 16, DESC_DATA);
}

static void entry_state(struct hw_x86 *x)
{
	static const int gprs[] = {
		UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX,
		UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_R8,
		UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,
		UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
	};
	struct x86_seg code = { BOOT_CS, 0, 0xFFFFFFFF, (uint32_t)(DESC_CODE64 >> 32) };
	struct x86_seg data = { BOOT_DS, 0, 0xFFFFFFFF, (uint32_t)(DESC_DATA >> 32) };
	const struct x86_seg *segs[6] = { &data, &code, &data, &data, &data, &data };
	uc_x86_mmr gdtr = { .base = BOOT_GDT, .limit = 23 }, zero = { 0 };

	x86_set_reg(x, UC_X86_REG_CR3, BOOT_PML4);
	x86_set_reg(x, UC_X86_REG_CR4, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
	x86_set_reg(x, UC_X86_REG_CR0, CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG);
	x86_set_reg(x, UC_X86_REG_CR2, 0);
	uc_reg_write(x->uc, UC_X86_REG_GDTR, &gdtr);
	uc_reg_write(x->uc, UC_X86_REG_IDTR, &zero);
	uc_reg_write(x->uc, UC_X86_REG_LDTR, &zero);
	uc_reg_write(x->uc, UC_X86_REG_TR, &zero);
	x86_state_set(x, segs, 0);
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		x86_set_reg(x, gprs[i], 0);
	x86_set_reg(x, UC_X86_REG_FS_BASE, 0);
	x86_set_reg(x, UC_X86_REG_GS_BASE, 0);
	x86_set_reg(x, UC_X86_REG_RSP, BOOT_STACK_TOP);
	x86_set_reg(x, UC_X86_REG_RFLAGS, 0x2);
	x86_set_reg(x, UC_X86_REG_RIP, x->elf ? x->elf->entry : 0);
}

/* QEMU's multiboot option ROM (pc-bios/optionrom/multiboot.S): its GDT,
 * flat 32-bit code at 0x08 and data at 0x10, 16-bit ones at 0x18/0x20;
 * CS and the data segments loaded from it; paging and long mode off, IF
 * clear; EAX the magic, EBX the information structure (Multiboot 0.6.96
 * 3.2, "Machine state"). */
static void multiboot_entry(struct hw_x86 *x, uint32_t info)
{
	static const uint64_t gdt[] = {
		0, 0x00CF9A000000FFFFULL, 0x00CF92000000FFFFULL,
		0x00009E000000FFFFULL, 0x000092000000FFFFULL,
	};
	static const int gprs[] = {
		UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_RBP,
		UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,
		UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
	};
	/* Hidden flags as loaded: the accessed bit set. */
	struct x86_seg code = { 0x08, 0, 0xFFFFFFFF, 0x00CF9B00 };
	struct x86_seg data = { 0x10, 0, 0xFFFFFFFF, 0x00CF9300 };
	const struct x86_seg *segs[6] = { &data, &code, &data, &data, &data, &data };
	uc_x86_mmr gdtr = { .base = HW_MBOOT_GDT_ADDR, .limit = sizeof(gdt) - 1 }, zero = { 0 };

	memcpy(x->ram + HW_MBOOT_GDT_ADDR, gdt, sizeof(gdt));
	x86_set_reg(x, UC_X86_REG_CR0, CR0_PE | CR0_ET);
	x86_set_reg(x, UC_X86_REG_CR4, 0);
	x86_set_reg(x, UC_X86_REG_CR3, 0);
	x86_set_reg(x, UC_X86_REG_CR2, 0);
	x86_state_legacy(x);
	uc_reg_write(x->uc, UC_X86_REG_GDTR, &gdtr);
	uc_reg_write(x->uc, UC_X86_REG_IDTR, &zero);
	uc_reg_write(x->uc, UC_X86_REG_LDTR, &zero);
	uc_reg_write(x->uc, UC_X86_REG_TR, &zero);
	x86_set_reg(x, UC_X86_REG_RFLAGS, 0x2);
	x86_state_set(x, segs, 0);
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		x86_set_reg(x, gprs[i], 0);
	x86_set_reg(x, UC_X86_REG_FS_BASE, 0);
	x86_set_reg(x, UC_X86_REG_GS_BASE, 0);
	x86_set_reg(x, UC_X86_REG_RAX, HW_MBOOT_EAX);
	x86_set_reg(x, UC_X86_REG_RBX, info);
	x86_set_reg(x, UC_X86_REG_RSP, HW_MBOOT_STACK);
	x86_set_reg(x, UC_X86_REG_RIP, x->elf->entry);
	x->mode = X86_MODE_32;
	x->lma = false;
	x->efer = 0;
}

int hw_x86_load(struct hw_x86 *x, const struct hw_elf *elf, char *err, size_t errlen)
{
	for (unsigned i = 0; i < elf->nr_seg; i++) {
		const struct hw_elf_segment *s = &elf->seg[i];
		uint8_t *p = x86_phys(x, s->paddr, s->memsz);

		if (!p) {
			snprintf(err, errlen, "segment at 0x%" PRIx64 " is outside guest RAM", s->paddr);
			return 2;
		}
		memcpy(p, elf->data + s->offset, s->filesz);
		memset(p + s->filesz, 0, s->memsz - s->filesz);
	}
	x->elf = elf;
	x->nr_sym = elf->nr_sym;
	free(x->sym);
	x->sym = calloc(x->nr_sym + 1, sizeof(*x->sym));
	if (!x->sym) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	if (elf->multiboot) {
		uint32_t info;

		if (hw_mboot_info(x->ram, x->cfg.mem, elf->load_end, &x->cfg.mboot, &info, err, errlen))
			return 2;
		/* No boot area: a multiboot machine has RAM, the BIOS area and
		 * the APIC page, nothing at 0xFFFF0000. */
		if (x->boot_mapped && uc_mem_unmap(x->uc, HW_X86_BOOT_BASE, HW_X86_BOOT_SIZE) == UC_ERR_OK)
			x->boot_mapped = false;
		multiboot_entry(x, info);
	} else {
		build_boot_area(x);
		entry_state(x);
		x->mode = X86_MODE_64;
		x->lma = true;
		x->efer = 0x500;	/* LME | LMA: long mode */
	}
	/* Firmware's local APIC: xAPIC mode for a multiboot kernel, as a PC
	 * boots; x2APIC for an ELF64 image (its loader's long-mode state). */
	if (x->g->ops->apic_init)
		x->g->ops->apic_init(x->g, !elf->multiboot);
	x->cpl = 0;
	x->cpu_dirty = false;
	mv_set_cpl(x->g, 0);
	mv_set_cr4_pce(x->g, false);
	x->pce = false;
	return 0;
}

void hw_x86_stop(struct hw_x86 *x)
{
	x86_end(x, HW_X86_STOPPED, "stopped by the run's budget after %" PRIu64 " instructions",
		x->total);
}

/* ---- results ---- */

enum hw_x86_end hw_x86_end(const struct hw_x86 *x, const char **why)
{
	if (why)
		*why = x->why;
	return x->end;
}

const char *hw_x86_end_name(enum hw_x86_end e)
{
	switch (e) {
	case HW_X86_RUNNING: return "running";
	case HW_X86_EXITED: return "exit";
	case HW_X86_HALTED: return "halted";
	case HW_X86_TRIPLE_FAULT: return "triple-fault";
	case HW_X86_LIMIT: return "instruction-limit";
	case HW_X86_ERROR: return "error";
	case HW_X86_UNSUPPORTED: return "unsupported-mapping";
	case HW_X86_STOPPED: return "stopped";
	}
	return "?";
}

void hw_x86_retired(const struct hw_x86 *x, uint64_t insns[2], uint64_t branches[2])
{
	for (int k = 0; k < 2; k++) {
		insns[k] = x->insns[k];
		branches[k] = x->branches[k];
	}
}

const struct hw_x86_symtruth *hw_x86_symbols(const struct hw_x86 *x, size_t *nr)
{
	*nr = x->nr_sym;
	return x->sym;
}

void hw_x86_stats(const struct hw_x86 *x, struct hw_x86_stats *st)
{
	*st = x->st;
	st->alias_maps = x->pg.nr_maps;
	st->alias_drops = x->pg.nr_drops;
	st->alias_flushes = x->pg.nr_flushes;
	st->paging_syncs = x->pg.nr_scans;
}
