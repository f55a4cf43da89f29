/* test_hw_elf: the image loader (src/hw/hw_elf.c).  A hand-made ELF64
 * image, written here byte by byte with no runtime of ours (no GDT, IDT
 * or stack of its own), loads and runs; every defect of a file is
 * refused with one line that names the file; the symbols of a built
 * guest image are sorted and do not overlap. */
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rc_test.h"
#include "hw/hw_elf.h"
#include "hw/hw_x86.h"

#define CODE_OFF 0x1000
#define CODE_ADDR 0x200000ULL

/* mov dx, 0x3F8; mov al, 'h'; out dx, al; mov al, 'i'; out dx, al;
 * mov al, 10; out dx, al; mov al, 21; out 0xF4, al; hlt */
static const unsigned char code[] = {
	0x66, 0xBA, 0xF8, 0x03, 0xB0, 'h', 0xEE, 0xB0, 'i', 0xEE, 0xB0, 0x0A, 0xEE,
	0xB0, 0x15, 0xE6, 0xF4, 0xF4,
};

struct image {
	unsigned char buf[CODE_OFF + sizeof(code)];
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;	/* two program headers */
	size_t size;
};

/* A valid image: one loadable executable segment at CODE_ADDR holding
 * `code`, and a second program header (PT_NULL, for the tests to use). */
static void image_init(struct image *im)
{
	memset(im, 0, sizeof(*im));
	im->eh = (Elf64_Ehdr *)im->buf;
	im->ph = (Elf64_Phdr *)(im->buf + sizeof(Elf64_Ehdr));
	memcpy(im->eh->e_ident, ELFMAG, SELFMAG);
	im->eh->e_ident[EI_CLASS] = ELFCLASS64;
	im->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh->e_ident[EI_VERSION] = EV_CURRENT;
	im->eh->e_type = ET_EXEC;
	im->eh->e_machine = EM_X86_64;
	im->eh->e_version = EV_CURRENT;
	im->eh->e_entry = CODE_ADDR;
	im->eh->e_phoff = sizeof(Elf64_Ehdr);
	im->eh->e_ehsize = sizeof(Elf64_Ehdr);
	im->eh->e_phentsize = sizeof(Elf64_Phdr);
	im->eh->e_phnum = 2;
	im->ph[0] = (Elf64_Phdr){
		.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = CODE_OFF,
		.p_vaddr = CODE_ADDR, .p_paddr = CODE_ADDR,
		.p_filesz = sizeof(code), .p_memsz = 0x1000, .p_align = 0x1000,
	};
	memcpy(im->buf + CODE_OFF, code, sizeof(code));
	im->size = sizeof(im->buf);
}

static char dir[] = "/tmp/mvpmu-elf-XXXXXX";

static const char *write_file(const char *name, const void *data, size_t size)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

/* The hand-made image prints "hi" and writes 21 to the exit port: status
 * (21 << 1) | 1 = 43 (issue 11, QEMU's isa-debug-exit), bare metal and in
 * both kinds of VM. */
static void test_foreign_image_runs(void **state)
{
	struct image im;
	const char *path;
	char err[512];
	struct hw_elf *e;

	(void)state;
	image_init(&im);
	path = write_file("hi.elf", im.buf, im.size);
	assert_int_equal(hw_elf_open(path, HW_X86_MEM_DEFAULT, &e, err, sizeof(err)), 0);
	assert_int_equal(e->entry, CODE_ADDR);
	assert_int_equal(e->nr_seg, 1);
	assert_int_equal(e->nr_sym, 0);
	hw_elf_free(e);
	for (size_t m = 0; m < RC_NR_MODELS; m += 3)
		for (size_t v = 0; v < 3; v++) {
			const struct mv_image_result *r;

			rc_scenario_path(path, rc_models[m], rc_vpmus[v]);
			r = rc_go();
			assert_true(r->exited);
			assert_int_equal(r->exit_status, (21 << 1) | 1);
			assert_string_equal(rc_text, "hi\n");
			/* 8 instructions before the exit OUT, which never
			 * completes: the machine ends inside it (docs/realcode.md). */
			assert_int_equal(r->insns_kernel, 8);
			assert_int_equal(r->insns_user, 0);
			assert_int_equal(r->branches_kernel, 0);
			assert_int_equal(r->nr_sym, 1);	/* all of it "[unknown]" */
			assert_string_equal(r->sym[0].name, "[unknown]");
		}
}

struct bad {
	const char *what;	/* the test's name for it */
	void (*make)(struct image *im);
	const char *says;	/* in the error line */
};

