/* hw_elf: loading checks and the function symbols of an x86-64 ELF image
 * (libelf's gelf interface; ELF64 layout from the System V gABI and the
 * x86-64 psABI). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gelf.h>
#include <libelf.h>

#include "hw_elf.h"

struct ctx {
	const char *path;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ctx *c, const char *fmt, ...)
{
	int n = snprintf(c->err, c->errlen, "%s: ", c->path);
	va_list ap;

	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return 2;
}

static int read_file(struct ctx *c, struct hw_elf *e)
{
	FILE *f = fopen(c->path, "rb");
	struct stat st;
	size_t n;

	if (!f)
		return fail(c, "cannot open the image (%s)", strerror(errno));
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		return fail(c, "not a regular file");
	}
	if ((uint64_t)st.st_size > HW_ELF_MAX_FILE) {
		fclose(f);
		return fail(c, "larger than %llu MiB", (unsigned long long)(HW_ELF_MAX_FILE >> 20));
	}
	e->size = (size_t)st.st_size;
	e->data = malloc(e->size ? e->size : 1);
	if (!e->data) {
		fclose(f);
		return fail(c, "out of memory");
	}
	n = fread(e->data, 1, e->size, f);
	fclose(f);
	if (n != e->size)
		return fail(c, "read %zu of %zu bytes", n, e->size);
	return 0;
}

static bool is_elf(const struct hw_elf *e)
{
	return e->size >= EI_NIDENT && !memcmp(e->data, ELFMAG, SELFMAG);
}

/* The ELF header before libelf: its own checks are not all one-line. */
static int check_ident(struct ctx *c, const struct hw_elf *e)
{
	const unsigned char *d = e->data;

	if (!is_elf(e))
		return fail(c, "not an ELF file");
	if (d[EI_CLASS] == ELFCLASS32 && !e->multiboot)
		return fail(c, "a 32-bit ELF file without a multiboot header in its first 8 KiB "
			    "(32-bit kernels boot as multiboot v1 kernels)");
	if (d[EI_CLASS] != ELFCLASS64 && d[EI_CLASS] != ELFCLASS32)
		return fail(c, "unknown ELF class %u", d[EI_CLASS]);
	if (d[EI_DATA] != ELFDATA2LSB)
		return fail(c, "not a little-endian ELF file");
	if (e->size < (d[EI_CLASS] == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr)))
		return fail(c, "truncated ELF header");
	return 0;
}

static bool range_ok(uint64_t start, uint64_t len, uint64_t limit)
{
	return start <= limit && len <= limit - start;
}

static int check_header(struct ctx *c, Elf *elf, struct hw_elf *e)
{
	GElf_Ehdr eh;

	if (!gelf_getehdr(elf, &eh))
		return fail(c, "bad ELF header (%s)", elf_errmsg(-1));
	if (gelf_getclass(elf) == ELFCLASS32 && eh.e_machine != EM_386)
		return fail(c, "not an i386 ELF32 file (machine %u)", eh.e_machine);
	if (gelf_getclass(elf) == ELFCLASS64 && eh.e_machine != EM_X86_64)
		return fail(c, "not an x86-64 ELF file (machine %u)", eh.e_machine);
	if (eh.e_type == ET_DYN)
		return fail(c, "position-independent (ET_DYN); link the image at a fixed address (-static -no-pie)");
	if (eh.e_type != ET_EXEC)
		return fail(c, "not an executable (ELF type %u)", eh.e_type);
	e->entry = eh.e_entry;
	return 0;
}

