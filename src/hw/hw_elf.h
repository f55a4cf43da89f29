/* hw_elf: an x86-64 ELF executable as the real-code machine loads it: its
 * loadable segments (placed at their physical addresses in guest RAM) and
 * its function symbols (for the truth per symbol).  Read with Debian's
 * libelf; every defect of the file is one clear line of error. */
#ifndef HW_ELF_H
#define HW_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw_mboot.h"

#define HW_ELF_MAX_SEGMENTS 32
#define HW_ELF_MAX_FILE (1ULL << 30)	/* larger files are refused */

struct hw_elf_segment {
	uint64_t paddr;		/* where it goes in guest RAM (p_paddr) */
	uint64_t filesz, memsz;	/* bytes from the file; the rest is zeroed */
	uint64_t offset;	/* in the file */
	uint32_t flags;		/* PF_X, PF_W, PF_R */
};

/* A function: [start, end), sorted by start, never overlapping. */
struct hw_elf_symbol {
	char *name;
	uint64_t start, end;
};

struct hw_elf {
	unsigned char *data;	/* the whole file */
	size_t size;
	uint64_t entry;		/* physical for a multiboot kernel */
	/* A multiboot v1 kernel (hw_mboot.h): entered in 32-bit protected
	 * mode; loaded by its ELF segments' physical addresses, or by its
	 * header's (flags bit 16: `aout`, any file). */
	bool multiboot, aout;
	struct hw_mboot_header mb;
	uint64_t load_end;	/* end of the highest segment */
	struct hw_elf_segment seg[HW_ELF_MAX_SEGMENTS];
	unsigned nr_seg;
	struct hw_elf_symbol *sym;
	size_t nr_sym;
};

/* Reads and checks `path` for a machine with `ram` bytes of RAM at
 * physical 0.  An image: ELF64, little endian, x86-64, ET_EXEC, statically
 * linked, segments inside RAM with p_vaddr == p_paddr (images start
 * identity-mapped), not overlapping, the entry in an executable segment.
 * A multiboot kernel: a multiboot header in its first 8 KiB with
 * requirements this machine meets, and an ELF32 (i386) or ELF64 file
 * loaded by p_paddr, or any file with the header's load addresses; its
 * segments clear of the low areas the loader uses (0x9000-0x9FFF, the
 * BIOS area from 0xF0000).  Returns 0, or 2 with "PATH: what is wrong". */
int hw_elf_open(const char *path, uint64_t ram, struct hw_elf **out,
		char *err, size_t errlen);
void hw_elf_free(struct hw_elf *e);

/* Index of the symbol containing `addr`, -1 when none does. */
long hw_elf_symbol_at(const struct hw_elf *e, uint64_t addr);

#endif
