/* hw_x86_internal: the real-code CPU's state, shared by its modules:
 * hw_x86.c (engine, hooks, counting, the run loop), hw_x86_decode.c (the
 * decoded-block cache), hw_x86_state.c (Unicorn state its API does not
 * reach), hw_x86_intr.c (IDT delivery, SYSCALL), hw_x86_insn.c (the
 * instructions the environment executes).  Private to src/hw. */
#ifndef HW_X86_INTERNAL_H
#define HW_X86_INTERNAL_H

#include <unicorn/unicorn.h>
#include <Zydis/Zydis.h>

#include "hw_cpu.h"
#include "hw_elf.h"
#include "hw_platform.h"
#include "hw_x86.h"

/* The code size the CPU runs at (CS.L, CS.D), which Zydis decodes by. */
enum x86_mode { X86_MODE_16, X86_MODE_32, X86_MODE_64, X86_NR_MODES };

/* What an instruction is to the engine. */
enum x86_kind {
	XK_PLAIN,	/* executed by Unicorn, counted by its block */
	/* Executed by the engine before Unicorn sees them: */
	XK_WRMSR, XK_RDMSR, XK_RDPMC, XK_CPUID, XK_HLT,
	XK_IO,		/* IN, OUT, INS, OUTS */
	XK_INT,		/* INT n, INT3, INT1 */
	XK_SYSCALL, XK_SYSRET,	/* Unicorn 2.0.1: a no-op, and #UD (it sees no EFER.SCE) */
	XK_RDTSC, XK_RDTSCP,
	XK_UD,		/* #UD here: SYSENTER, SYSEXIT, RDRAND, RDSEED, MONITOR, MWAIT */
};

/* Instruction flags. */
#define XF_BRANCH	0x01	/* a branch retired (FACTS.md s.1 event C4/00) */
#define XF_COND		0x02	/* a conditional branch (Jcc, LOOPcc, JrCXZ) */
#define XF_CPL		0x04	/* may change CPL: IRET, SYSRET, far RET/JMP/CALL */
#define XF_IRET		0x08	/* IRET: ends NMI blocking */
#define XF_IF		0x10	/* may set RFLAGS.IF: STI, POPF, IRET, SYSRET */
#define XF_SHADOW	0x20	/* STI, MOV SS: blocks interrupts for one instruction */
#define XF_REP		0x40	/* REP string operation: Unicorn runs it as one block per iteration */
#define XF_TLB		0x80	/* MOV to CR0/CR3/CR4, INVLPG, INVPCID: translations may change */

/* IO aux bits. */
#define XIO_IN		0x01
#define XIO_DX		0x02	/* port in DX (else the immediate) */
#define XIO_STRING	0x04	/* INS / OUTS */
#define XIO_REP		0x08
#define XIO_ADDR32	0x10	/* 32-bit address size (0x67) */
#define XIO_SEG_FS	0x20	/* FS or GS override on OUTS */
#define XIO_SEG_GS	0x40

struct x86_insn {
	uint8_t len, kind, flags;
	uint8_t arg;		/* INT vector, IO immediate port */
	uint8_t size;		/* IO operand size (1, 2, 4) */
	uint8_t aux;		/* XIO_* */
	int32_t sym;		/* ELF symbol index, nr_sym when outside any */
};

/* One translation block as Unicorn announced it (address and size), with
 * its instructions decoded once. */
struct x86_block {
	uint64_t addr;
	uint32_t size;
	uint32_t nr;		/* instructions */
	uint32_t first;		/* first instruction in the arena */
	uint32_t bytes;		/* copy of its code in the byte arena */
	uint32_t branches, cond;
	int32_t sym;		/* symbol of every instruction, -1 when mixed */
	uint8_t mode;		/* enum x86_mode it was decoded in */
	uint8_t last_flags;	/* flags of its last instruction */
	bool tlb;		/* holds an XF_TLB instruction */
	bool special;		/* holds instructions the engine executes */
	bool hooked;		/* the code hooks of its specials are in place */
};

/* Why the engine asked Unicorn to stop. */
enum x86_stop {
	STOP_NONE,
	STOP_STEP,	/* the step's instructions are done */
	STOP_EVENT,	/* an exception, interrupt or HLT waits in the engine */
	STOP_END,	/* the guest ended */
};

