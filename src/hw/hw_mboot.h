/* hw_mboot: multiboot v1 (Multiboot Specification 0.6.96) as QEMU's
 * `-kernel` loads a kernel (hw/i386/multiboot.c and its option ROM): the
 * header a kernel carries in its first 8 KiB, and the information
 * structure it finds in EBX at entry (memory sizes, a BIOS-style memory
 * map, the command line, modules), laid out where QEMU lays it out. */
#ifndef HW_MBOOT_H
#define HW_MBOOT_H

#include <stddef.h>
#include <stdint.h>

#define HW_MBOOT_MAGIC		0x1BADB002u	/* in the kernel's header */
#define HW_MBOOT_EAX		0x2BADB002u	/* in EAX at entry */
#define HW_MBOOT_SEARCH		8192		/* the header lies in the first 8 KiB */
#define HW_MBOOT_MAX_MODULES	4
#define HW_MBOOT_CMDLINE_MAX	1024
/* Where QEMU puts the structures (MULTIBOOT_STRUCT_ADDR): the memory map
 * at 0x9000, the information at 0x9500; and the entry GDT, in the BIOS
 * area the memory map reserves. */
#define HW_MBOOT_MMAP_ADDR	0x9000u
#define HW_MBOOT_INFO_ADDR	0x9500u
#define HW_MBOOT_LOW_END	0xA000u
#define HW_MBOOT_GDT_ADDR	0xF0000u
#define HW_MBOOT_STACK		0x7000u		/* ESP at entry (the spec leaves it undefined) */

/* Header flags (requirements in bits 0-15). */
#define HW_MBOOT_PAGE_ALIGN	(1u << 0)
#define HW_MBOOT_MEMORY_INFO	(1u << 1)
#define HW_MBOOT_VIDEO_MODE	(1u << 2)
#define HW_MBOOT_AOUT_KLUDGE	(1u << 16)	/* load by the header's addresses */

struct hw_mboot_header {
	uint32_t offset;	/* of the header in the file */
	uint32_t flags;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* The header in the first 8 KiB of `data` (magic, flags and checksum
 * summing to 0, 4-byte aligned): 0 found, -1 none. */
int hw_mboot_find(const unsigned char *data, size_t size, struct hw_mboot_header *h);

/* NULL when the header's requirements can be met, else why not (one
 * line): video modes (bit 2) and requirement bits the specification does
 * not define are refused, as it asks of a loader that cannot meet them. */
const char *hw_mboot_refused(uint32_t flags);

struct hw_mboot_config {
	const char *kernel;		/* the kernel's path: the command line's first word, as QEMU */
	const char *cmdline;		/* NULL or "" : none */
	const char *modules[HW_MBOOT_MAX_MODULES];	/* "PATH [ARGS]" */
	unsigned nr_modules;
};

/* Writes the memory map, the information structure, the command lines and
 * the modules into guest RAM (`ram`, `mem` bytes) above the kernel
 * (`kernel_end`: the end of its highest segment).  0 and the structure's
 * address in *info, or 2 with one line in err (a module that cannot be
 * read, or that does not fit). */
int hw_mboot_info(uint8_t *ram, uint64_t mem, uint64_t kernel_end,
		  const struct hw_mboot_config *c, uint32_t *info, char *err, size_t errlen);

#endif