static void mk_elf32(struct image *im) { im->eh->e_ident[EI_CLASS] = ELFCLASS32; }
static void mk_class(struct image *im) { im->eh->e_ident[EI_CLASS] = 7; }
static void mk_big(struct image *im) { im->eh->e_ident[EI_DATA] = ELFDATA2MSB; }
static void mk_i386(struct image *im) { im->eh->e_machine = EM_386; }
static void mk_dyn(struct image *im) { im->eh->e_type = ET_DYN; }
static void mk_rel(struct image *im) { im->eh->e_type = ET_REL; }
static void mk_truncated(struct image *im) { im->size = 20; }
static void mk_file_gt_mem(struct image *im) { im->ph[0].p_memsz = 4; }
static void mk_past_eof(struct image *im) { im->ph[0].p_filesz = 0x10000; im->ph[0].p_memsz = 0x10000; }
static void mk_outside(struct image *im)
{
	im->ph[0].p_paddr = im->ph[0].p_vaddr = HW_X86_MEM_DEFAULT - 0x800;
	im->eh->e_entry = im->ph[0].p_paddr;
}
static void mk_vaddr(struct image *im) { im->ph[0].p_vaddr = 0xFFFFFFFF80200000ULL; }
static void mk_overlap(struct image *im)
{
	im->ph[1] = im->ph[0];
	im->ph[1].p_paddr = im->ph[1].p_vaddr = CODE_ADDR + 0x800;
	im->ph[1].p_flags = PF_R | PF_W;
}
static void mk_entry(struct image *im) { im->eh->e_entry = CODE_ADDR + 0x2000; }
static void mk_entry_nx(struct image *im) { im->ph[0].p_flags = PF_R | PF_W; }
static void mk_interp(struct image *im)
{
	im->ph[1] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = CODE_OFF, .p_filesz = 4 };
}
static void mk_noload(struct image *im) { im->ph[0].p_type = PT_NOTE; }
static void mk_phoff(struct image *im) { im->eh->e_phoff = 0x100000; }

static const struct bad bads[] = {
	{ "ELF32", mk_elf32, "a 32-bit ELF file" },
	{ "class", mk_class, "unknown ELF class 7" },
	{ "big endian", mk_big, "not a little-endian ELF file" },
	{ "i386", mk_i386, "not an x86-64 ELF file (machine 3)" },
	{ "ET_DYN", mk_dyn, "position-independent" },
	{ "ET_REL", mk_rel, "not an executable (ELF type 1)" },
	{ "truncated", mk_truncated, "truncated ELF header" },
	{ "filesz > memsz", mk_file_gt_mem, "segment 0: file size 0x12 above its memory size 0x4" },
	{ "past EOF", mk_past_eof, "segment 0: runs past the end of the file" },
	{ "outside RAM", mk_outside, "is outside guest RAM" },
	{ "vaddr", mk_vaddr, "differs from physical 0x200000" },
	{ "overlap", mk_overlap, "segment 1 overlaps an earlier segment at 0x200000" },
	{ "entry", mk_entry, "entry point 0x202000 is not in an executable segment" },
	{ "entry not exec", mk_entry_nx, "entry point 0x200000 is not in an executable segment" },
	{ "PT_INTERP", mk_interp, "dynamically linked" },
	{ "no PT_LOAD", mk_noload, "no loadable segment" },
	{ "program headers", mk_phoff, "program header" },
};

static void expect_refused(const char *path, const char *says)
{
	char err[512];
	struct hw_elf *e = (struct hw_elf *)1;

	assert_int_equal(hw_elf_open(path, HW_X86_MEM_DEFAULT, &e, err, sizeof(err)), 2);
	assert_null(e);
	if (strncmp(err, path, strlen(path)) || err[strlen(path)] != ':' || !strstr(err, says))
		fail_msg("%s: expected \"%s: ...%s...\", got \"%s\"", path, path, says, err);
	assert_null(strchr(err, '\n'));
}

static void test_bad_images(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct image im;
		char name[64];

		image_init(&im);
		bads[i].make(&im);
		snprintf(name, sizeof(name), "bad%zu.elf", i);
		expect_refused(write_file(name, im.buf, im.size), bads[i].says);
	}
}

static void test_not_elf(void **state)
{
	char path[300];

	(void)state;
	expect_refused(write_file("text", "hello, world\n", 13), "not an ELF file");
	expect_refused(write_file("empty", "", 0), "not an ELF file");
	snprintf(path, sizeof(path), "%s/missing.elf", dir);
	expect_refused(path, "cannot open the image");
	expect_refused(dir, "not a regular file");
}

/* A segment may end exactly at the top of RAM, not one byte past it;
 * --mem moves the top. */
static void test_ram_edge_fits(void **state)
{
	struct image im;
	const char *path;
	char err[512];
	struct hw_elf *e;

	(void)state;
	image_init(&im);
	im.ph[0].p_paddr = im.ph[0].p_vaddr = (4ULL << 20) - 0x1000;
	im.eh->e_entry = im.ph[0].p_paddr;
	path = write_file("edge.elf", im.buf, im.size);
	assert_int_equal(hw_elf_open(path, 4ULL << 20, &e, err, sizeof(err)), 0);
	hw_elf_free(e);
	assert_int_equal(hw_elf_open(path, 256ULL << 20, &e, err, sizeof(err)), 0);
	hw_elf_free(e);
	assert_int_equal(hw_elf_open(path, (4ULL << 20) - 0x1000, &e, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "is outside guest RAM (0x3ff000 bytes; see --mem)"));
}

