/* hw_mboot: the multiboot v1 header and information structure (Multiboot
 * Specification 0.6.96 sections 3.1 and 3.3), placed as QEMU places them.
 * The memory map is what SeaBIOS reports for a PC of this much RAM, in
 * short: conventional memory below the EBDA, the BIOS area reserved, RAM
 * from 1 MiB. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hw_mboot.h"

#define PAGE		4096u
#define EBDA		0x9FC00u	/* int 0x12 reports 639 KiB below it */
#define MB_INFO_SIZE	88		/* QEMU's MBI_SIZE: up to the VBE fields */
#define MMAP_ENTRY	24		/* size field (4) + 20 bytes */

/* Information flags QEMU sets (hw/i386/multiboot.c). */
#define INFO_MEMORY	(1u << 0)
#define INFO_BOOTDEV	(1u << 1)
#define INFO_CMDLINE	(1u << 2)
#define INFO_MODS	(1u << 3)
#define INFO_MMAP	(1u << 6)
#define INFO_LOADER	(1u << 9)

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

int hw_mboot_find(const unsigned char *data, size_t size, struct hw_mboot_header *h)
{
	size_t lim = size < HW_MBOOT_SEARCH ? size : HW_MBOOT_SEARCH;

	for (size_t i = 0; i + 12 <= lim; i += 4) {
		const unsigned char *p = data + i;

		if (rd32(p) != HW_MBOOT_MAGIC || rd32(p) + rd32(p + 4) + rd32(p + 8) != 0)
			continue;
		memset(h, 0, sizeof(*h));
		h->offset = (uint32_t)i;
		h->flags = rd32(p + 4);
		/* The address fields (bit 16) follow, when the file has them. */
		if (i + 32 <= size) {
			h->header_addr = rd32(p + 12);
			h->load_addr = rd32(p + 16);
			h->load_end_addr = rd32(p + 20);
			h->bss_end_addr = rd32(p + 24);
			h->entry_addr = rd32(p + 28);
		}
		return 0;
	}
	return -1;
}

const char *hw_mboot_refused(uint32_t flags)
{
	if (flags & HW_MBOOT_VIDEO_MODE)
		return "its multiboot header asks for a video mode (flags bit 2), which this "
		       "machine has not got (a serial port only)";
	if (flags & 0xFFF8u)
		return "its multiboot header sets requirement flags (bits 3-15) that the "
		       "multiboot 0.6.96 specification does not define";
	return NULL;
}

/* The map as a PC BIOS reports it through int 0x15 e820 (type 1 RAM,
 * type 2 reserved); the QEMU option ROM copies it to 0x9000. */
static uint32_t memory_map(uint8_t *p, uint64_t mem)
{
	static const struct { uint64_t base, len; uint32_t type; } low[] = {
		{ 0, EBDA, 1 }, { EBDA, 0xA0000u - EBDA, 2 }, { 0xF0000u, 0x10000u, 2 },
	};
	uint32_t n = 0;

	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++, n++) {
		wr32(p + n * MMAP_ENTRY, 20);
		wr64(p + n * MMAP_ENTRY + 4, low[i].base);
		wr64(p + n * MMAP_ENTRY + 12, low[i].len);
		wr32(p + n * MMAP_ENTRY + 20, low[i].type);
	}
	wr32(p + n * MMAP_ENTRY, 20);
	wr64(p + n * MMAP_ENTRY + 4, 0x100000u);
	wr64(p + n * MMAP_ENTRY + 12, mem - 0x100000u);
	wr32(p + n * MMAP_ENTRY + 20, 1);
	n++;
	/* The BIOS ROM below 4 GiB. */
	wr32(p + n * MMAP_ENTRY, 20);
	wr64(p + n * MMAP_ENTRY + 4, 0xFFFC0000u);
	wr64(p + n * MMAP_ENTRY + 12, 0x40000u);
	wr32(p + n * MMAP_ENTRY + 20, 2);
	n++;
	return n * MMAP_ENTRY;
}

/* A module file's path is its argument string up to the first space. */
static int module_path(const char *arg, char *path, size_t len)
{
	size_t n = strcspn(arg, " ");

	if (!n || n >= len)
		return -1;
	memcpy(path, arg, n);
	path[n] = '\0';
	return 0;
}

