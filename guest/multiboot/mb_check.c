/* mb_check: the project's multiboot test kernel (issue 12).  It boots in
 * 32-bit protected mode, enables long mode (boot.S), reads the multiboot
 * information, fw_cfg, CPUID and the PIC masks, maps memory near the top
 * of the address space (two virtual pages on one physical page, remaps
 * flushed with INVLPG and with a CR3 write, code run from a remapped page,
 * a page fault that maps its page), drives the local APIC through its
 * xAPIC page, takes PMIs through the LVTPC on a vector and as an NMI,
 * switches to x2APIC mode, uses KVM's forced-emulation prefix, prints
 * `key=value` lines and exits through isa-debug-exit.  Words of its
 * command line pick an ending instead (see mb_main).  tests/hw/
 * test_multiboot.c derives every expected value. */
#include "mb_lib.h"

static struct mb_pmu pmu;

/* ---- the multiboot information ---- */

static void boot_info(const struct mb_info *mi, uint32_t magic)
{
	const char *cmd = (const char *)(uintptr_t)mi->cmdline;
	const struct mb_mmap *e;
	uint64_t ram_end = 0;
	unsigned n = 0;

	mb_printf("magic=0x%x flags=0x%x mem_lower=%u mem_upper=%u\n", magic, mi->flags,
		  mi->mem_lower, mi->mem_upper);
	for (uintptr_t p = mi->mmap_addr; p < (uintptr_t)mi->mmap_addr + mi->mmap_length;
	     p += e->size + 4) {
		e = (const struct mb_mmap *)p;
		if (e->type == 1 && e->base + e->length > ram_end)
			ram_end = e->base + e->length;
		n++;
	}
	mb_printf("mmap_entries=%u ram_end=0x%lx\n", n, ram_end);
	/* The first word is the kernel's path (QEMU's convention). */
	while (*cmd && *cmd != ' ')
		cmd++;
	if (*cmd == ' ')
		cmd++;
	mb_printf("cmdline=[%s]\n", cmd);
	mb_printf("loader=%s\n", (const char *)(uintptr_t)mi->boot_loader_name);
	mb_printf("modules=%u\n", mi->mods_count);
	for (uint32_t i = 0; i < mi->mods_count; i++) {
		const struct mb_module *m = (const struct mb_module *)(uintptr_t)mi->mods_addr + i;
		const char *d = (const char *)(uintptr_t)m->start;

		mb_printf("module%u size=%u aligned=%u first=%c cmdline=[%s]\n", i, m->end - m->start,
			  (m->start & 0xFFF) == 0, m->end > m->start ? d[0] : '-',
			  (const char *)(uintptr_t)m->cmdline);
	}
	mb_printf("span=%u\n", mb_span_insns);
}

/* ---- the platform ---- */

static void platform(void)
{
	uint64_t v;
	uint32_t r[4];
	char sig[5] = { 0 };
	uint64_t s = mb_fwcfg(0, 4);

	for (int i = 0; i < 4; i++)
		sig[i] = (char)(s >> (8 * i));
	mb_printf("fwcfg_sig=%s fwcfg_ram=0x%lx fwcfg_cpus=%u fwcfg_unknown=0x%lx\n", sig,
		  mb_fwcfg(3, 8), (unsigned)mb_fwcfg(5, 2), mb_fwcfg(0x7777, 8));
	mb_outb(0x21, 0xFF);
	mb_outb(0xA1, 0xFF);
	mb_printf("pic_masks=0x%x,0x%x\n", mb_inb(0x21), mb_inb(0xA1));
	mb_cpuid(1, 0, r);
	mb_printf("cpuid1_eax=0x%x apic=%u x2apic=%u hypervisor=%u\n", r[0], (r[3] >> 9) & 1,
		  (r[2] >> 21) & 1, r[2] >> 31);
	mb_cpuid(0x40000000, 0, r);
	mb_printf("hv_leaf=0x%x,0x%x,0x%x,0x%x\n", r[0], r[1], r[2], r[3]);
	/* An MSR nothing implements: #GP (13) both ways. */
	mb_printf("msr_unknown_rd=%d msr_unknown_wr=%d\n", mb_rdmsr_safe(0x4B564D99, &v),
		  mb_wrmsr_safe(0x4B564D99, 1));
}

/* ---- paging ---- */

static uint64_t page_with(uint64_t v)
{
	uint64_t p = mb_alloc_page();

	*(volatile uint64_t *)(uintptr_t)p = v;
	return p;
}

static volatile uint64_t *top(unsigned i)
{
	return (volatile uint64_t *)(uintptr_t)MB_TOP_VA(i);
}

/* A function of two instructions (mov $v, %eax; ret) at physical p. */
static void put_code(uint64_t p, uint8_t v)
{
	volatile uint8_t *c = (volatile uint8_t *)(uintptr_t)p;

	c[0] = 0xB8;
	c[1] = v;
	c[2] = c[3] = c[4] = 0;
	c[5] = 0xC3;
}