/* The symbols of a guest image built by make: sorted, disjoint, and
 * found by address. */
static void test_symbols(void **state)
{
	char path[512], err[512];
	struct hw_elf *e;
	bool body = false;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/rc_count.elf", MV_GUEST_DIR);
	assert_int_equal(hw_elf_open(path, HW_X86_MEM_DEFAULT, &e, err, sizeof(err)), 0);
	assert_true(e->nr_sym > 10);
	for (size_t i = 0; i < e->nr_sym; i++) {
		assert_true(e->sym[i].start < e->sym[i].end);
		if (i)
			assert_true(e->sym[i - 1].end <= e->sym[i].start);
		assert_int_equal(hw_elf_symbol_at(e, e->sym[i].start), (long)i);
		assert_int_equal(hw_elf_symbol_at(e, e->sym[i].end - 1), (long)i);
		assert_true(strncmp(e->sym[i].name, ".L", 2));
		if (!strcmp(e->sym[i].name, "body"))
			body = true;
	}
	assert_true(body);
	assert_int_equal(hw_elf_symbol_at(e, 0), -1);
	hw_elf_free(e);
}

/* ---- multiboot kernels ---- */

/* A raw multiboot kernel with the header's address fields (flags bit 16,
 * the "a.out kludge"): loaded at load_addr 1 MiB, entered at entry_addr
 * in 32-bit protected mode with EAX = 0x2BADB002 and EBX = the
 * information's address 0x9500 (docs/multiboot.md).  Its 32-bit code:
 *   cmp eax, 0x2BADB002; jne bad; cmp ebx, 0x9500; jne bad;
 *   mov al, 'k'; jmp out; bad: mov al, 'f';
 *   out: mov dx, 0x3F8; out dx, al; mov al, 42; out 0xF4, al; hlt */
#define MB_HDR_FLAGS 0x00010000u
static const unsigned char mb_code[] = {
	0x3D, 0x02, 0xB0, 0xAD, 0x2B, 0x75, 0x0C, 0x81, 0xFB, 0x00, 0x95, 0x00, 0x00,
	0x75, 0x04, 0xB0, 'k', 0xEB, 0x02, 0xB0, 'f', 0x66, 0xBA, 0xF8, 0x03, 0xEE,
	0xB0, 0x2A, 0xE6, 0xF4, 0xF4,
};

static size_t mb_raw(unsigned char *b, uint32_t flags, uint32_t entry)
{
	uint32_t h[8] = {
		0x1BADB002u, flags, 0u - (0x1BADB002u + flags),
		0x100000, 0x100000, 0, 0, entry,	/* header, load, load_end (file), bss_end, entry */
	};

	memset(b, 0, 64);
	memcpy(b, h, sizeof(h));
	memcpy(b + 32, mb_code, sizeof(mb_code));
	return 32 + sizeof(mb_code);
}

static void test_multiboot_aout(void **state)
{
	unsigned char b[64];
	const struct mv_image_result *im;
	const char *path;

	(void)state;
	path = write_file("mb-aout.bin", b, mb_raw(b, MB_HDR_FLAGS, 0x100020));
	for (size_t v = 0; v < 3; v++) {
		rc_scenario_path(path, v == 1 ? "zen4" : "skylake", rc_vpmus[v]);
		im = rc_go();
		assert_true(im->multiboot);
		assert_true(im->exited);
		assert_int_equal(im->exit_status, (42 << 1) | 1);
		assert_string_equal(rc_text, "k");
	}
}

/* What a multiboot loader must refuse, each as one line naming the file:
 * a video mode (there is no display), undefined requirement bits, an
 * entry outside what the header loads, a raw file without address
 * fields, and an ELF32 file with no multiboot header. */
static void test_multiboot_refused(void **state)
{
	unsigned char b[64];
	struct image im;

	(void)state;
	expect_refused(write_file("mb-video.bin", b, mb_raw(b, MB_HDR_FLAGS | 4, 0x100020)),
		       "video mode");
	expect_refused(write_file("mb-req.bin", b, mb_raw(b, MB_HDR_FLAGS | 0x100, 0x100020)),
		       "requirement flags");
	expect_refused(write_file("mb-entry.bin", b, mb_raw(b, MB_HDR_FLAGS, 0x200000)),
		       "entry_addr 0x200000 is not in what it loads");
	expect_refused(write_file("mb-noaddr.bin", b, mb_raw(b, 0, 0x100020)),
		       "not an ELF file and has no load addresses");
	image_init(&im);
	im.eh->e_ident[EI_CLASS] = ELFCLASS32;
	im.eh->e_machine = EM_386;
	expect_refused(write_file("elf32-nomb.elf", im.buf, im.size),
		       "without a multiboot header");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_foreign_image_runs),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_ram_edge_fits),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_multiboot_aout),
		cmocka_unit_test(test_multiboot_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
