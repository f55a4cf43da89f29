/* hw_x86: a CPU that runs real x86-64 machine code (Debian's Unicorn,
 * FACTS.md s.9) on top of the simulated PMU.  Every retired instruction
 * and branch is counted exactly through the environment of the guest
 * (struct mv_guest_ops: bare metal or a vCPU), the instructions that
 * touch the PMU, CPUID, ports or HLT go to the same environment ops the
 * C guest API uses, and faults and interrupts are delivered through the
 * guest's own IDT.  docs/realcode.md describes the rules. */
#ifndef HW_X86_H
#define HW_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw_mboot.h"
#include "mvpmu/guest.h"
#include "sim/sim.h"

struct hw_x86;
struct hw_elf;

/* Guest RAM: physical [0, mem); a 64 KiB boot area (page tables, boot GDT
 * and stack) at HW_X86_BOOT_BASE. */
#define HW_X86_MEM_DEFAULT	(256ULL << 20)
#define HW_X86_MEM_MIN		(2ULL << 20)
#define HW_X86_MEM_MAX		(3ULL << 30)
#define HW_X86_BOOT_BASE	0xFFFF0000ULL
#define HW_X86_BOOT_SIZE	0x10000ULL
#define HW_X86_INSN_LIMIT_DEFAULT 1000000000ULL

enum hw_x86_end {
	HW_X86_RUNNING,
	HW_X86_EXITED,		/* wrote isa-debug-exit (port 0xF4) */
	HW_X86_HALTED,		/* HLT with nothing left to wake it */
	HW_X86_TRIPLE_FAULT,	/* a fault while delivering a double fault */
	HW_X86_LIMIT,		/* its instruction limit */
	HW_X86_ERROR,		/* something the machine cannot do (see why) */
	HW_X86_UNSUPPORTED,	/* a mapping the paging bridge cannot serve (see why) */
	HW_X86_STOPPED,		/* the run's budget stopped it (hw_x86_stop) */
};

struct hw_x86_config {
	struct sim *sim;	/* the simulated clock (RDTSC reads it) */
	uint64_t mem;		/* RAM bytes (multiple of 4 KiB) */
	uint64_t insn_limit;	/* the guest ends after this many instructions */
	const char *label;	/* truth label of the guest's work (outlives the run) */
	/* A multiboot kernel's command line and modules (its path first). */
	struct hw_mboot_config mboot;
	/* Benchmark reference only: no hooks at all; after hw_x86_load the
	 * first hw_x86_step runs the code from `raw_from` (RDI = raw_arg)
	 * as plain Unicorn until it reaches `raw_until`, counting nothing,
	 * and ends the guest (HW_X86_EXITED when it got there). */
	bool raw;
	uint64_t raw_from, raw_arg, raw_until;
};

/* Truth per ELF symbol: instructions and branches retired in it, user
 * (CPL > 0) and kernel (CPL 0).  Index nr_sym is code outside symbols. */
struct hw_x86_symtruth {
	uint64_t insns[2], branches[2];	/* [0] user, [1] kernel */
};

/* Creates the CPU for the guest `g` (its environment ops, and its
 * g->platform for port I/O).  NULL with a one-line message on failure
 * (out of memory, or a libunicorn whose internals are not the 2.0.1
 * layout this engine was checked against). */
struct hw_x86 *hw_x86_new(struct mv_guest *g, const struct hw_x86_config *cfg,
			  char *err, size_t errlen);
void hw_x86_free(struct hw_x86 *x);

/* Copies the image's segments into RAM and sets the documented entry
 * state: long mode for an ELF64 image, 32-bit protected mode with the
 * multiboot information for a multiboot kernel (docs/realcode.md).  The
 * image must outlive the CPU (its symbols are used).  0, or 2 with one
 * line in err. */
int hw_x86_load(struct hw_x86 *x, const struct hw_elf *elf, char *err, size_t errlen);

/* Runs about `max_insns` instructions, or as many simulated cycles when
 * exits and accesses cost more (the slice of one scheduler step); false
 * once the guest has ended. */
bool hw_x86_step(struct hw_x86 *x, uint64_t max_insns);
/* Ends the guest between two steps (the run's budget). */
void hw_x86_stop(struct hw_x86 *x);

/* How the guest ended (HW_X86_RUNNING while it runs), with a sentence. */
enum hw_x86_end hw_x86_end(const struct hw_x86 *x, const char **why);
const char *hw_x86_end_name(enum hw_x86_end e);

/* Instructions and branches retired by the guest, [0] user [1] kernel. */
void hw_x86_retired(const struct hw_x86 *x, uint64_t insns[2], uint64_t branches[2]);
const struct hw_x86_symtruth *hw_x86_symbols(const struct hw_x86 *x, size_t *nr);

/* Engine statistics: decoded blocks, exact stops, deliveries. */
struct hw_x86_stats {
	uint64_t blocks, exact_stops, specials, exceptions, interrupts, starts;
	uint64_t retranslations;	/* blocks run anew because their bytes changed */
	uint64_t alias_maps, alias_drops, alias_flushes, paging_syncs;
};
void hw_x86_stats(const struct hw_x86 *x, struct hw_x86_stats *st);

#endif