static unsigned call_top(unsigned i)
{
	unsigned (*fn)(void) = (unsigned (*)(void))(uintptr_t)MB_TOP_VA(i);

	return fn();
}

static uint64_t pf_page;
static volatile unsigned pf_count;
static volatile uint64_t pf_cr2, pf_err;

/* Maps the faulting page and returns: a not-present page made present
 * needs no flush (SDM vol. 3 4.10.4.3). */
static void on_pf(struct mb_regs *r)
{
	pf_count++;
	pf_cr2 = mb_read_cr2();
	pf_err = r->error;
	mb_map_top((unsigned)((pf_cr2 - MB_TOP_VA(0)) >> 12), pf_page, true);
}

static void paging(void)
{
	uint64_t p0 = page_with(0), p1 = page_with(0), p2 = page_with(0xAAAA), p3 = page_with(0xBBBB);
	uint64_t p4 = mb_alloc_page(), p5 = mb_alloc_page(), sum = 0;
	unsigned a, b, c;

	/* The very top page of the address space. */
	mb_map_top(511, p0, false);
	*top(511) = 0x1122334455667788ULL;
	mb_printf("top_va=0x%lx top_phys=0x%lx\n", (uint64_t)MB_TOP_VA(511),
		  *(volatile uint64_t *)(uintptr_t)p0);
	/* Two virtual pages, one physical page. */
	mb_map_top(10, p1, false);
	mb_map_top(11, p1, false);
	*top(10) = 0x5151;
	a = (unsigned)*top(11);
	*top(11) = 0x7272;
	mb_printf("two_vas=0x%x,0x%x\n", a, (unsigned)*top(10));
	/* Remapped and flushed with INVLPG, then with a CR3 write. */
	mb_map_top(20, p2, false);
	a = (unsigned)*top(20);
	mb_map_top(20, p3, false);
	b = (unsigned)*top(20);
	mb_map_top(20, p2, true);
	mb_write_cr3(mb_read_cr3());
	c = (unsigned)*top(20);
	mb_printf("remap=0x%x,0x%x,0x%x\n", a, b, c);
	/* Code at a virtual page: run, remapped to other code, rewritten. */
	put_code(p4, 1);
	put_code(p5, 2);
	mb_map_top(30, p4, false);
	a = call_top(30);
	mb_map_top(30, p5, false);
	b = call_top(30);
	put_code(p5, 3);		/* through the identity mapping */
	c = call_top(30);
	mb_printf("code=%u,%u,%u\n", a, b, c);
	/* A page fault whose handler maps the page. */
	pf_page = page_with(0x77);
	mb_set_handler(14, on_pf);
	a = (unsigned)*top(40);
	mb_set_handler(14, 0);
	mb_printf("pf_count=%u pf_cr2=0x%lx pf_err=%lu pf_value=0x%x\n", pf_count, pf_cr2,
		  pf_err, a);
	/* 64 consecutive pages on 64 consecutive physical pages. */
	for (unsigned i = 0; i < 64; i++) {
		uint64_t p = page_with(i + 1);

		mb_map_top(100 + i, p, false);
	}
	for (unsigned i = 0; i < 64; i++)
		sum += *top(100 + i);
	mb_printf("run_sum=%lu\n", sum);
}

/* ---- the local APIC and PMIs ---- */

static volatile unsigned pmis, nmis;
static volatile uint32_t lvtpc_in_handler;

static void on_pmi(struct mb_regs *r)
{
	(void)r;
	pmis++;
	lvtpc_in_handler = mb_xapic_read(0x340);
	mb_xapic_write(0xB0, 0);	/* EOI */
}

static void on_nmi(struct mb_regs *r)
{
	(void)r;
	nmis++;
}

/* Counter 0 counts instructions with INT from -n: a PMI after n. */
static void arm(uint64_t n)
{
	mb_wrmsr(pmu.sel0, 0);
	if (pmu.global)
		mb_wrmsr(pmu.global_ovf, 1);
	mb_wrmsr(pmu.ctr0, (0 - n) & ((1ULL << pmu.gp_width) - 1));
	if (pmu.global)
		mb_wrmsr(pmu.global_ctrl, 1);
	mb_wrmsr(pmu.sel0, MB_EVTSEL_EN | MB_EVTSEL_OS | MB_EVTSEL_INT | pmu.ev_insns);
}

static void spin(void)
{
	for (volatile unsigned i = 0; i < 2000; i++)
		;
}