static int load_module(uint8_t *ram, uint64_t mem, uint64_t at, const char *arg,
		       uint64_t *end, char *err, size_t errlen)
{
	char path[1024];
	struct stat st;
	FILE *f;
	size_t n;

	if (module_path(arg, path, sizeof(path))) {
		snprintf(err, errlen, "module '%.100s': no file name", arg);
		return 2;
	}
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%.200s: cannot open the module (%s)", path, strerror(errno));
		return 2;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		snprintf(err, errlen, "%.200s: the module is not a regular file", path);
		return 2;
	}
	if ((uint64_t)st.st_size > mem || at > mem - (uint64_t)st.st_size) {
		fclose(f);
		snprintf(err, errlen, "%.200s: the module (%lld bytes) does not fit in guest RAM "
			 "above the kernel (see --mem)", path, (long long)st.st_size);
		return 2;
	}
	n = fread(ram + at, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		snprintf(err, errlen, "%.200s: read %zu of %lld bytes", path, n, (long long)st.st_size);
		return 2;
	}
	*end = at + n;
	return 0;
}

int hw_mboot_info(uint8_t *ram, uint64_t mem, uint64_t kernel_end,
		  const struct hw_mboot_config *c, uint32_t *info, char *err, size_t errlen)
{
	uint64_t base = (kernel_end + PAGE - 1) & ~(uint64_t)(PAGE - 1), strings, at;
	const char *args = c->cmdline ? c->cmdline : "";
	size_t need = 16 * (size_t)c->nr_modules + strlen(c->kernel) + strlen(args) + 2 +
		      sizeof("mvpmu");
	uint8_t *mbi = ram + HW_MBOOT_INFO_ADDR;
	uint32_t mmap_len;

	for (unsigned i = 0; i < c->nr_modules; i++)
		need += strlen(c->modules[i]) + 1;
	if (base > mem || need > mem - base) {
		snprintf(err, errlen, "no room in guest RAM above the kernel for its multiboot "
			 "information (see --mem)");
		return 2;
	}
	memset(mbi, 0, MB_INFO_SIZE);
	mmap_len = memory_map(ram + HW_MBOOT_MMAP_ADDR, mem);
	/* Module entries, then the command lines (the kernel's path first,
	 * as QEMU gives it), the loader's name, then the modules on pages of
	 * their own (header flag bit 0 is always met). */
	strings = base + 16 * c->nr_modules;
	at = strings;
	for (unsigned i = 0; i < c->nr_modules; i++) {
		size_t n = strlen(c->modules[i]) + 1;

		memcpy(ram + at, c->modules[i], n);
		wr32(ram + base + 16 * i + 8, (uint32_t)at);
		at += n;
	}
	wr32(mbi + 16, (uint32_t)at);
	at += (uint64_t)snprintf((char *)ram + at, (size_t)(mem - at), "%s %s", c->kernel, args) + 1;
	wr32(mbi + 64, (uint32_t)at);
	memcpy(ram + at, "mvpmu", sizeof("mvpmu"));
	at += sizeof("mvpmu");
	for (unsigned i = 0; i < c->nr_modules; i++) {
		uint64_t start = (at + PAGE - 1) & ~(uint64_t)(PAGE - 1), end;
		int rc = load_module(ram, mem, start, c->modules[i], &end, err, errlen);

		if (rc)
			return rc;
		wr32(ram + base + 16 * i, (uint32_t)start);
		wr32(ram + base + 16 * i + 4, (uint32_t)end);
		at = end;
	}
	wr32(mbi + 0, INFO_MEMORY | INFO_BOOTDEV | INFO_CMDLINE | INFO_MODS | INFO_MMAP | INFO_LOADER);
	wr32(mbi + 4, EBDA / 1024);
	/* Contiguous RAM from 1 MiB (the option ROM's reading of the map). */
	wr32(mbi + 8, (uint32_t)((mem - 0x100000u) / 1024));
	wr32(mbi + 12, 0x8000FFFFu);	/* QEMU's boot device */
	wr32(mbi + 20, c->nr_modules);
	wr32(mbi + 24, (uint32_t)base);
	wr32(mbi + 44, mmap_len);
	wr32(mbi + 48, HW_MBOOT_MMAP_ADDR);
	*info = HW_MBOOT_INFO_ADDR;
	return 0;
}