/* An exception or software interrupt waiting for delivery. */
struct x86_event {
	bool pending;
	unsigned vector;
	bool has_err;
	uint32_t err;
	bool soft;		/* INT n / INT3: the gate's DPL is checked */
	bool retire;		/* INT n, INT3, INT1: retires once delivered */
	uint64_t rip;		/* the faulting instruction (or the INT) */
	uint64_t next;		/* INT n: the return address */
	int32_t sym;		/* INT n: its symbol */
};

/* Offsets into Unicorn 2.0.1's saved CPU context (its CPUX86State, QEMU
 * 5.0 layout), found and checked at start (hw_x86_state.c). */
struct x86_layout {
	size_t data;		/* start of the state inside uc_context */
	size_t hflags, segs, efer, error_code, old_exception;
};

/* The paging bridge (hw_x86_paging.c, FACTS.md s.9): Unicorn 2.0.1 walks
 * the guest's page tables but then uses the virtual address as the
 * physical one, so a page mapped away from its own address is served by
 * an alias, the host memory of its physical page mapped in Unicorn at the
 * virtual address. */
enum x86_alias_kind {
	XA_RAM,		/* guest RAM (or the boot area) */
	XA_APIC,	/* the local APIC's page: its MMIO registers */
	XA_JUNK,	/* not present: a throwaway page, so Unicorn raises #PF itself */
};

struct x86_alias {
	uint64_t va, len;	/* pages [va, va + len) */
	uint64_t pa;		/* physical address of va (XA_RAM) */
	uint8_t kind;
};

struct x86_paging {
	struct x86_alias *al;	/* sorted by va, never overlapping */
	size_t nr, cap;
	uint8_t *junk;		/* the throwaway page */
	bool pending;		/* an XF_TLB instruction or EFER write retired: resync */
	uint64_t nr_maps, nr_drops, nr_flushes, nr_scans;
};

struct hw_x86 {
	uc_engine *uc;
	struct mv_guest *g;
	struct hw_platform *plat;
	const struct hw_elf *elf;
	struct hw_x86_config cfg;
	uint8_t *ram;		/* guest RAM (host memory), physical 0 */
	uint8_t *boot;		/* the boot area */
	bool boot_mapped;	/* it is in Unicorn's physical space (ELF64 images) */
	bool apic_mapped;	/* the xAPIC page is MMIO in Unicorn's space */
	ZydisDecoder dec[X86_NR_MODES];
	struct x86_layout lay;
	uc_context *ctx;

	/* Decoded blocks: arenas and an open-addressing index. */
	struct x86_block *blk;
	size_t nr_blk, cap_blk;
	size_t mru;		/* 1 + the block looked up last, 0 none */
	const char *decode_err;	/* why x86_block_get returned NULL */
	struct x86_insn *ins;
	size_t nr_ins, cap_ins;
	uint8_t *code;
	size_t nr_code, cap_code;
	uint32_t *slot;		/* block index + 1, 0 empty */
	size_t cap_slot;
	uint64_t *special_addr;	/* addresses that have a code hook */
	size_t nr_special_hooks, cap_special_hooks;

	/* Execution. */
	const struct x86_block *cur;	/* block running, NULL none */
	uint32_t cur_start;		/* its first instruction not yet retired */
	unsigned cpl;
	enum x86_mode mode;		/* the code size Zydis decodes in */
	bool lma;			/* long mode active (EFER.LMA) */
	bool cpu_dirty;			/* CS may have changed: re-read CPL and mode at the next block */
	bool pce;			/* CR4.PCE as last given to the environment */
	uint64_t efer;			/* EFER's CPU bits (Unicorn 2.0.1 ignores EFER writes) */
	bool shadow;			/* the last instruction blocks interrupts */
	uint64_t rep_at;		/* the last instruction was this REP string op */
	uint64_t pend[3];		/* retired, not yet counted: insns, branches, cond */
	struct hw_headroom room;
	bool room_valid;
	uint64_t room_insns;		/* instructions until the first event */
	uint64_t deliver_after;		/* stop after this many insns (STI shadow), 0 none */
	uc_hook stop_hook;		/* the exact stop inside a block */
	bool stop_hook_set;
	uint64_t stop_at, stop_blk_addr;
	uint32_t stop_blk_size;
	struct { uint64_t addr; uint32_t size; } stale[8];	/* translations to drop */
	unsigned nr_stale;
	enum x86_stop stop;
	bool resume;			/* continue at resume_rip after the stop */
	uint64_t resume_rip;
	bool halted;
	bool aborted;			/* Unicorn aborted (hw_x86_step): never run it again */