static void apic(void)
{
	uint64_t v;

	mb_printf("apic_base=0x%lx apic_id=0x%x apic_version=0x%x\n", mb_rdmsr(0x1B),
		  mb_xapic_read(0x20), mb_xapic_read(0x30));
	mb_xapic_write(0xF0, 0x1FF);
	mb_printf("svr=0x%x x2apic_msr_in_xapic=%d\n", mb_xapic_read(0xF0), mb_rdmsr_safe(0x834, &v));
	/* A PMI on vector 0x40 through the xAPIC's LVTPC. */
	mb_set_handler(0x40, on_pmi);
	mb_xapic_write(0x340, 0x40);
	mb_printf("lvtpc=0x%x\n", mb_xapic_read(0x340));
	arm(1000);
	mb_sti();
	spin();
	mb_cli();
	mb_wrmsr(pmu.sel0, 0);
	mb_printf("pmis=%u lvtpc_masked=%u lvtpc_after=0x%x\n", pmis, (lvtpc_in_handler >> 16) & 1,
		  mb_xapic_read(0x340));
	/* x2APIC: the same LVTPC through its MSR, the page reads all ones. */
	mb_xapic_write(0x340, 0x40);
	mb_printf("x2apic_enabled=%u\n", mb_x2apic_enable());
	mb_printf("apic_base=0x%lx lvtpc_msr=0x%lx mmio_after=0x%x\n", mb_rdmsr(0x1B),
		  mb_rdmsr(0x834), mb_xapic_read(0x340));
	/* A PMI as an NMI. */
	mb_set_handler(2, on_nmi);
	mb_wrmsr(0x834, 0x400);
	arm(500);
	spin();
	mb_wrmsr(pmu.sel0, 0);
	if (pmu.global)
		mb_wrmsr(pmu.global_ovf, 1);
	mb_printf("nmis=%u\n", nmis);
}

/* ---- forced emulation ---- */

static void fep(void)
{
	uint32_t i0, i1, b0, b1;

	if (!mb_fep_available()) {
		mb_printf("fep=unavailable\n");
		return;
	}
	mb_wrmsr(pmu.sel0, 0);
	mb_wrmsr(pmu.sel0 + pmu.step, 0);
	if (pmu.global)
		mb_wrmsr(pmu.global_ctrl, 3);
	mb_wrmsr(pmu.sel0, MB_EVTSEL_EN | MB_EVTSEL_OS | pmu.ev_insns);
	mb_wrmsr(pmu.sel0 + pmu.step, MB_EVTSEL_EN | MB_EVTSEL_OS | pmu.ev_branches);
	/* RDPMC samples before it retires, in hardware and in KVM: the
	 * deltas are 13 instructions (the first RDPMC and the 12 after it)
	 * and 3 branches, the three emulated JNEs (not taken). */
	__asm__ volatile("xor %%ecx, %%ecx\n\t"
			 "rdpmc\n\t"
			 "mov %%eax, %%r8d\n\t"
			 "mov $1, %%ecx\n\t"
			 "rdpmc\n\t"
			 "mov %%eax, %%r9d\n\t"
			 "xor %%eax, %%eax\n\t"
			 MB_KVM_FEP "jne 1f\n\t"
			 MB_KVM_FEP "jne 1f\n\t"
			 MB_KVM_FEP "jne 1f\n"
			 "1:\tmov $1, %%ecx\n\t"
			 "rdpmc\n\t"
			 "mov %%eax, %%r10d\n\t"
			 "xor %%ecx, %%ecx\n\t"
			 "rdpmc\n\t"
			 "mov %%r8d, %0\n\t"
			 "mov %%eax, %1\n\t"
			 "mov %%r9d, %2\n\t"
			 "mov %%r10d, %3"
			 : "=m"(i0), "=m"(i1), "=m"(b0), "=m"(b1)
			 : : "rax", "rcx", "rdx", "r8", "r9", "r10", "cc", "memory");
	mb_wrmsr(pmu.sel0, 0);
	mb_wrmsr(pmu.sel0 + pmu.step, 0);
	mb_printf("fep=emulated fep_insns=%u fep_branches=%u\n", i1 - i0, b1 - b0);
}

/* ---- endings a command line word asks for ---- */

/* A low virtual page, itself guest RAM, mapped to another physical page:
 * what the paging bridge cannot serve (FACTS.md s.9). */
static void unsupported(void)
{
	uint64_t p = page_with(0x99);

	mb_pd[1] = (p & ~0x1FFFFFULL) | 0x83;	/* 0x200000 as the 2 MiB page of p */
	mb_invlpg(0x200000);
	mb_printf("read=0x%lx\n", *(volatile uint64_t *)(uintptr_t)(0x200000 + (p & 0x1FFFFF)));
}

int mb_main(const struct mb_info *info, uint32_t magic)
{
	const char *cmd = (const char *)(uintptr_t)info->cmdline;

	boot_info(info, magic);
	if (mb_has_word(cmd, "halt-cli")) {
		mb_puts("halting with interrupts off\n");
		__asm__ volatile("cli; hlt");
	}
	if (mb_has_word(cmd, "spin")) {
		mb_puts("spinning forever\n");
		__asm__ volatile("1: jmp 1b");
	}
	if (mb_has_word(cmd, "spin-lsr")) {
		mb_puts("polling the line status register forever\n");
		for (;;)
			(void)mb_inb(0x3FD);
	}
	mb_pmu_init(&pmu);
	mb_printf("pmu intel=%u version=%u gp=%u global=%u\n", pmu.intel, pmu.version, pmu.nr_gp,
		  pmu.global);
	platform();
	if (mb_has_word(cmd, "unsupported"))
		unsupported();
	paging();
	apic();
	fep();
	mb_puts("done\n");
	return 0x21;
}