static int check_segment(struct ctx *c, const GElf_Phdr *ph, size_t i,
			 const struct hw_elf *e, uint64_t ram)
{
	if (ph->p_filesz > ph->p_memsz)
		return fail(c, "segment %zu: file size 0x%" PRIx64 " above its memory size 0x%" PRIx64,
			    i, (uint64_t)ph->p_filesz, (uint64_t)ph->p_memsz);
	if (!range_ok(ph->p_offset, ph->p_filesz, e->size))
		return fail(c, "segment %zu: runs past the end of the file", i);
	if (!range_ok(ph->p_paddr, ph->p_memsz, ram))
		return fail(c, "segment %zu: physical 0x%" PRIx64 "+0x%" PRIx64
			    " is outside guest RAM (0x%" PRIx64 " bytes; see --mem)",
			    i, (uint64_t)ph->p_paddr, (uint64_t)ph->p_memsz, ram);
	if (e->multiboot && ((ph->p_paddr < HW_MBOOT_LOW_END &&
			      ph->p_paddr + ph->p_memsz > HW_MBOOT_MMAP_ADDR) ||
			     (ph->p_paddr < 0x100000 && ph->p_paddr + ph->p_memsz > HW_MBOOT_GDT_ADDR)))
		return fail(c, "segment %zu: physical 0x%" PRIx64 "+0x%" PRIx64 " overlaps what the "
			    "loader uses (the multiboot information at 0x9000-0x9FFF, the BIOS area "
			    "at 0xF0000-0xFFFFF)", i, (uint64_t)ph->p_paddr, (uint64_t)ph->p_memsz);
	if (ph->p_vaddr != ph->p_paddr && !e->multiboot)
		return fail(c, "segment %zu: virtual address 0x%" PRIx64 " differs from physical 0x%" PRIx64
			    "; ELF64 images run identity-mapped", i, (uint64_t)ph->p_vaddr,
			    (uint64_t)ph->p_paddr);
	return 0;
}

static int read_segments(struct ctx *c, Elf *elf, struct hw_elf *e, uint64_t ram)
{
	uint64_t entry_virt = UINT64_MAX;
	size_t n;
	int rc;

	if (elf_getphdrnum(elf, &n))
		return fail(c, "bad program headers (%s)", elf_errmsg(-1));
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph))
			return fail(c, "bad program header %zu (%s)", i, elf_errmsg(-1));
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			return fail(c, "dynamically linked; images are static");
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if ((rc = check_segment(c, &ph, i, e, ram)))
			return rc;
		if (e->nr_seg == HW_ELF_MAX_SEGMENTS)
			return fail(c, "more than %d loadable segments", HW_ELF_MAX_SEGMENTS);
		for (unsigned j = 0; j < e->nr_seg; j++) {
			const struct hw_elf_segment *s = &e->seg[j];

			if (ph.p_paddr < s->paddr + s->memsz && s->paddr < ph.p_paddr + ph.p_memsz)
				return fail(c, "segment %zu overlaps an earlier segment at 0x%" PRIx64,
					    i, s->paddr);
		}
		e->seg[e->nr_seg++] = (struct hw_elf_segment){
			.paddr = ph.p_paddr, .filesz = ph.p_filesz, .memsz = ph.p_memsz,
			.offset = ph.p_offset, .flags = ph.p_flags,
		};
		/* A multiboot kernel is entered with paging off: an entry given
		 * as a virtual address of a segment linked elsewhere is
		 * translated, as GRUB does. */
		if (e->multiboot && ph.p_vaddr != ph.p_paddr && e->entry >= ph.p_vaddr &&
		    e->entry < ph.p_vaddr + ph.p_memsz)
			entry_virt = e->entry - ph.p_vaddr + ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > e->load_end)
			e->load_end = ph.p_paddr + ph.p_memsz;
	}
	if (!e->nr_seg)
		return fail(c, "no loadable segment");
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned j = 0; j < e->nr_seg; j++)
			if ((e->seg[j].flags & PF_X) && e->entry >= e->seg[j].paddr &&
			    e->entry < e->seg[j].paddr + e->seg[j].memsz)
				return 0;
		if (pass || entry_virt == UINT64_MAX)
			break;
		e->entry = entry_virt;
	}
	return fail(c, "entry point 0x%" PRIx64 " is not in an executable segment", e->entry);
}

/* ---- symbols ---- */

struct raw_sym {
	const char *name;
	uint64_t start, size, limit;	/* limit: end of its section */
	int rank;			/* global before weak before local */
};

static int sym_cmp(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;
	int s;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	s = strcmp(x->name, y->name);
	return s;
}