	/* Events. */
	struct x86_event ev;
	bool nmi_pending, nmi_blocked;
	uint64_t irr[4];		/* fixed vectors waiting (bitmap) */
	bool syscall_pending;		/* SYSCALL retired, to be carried out */
	uint64_t syscall_next;
	bool sysret_pending;		/* SYSRETQ retired, to be carried out */
	/* Events delivered in a row with no instruction retired in between
	 * (x86_deliver ends the guest past X86_DELIVER_LOOP_MAX). */
	uint64_t loop_total;		/* `total` at the last delivery */
	unsigned loop_run;
	/* IDT deliveries not yet returned from by IRET, the innermost in bit
	 * 0: 1 for an interrupt (NMI or fixed vector: in this model a PMI),
	 * 0 for an exception or INT n.  Beyond 64 levels only `frames_depth`
	 * is exact.  Nonzero: the code runs inside an interrupt handler. */
	uint64_t frames;
	unsigned frames_depth;
	/* Exploration's points in interrupt handlers (hw_x86.c, on_point):
	 * a code hook over all code while one runs, and the instruction
	 * (retired count, address) whose point was visited last. */
	uc_hook point_hook;
	bool point_hook_set;
	uint64_t point_total, point_addr;

	struct x86_paging pg;
	bool one_insn;			/* running one instruction for the hypervisor, uncounted */
	bool refetch;			/* a fetch found its page unmapped: restart at RIP */

	/* Progress and truth. */
	uint64_t step_left;
	uint64_t step_cycles_end;	/* the step ends at this simulated cycle */
	uint64_t total;			/* instructions retired */
	uint64_t insns[2], branches[2];
	struct hw_x86_symtruth *sym;	/* nr_sym + 1 */
	size_t nr_sym;
	enum hw_x86_end end;
	char why[200];
	struct hw_x86_stats st;
};