static int bind_rank(unsigned bind)
{
	return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

/* Whether a symbol names code: STT_FUNC, or a plain label (assembly
 * often has no .type) in an executable section, not a local .L label. */
static bool is_code_symbol(Elf *elf, const GElf_Sym *s, const char *name,
			   uint64_t *limit)
{
	unsigned type = GELF_ST_TYPE(s->st_info);
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (!name || !name[0] || !strncmp(name, ".L", 2))
		return false;
	if (type != STT_FUNC && type != STT_NOTYPE)
		return false;
	if (s->st_shndx == SHN_UNDEF || s->st_shndx >= SHN_LORESERVE)
		return false;
	scn = elf_getscn(elf, s->st_shndx);
	if (!scn || !gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR))
		return false;
	*limit = sh.sh_addr + sh.sh_size;
	return s->st_value >= sh.sh_addr && s->st_value < *limit;
}

static int collect_syms(struct ctx *c, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
			struct raw_sym **out, size_t *nr, size_t *cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n;

	if (!d || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		const char *name;
		uint64_t limit = 0;

		if (!gelf_getsym(d, (int)i, &s))
			return fail(c, "bad symbol %zu (%s)", i, elf_errmsg(-1));
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!is_code_symbol(elf, &s, name, &limit))
			continue;
		if (*nr == *cap) {
			size_t ncap = *cap ? 2 * *cap : 256;
			struct raw_sym *p = realloc(*out, ncap * sizeof(*p));

			if (!p)
				return fail(c, "out of memory");
			*out = p;
			*cap = ncap;
		}
		(*out)[(*nr)++] = (struct raw_sym){ name, s.st_value, s.st_size, limit,
						    bind_rank(GELF_ST_BIND(s.st_info)) };
	}
	return 0;
}

/* Sorted, one symbol per start address, each ending at its size or at
 * the next symbol, whichever comes first (inner labels split a function
 * deterministically). */
static int build_syms(struct ctx *c, struct hw_elf *e, struct raw_sym *rs, size_t n)
{
	size_t k = 0;

	if (n)
		qsort(rs, n, sizeof(*rs), sym_cmp);
	e->sym = calloc(n ? n : 1, sizeof(*e->sym));
	if (!e->sym)
		return fail(c, "out of memory");
	for (size_t i = 0; i < n; i++) {
		uint64_t end;

		if (k && e->sym[k - 1].start == rs[i].start)
			continue;
		end = rs[i].size ? rs[i].start + rs[i].size : rs[i].limit;
		if (end > rs[i].limit || end < rs[i].start)
			end = rs[i].limit;
		for (size_t j = i + 1; j < n; j++)
			if (rs[j].start > rs[i].start) {
				if (rs[j].start < end)
					end = rs[j].start;
				break;
			}
		e->sym[k].name = strdup(rs[i].name);
		if (!e->sym[k].name)
			return fail(c, "out of memory");
		e->sym[k].start = rs[i].start;
		e->sym[k].end = end;
		e->nr_sym = ++k;
	}
	return 0;
}

static int read_symbols(struct ctx *c, Elf *elf, struct hw_elf *e)
{
	struct raw_sym *rs = NULL;
	size_t nr = 0, cap = 0;
	Elf_Scn *scn = NULL;
	int rc = 0;

	while (!rc && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			rc = fail(c, "bad section header (%s)", elf_errmsg(-1));
		else if (sh.sh_type == SHT_SYMTAB)
			rc = collect_syms(c, elf, scn, &sh, &rs, &nr, &cap);
	}
	if (!rc)
		rc = build_syms(c, e, rs, nr);
	free(rs);
	return rc;
}

/* Multiboot flags bit 16: the kernel is the file's bytes from the header's
 * load_addr on (QEMU's load_multiboot, the header's address fields). */