/* hw_x86.c */
void x86_end(struct hw_x86 *x, enum hw_x86_end e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void x86_flush(struct hw_x86 *x);
void x86_retire_plain(struct hw_x86 *x, int32_t sym, bool branch);
void x86_set_cpl(struct hw_x86 *x, unsigned cpl);
uint64_t x86_reg(struct hw_x86 *x, int reg);
void x86_set_reg(struct hw_x86 *x, int reg, uint64_t v);
/* Host pointer to guest-physical [pa, pa+len), NULL outside memory. */
uint8_t *x86_phys(struct hw_x86 *x, uint64_t pa, uint64_t len);
/* Guest-virtual to physical through the guest's page tables.  0, or the
 * #PF error code (bit 0 present, 1 write, 2 user) with the fault. */
int x86_translate(struct hw_x86 *x, uint64_t va, bool write, bool user,
		  uint64_t *pa, uint32_t *pf_err);
/* Reads/writes guest-virtual memory as supervisor; 0 ok, else #PF
 * (CR2 set, error code in *pf_err) or -1 for memory that is not there. */
int x86_vread(struct hw_x86 *x, uint64_t va, void *buf, size_t len, uint32_t *pf_err);
int x86_vwrite(struct hw_x86 *x, uint64_t va, const void *buf, size_t len, uint32_t *pf_err);

/* hw_x86_paging.c */
int x86_paging_init(struct hw_x86 *x);
void x86_paging_free(struct hw_x86 *x);
/* Unicorn found nothing at `addr` (a virtual address: its walk passed):
 * 1 an alias was mapped (retry the access), 2 the same for a fetch
 * (restart at RIP), 0 the guest ended (why is set). */
int x86_paging_unmapped(struct hw_x86 *x, bool fetch, uint64_t addr);
/* After an XF_TLB instruction, a CR or EFER change: drop the aliases whose
 * translation changed, and check the mappings Unicorn cannot serve. */
void x86_paging_sync(struct hw_x86 *x);
/* The same check of low mappings alone (each slice). */
void x86_paging_check(struct hw_x86 *x);
/* A #PF is being delivered for `va`: its throwaway page goes (the handler
 * may map the page without a flush, as x86 allows). */
void x86_paging_fault(struct hw_x86 *x, uint64_t va);
/* Whether `pa` is something in Unicorn's physical space (RAM, the boot
 * area, the APIC page). */
bool x86_phys_resource(const struct hw_x86 *x, uint64_t pa);
/* The xAPIC page as MMIO at its own address (hw_x86_paging.c); an access
 * to it, or to an alias of it, is x86_apic_access (hw_x86.c). */
uc_err x86_apic_map(struct hw_x86 *x);
void x86_apic_access(struct hw_x86 *x, uint64_t off, unsigned size, bool write, uint64_t *val);

/* hw_x86_decode.c */
int x86_decode_init(struct hw_x86 *x);
void x86_decode_free(struct hw_x86 *x);
/* The block at addr/size decoded in the current mode; *rewritten is set
 * when its bytes changed since they were decoded (Unicorn's translation
 * may be stale: code written through another mapping). */
const struct x86_block *x86_block_get(struct hw_x86 *x, uint64_t addr, uint32_t size,
				      bool *rewritten);
/* The effective address and size of the memory operand of the instruction
 * at `addr` with the registers as they are now; false when it has none. */
bool x86_insn_mem(struct hw_x86 *x, uint64_t addr, const uint8_t *bytes, size_t len,
		  uint64_t *ea, unsigned *size, bool *write);
/* Decodes one instruction at `addr` (bytes given) in the current mode. */
bool x86_decode_one(struct hw_x86 *x, uint64_t addr, const uint8_t *bytes, size_t len,
		    struct x86_insn *in, ZydisDecodedInstruction *d);
long x86_block_index(const struct hw_x86 *x, const struct x86_block *b, uint64_t addr);
const struct x86_insn *x86_block_insn(const struct hw_x86 *x, const struct x86_block *b,
				      uint32_t i);
uint64_t x86_block_insn_addr(const struct hw_x86 *x, const struct x86_block *b, uint32_t i);

/* hw_x86_state.c */
int x86_state_init(struct hw_x86 *x, char *err, size_t errlen);
/* A segment register's hidden part: QEMU's SegmentCache (flags are the
 * descriptor's high dword). */
struct x86_seg {
	uint32_t selector;
	uint64_t base;
	uint32_t limit, flags;
};
#define X86_SEG_ES 0
#define X86_SEG_CS 1
#define X86_SEG_SS 2
#define X86_SEG_DS 3
#define X86_SEG_FS 4
#define X86_SEG_GS 5
/* Loads segment caches and CPL as the hardware would on a far transfer
 * (what the Unicorn API cannot do), hflags derived from them as QEMU
 * does; resets the "exception in flight" and interrupt-shadow state.
 * `seg`: NULL entries are left alone. */
void x86_state_set(struct hw_x86 *x, const struct x86_seg *seg[6], int cpl);
/* CPL and code size from the CPU's hflags (and x->lma). */
void x86_state_mode(struct hw_x86 *x, unsigned *cpl, enum x86_mode *mode);
/* EFER as the CPU has it, and written (LMA stays the CPU's). */
uint64_t x86_state_efer(struct hw_x86 *x);
void x86_state_set_efer(struct hw_x86 *x, uint64_t efer);
/* 32-bit protected mode, paging and long mode off (multiboot entry). */
void x86_state_legacy(struct hw_x86 *x);
/* The error code of the exception Unicorn raised last. */
uint32_t x86_state_error_code(struct hw_x86 *x);
/* Forgets the exception Unicorn raised (else the next becomes #DF). */
void x86_state_exception_done(struct hw_x86 *x);

/* hw_x86_intr.c */
/* More events than a CPU can have waiting (256 vectors, NMI, a fault on
 * each handler's first instruction) delivered with nothing retired: the
 * guest is in an exception loop. */
#define X86_DELIVER_LOOP_MAX 4096
/* Delivers vector `v` through the guest's IDT.  kind: */
enum x86_deliver { XD_FAULT, XD_SOFT, XD_NMI, XD_EXT };
/* `rip` is the instruction the event belongs to; `insn` (INT n, INT3,
 * INT1) is retired once delivered and execution returns after it. */
/* In 64-bit (long) mode through 16-byte gates; in legacy protected mode
 * through 8-byte 32-bit gates (SDM vol. 3 6.12). */
void x86_deliver(struct hw_x86 *x, unsigned v, enum x86_deliver kind, bool has_err,
		 uint32_t err, uint64_t rip, const struct x86_event *insn);
void x86_do_syscall(struct hw_x86 *x, uint64_t next);
void x86_do_sysret(struct hw_x86 *x);
bool x86_irq_deliverable(struct hw_x86 *x, unsigned *vector, bool *nmi);

/* hw_x86_insn.c */
/* Executes special instruction `in` at `addr`; true when it completed
 * (retired; continue after it), false when it raised an exception or
 * needs the engine (x->ev / x->stop set). */
bool x86_special(struct hw_x86 *x, uint64_t addr, const struct x86_insn *in);

#endif