static int aout_segment(struct ctx *c, struct hw_elf *e, uint64_t ram)
{
	const struct hw_mboot_header *h = &e->mb;
	uint64_t text, load, size;

	if (e->size < (uint64_t)h->offset + 32)
		return fail(c, "its multiboot header's address fields run past the end of the file");
	if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > h->offset)
		return fail(c, "its multiboot header_addr 0x%x is not inside what load_addr 0x%x loads",
			    h->header_addr, h->load_addr);
	text = h->offset - (h->header_addr - h->load_addr);
	if (h->load_end_addr) {
		if (h->load_end_addr < h->load_addr)
			return fail(c, "its multiboot load_end_addr is below load_addr");
		load = h->load_end_addr - h->load_addr;
	} else {
		load = e->size - text;
	}
	if (text + load > e->size)
		return fail(c, "its multiboot load_end_addr is past the end of the file");
	size = load;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + load)
			return fail(c, "its multiboot bss_end_addr is below load_end_addr");
		size = h->bss_end_addr - h->load_addr;
	}
	if (!range_ok(h->load_addr, size, ram))
		return fail(c, "it loads physical 0x%x+0x%" PRIx64 ", outside guest RAM (0x%" PRIx64
			    " bytes; see --mem)", h->load_addr, size, ram);
	if ((h->load_addr < HW_MBOOT_LOW_END && h->load_addr + size > HW_MBOOT_MMAP_ADDR) ||
	    (h->load_addr < 0x100000 && h->load_addr + size > HW_MBOOT_GDT_ADDR))
		return fail(c, "it loads physical 0x%x+0x%" PRIx64 ", over what the loader uses "
			    "(0x9000-0x9FFF, 0xF0000-0xFFFFF)", h->load_addr, size);
	if (h->entry_addr < h->load_addr || h->entry_addr >= h->load_addr + size)
		return fail(c, "its multiboot entry_addr 0x%x is not in what it loads", h->entry_addr);
	e->seg[0] = (struct hw_elf_segment){ .paddr = h->load_addr, .filesz = load, .memsz = size,
					     .offset = text, .flags = PF_R | PF_W | PF_X };
	e->nr_seg = 1;
	e->entry = h->entry_addr;
	e->load_end = h->load_addr + size;
	return 0;
}

int hw_elf_open(const char *path, uint64_t ram, struct hw_elf **out,
		char *err, size_t errlen)
{
	struct ctx c = { path, err, errlen };
	struct hw_elf *e = calloc(1, sizeof(*e));
	Elf *elf = NULL;
	const char *why;
	int rc;

	*out = NULL;
	if (!e)
		return fail(&c, "out of memory");
	if (elf_version(EV_CURRENT) == EV_NONE) {
		free(e);
		return fail(&c, "libelf is unusable (%s)", elf_errmsg(-1));
	}
	rc = read_file(&c, e);
	if (!rc && !hw_mboot_find(e->data, e->size, &e->mb)) {
		e->multiboot = true;
		e->aout = e->mb.flags & HW_MBOOT_AOUT_KLUDGE;
		if ((why = hw_mboot_refused(e->mb.flags)))
			rc = fail(&c, "%s", why);
	}
	if (!rc && e->aout) {
		rc = aout_segment(&c, e, ram);
		/* Its symbols, when the file is an ELF file too. */
		if (!rc && is_elf(e) && (elf = elf_memory((char *)e->data, e->size)) &&
		    elf_kind(elf) == ELF_K_ELF)
			rc = read_symbols(&c, elf, e);
		else if (!rc && !(e->sym = calloc(1, sizeof(*e->sym))))
			rc = fail(&c, "out of memory");
	} else {
		if (!rc && !is_elf(e) && e->multiboot)
			rc = fail(&c, "a multiboot kernel that is not an ELF file and has no load "
				  "addresses in its header (flags bit 16)");
		if (!rc)
			rc = check_ident(&c, e);
		if (!rc && !(elf = elf_memory((char *)e->data, e->size)))
			rc = fail(&c, "unreadable ELF (%s)", elf_errmsg(-1));
		if (!rc && elf_kind(elf) != ELF_K_ELF)
			rc = fail(&c, "not an ELF file");
		if (!rc)
			rc = check_header(&c, elf, e);
		if (!rc)
			rc = read_segments(&c, elf, e, ram);
		if (!rc)
			rc = read_symbols(&c, elf, e);
	}
	if (elf)
		elf_end(elf);
	if (rc) {
		hw_elf_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void hw_elf_free(struct hw_elf *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nr_sym; i++)
		free(e->sym[i].name);
	free(e->sym);
	free(e->data);
	free(e);
}

long hw_elf_symbol_at(const struct hw_elf *e, uint64_t addr)
{
	size_t lo = 0, hi = e->nr_sym;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->sym[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= e->sym[lo - 1].end)
		return -1;
	return (long)(lo - 1);
}
