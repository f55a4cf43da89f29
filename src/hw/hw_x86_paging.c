/* hw_x86_paging: guest paging on Debian's Unicorn 2.0.1, which walks the
 * guest's page tables (present and permission checks, #PF with CR2) but
 * then uses the virtual address as the physical one (FACTS.md s.9).  A
 * page mapped away from its own address is served by an alias: the host
 * memory of its physical page mapped in Unicorn's physical space at the
 * virtual address, made when Unicorn finds nothing there (the unmapped
 * hook), as a run of contiguous pages so that QEMU's region limit (~4096)
 * is not reached.  A virtual page that is not present gets a throwaway
 * page, so that Unicorn's own walk raises the #PF.  Aliases whose
 * translation changed go on MOV to CR0/CR3/CR4, INVLPG, INVPCID and EFER
 * writes.  What the method cannot serve, a virtual address that is itself
 * guest RAM (or the APIC page) mapped elsewhere, ends the guest with
 * "unsupported mapping" rather than a silent wrong access. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hw_x86_internal.h"

#define PAGE		((uint64_t)4096)
#define PTE_P		0x1ULL
#define PTE_RW		0x2ULL
#define PTE_US		0x4ULL
#define PTE_PS		0x80ULL
#define PTE_ADDR	0x000FFFFFFFFFF000ULL
#define CR0_WP		0x10000ULL
#define CR0_PG		0x80000000ULL
#define CR4_PSE		0x10ULL
#define CR4_PAE		0x20ULL
#define EFER_LMA	(1ULL << 10)
/* Aliases kept before they all go and fault back in (QEMU 5.0 aborts
 * past about 4096 memory sections; RAM, the boot area and the APIC page
 * use a few). */
#define ALIAS_MAX	2048
/* An alias run stays inside the 2 MiB-aligned block of its first page. */
#define RUN_SPAN	(2ULL << 20)

enum pg_mode { PG_OFF, PG_32, PG_PAE, PG_LONG };

/* The result of a walk: where va goes, and the region (aligned, `span`
 * bytes) that the entry ending the walk covers, present or not. */
struct walk {
	uint64_t pa, span;
	bool rw, us;
};

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static enum pg_mode pg_mode(struct hw_x86 *x)
{
	if (!(x86_reg(x, UC_X86_REG_CR0) & CR0_PG))
		return PG_OFF;
	/* A MOV to CR0 not yet synced may have changed LMA. */
	if (x->pg.pending)
		x->lma = (x86_state_efer(x) & EFER_LMA) != 0;
	if (x->lma)
		return PG_LONG;
	return (x86_reg(x, UC_X86_REG_CR4) & CR4_PAE) ? PG_PAE : PG_32;
}

/* One entry of `size` bytes at physical `at`; false when not in memory. */
static bool entry(struct hw_x86 *x, uint64_t at, unsigned size, uint64_t *e)
{
	const uint8_t *p = x86_phys(x, at, size);

	if (!p)
		return false;
	*e = size == 8 ? rd64(p) : rd32(p);
	return true;
}

/* SDM vol. 3 4.3 (32-bit), 4.4 (PAE), 4.5 (4-level).  0 present, 1 not
 * present, -1 a table outside memory, -2 a non-canonical address. */
static int walk(struct hw_x86 *x, enum pg_mode m, uint64_t va, struct walk *w)
{
	uint64_t cr3 = x86_reg(x, UC_X86_REG_CR3), e = 0, table;
	int level, top;
	unsigned esz = 8, bits = 9;

	w->rw = w->us = true;
	switch (m) {
	case PG_OFF:
		w->pa = va;
		w->span = 1ULL << 32;
		return 0;
	case PG_32:
		esz = 4;
		bits = 10;
		top = 1;
		table = cr3 & 0xFFFFF000ULL;
		va &= 0xFFFFFFFFULL;
		break;
	case PG_PAE:
		/* The four PDPTEs (no R/W or U/S bits), then two levels. */
		va &= 0xFFFFFFFFULL;
		if (!entry(x, (cr3 & 0xFFFFFFE0ULL) + 8 * (va >> 30), 8, &e))
			return -1;
		w->span = 1ULL << 30;
		if (!(e & PTE_P))
			return 1;
		table = e & PTE_ADDR;
		top = 1;
		break;
	default:
		if ((uint64_t)((int64_t)(va << 16) >> 16) != va)
			return -2;
		table = cr3 & PTE_ADDR;
		top = 3;
		break;
	}
	for (level = top; level >= 0; level--) {
		unsigned shift = 12 + bits * (unsigned)level;
		uint64_t idx = (va >> shift) & ((1ULL << bits) - 1);

		if (!entry(x, table + esz * idx, esz, &e))
			return -1;
		w->span = 1ULL << shift;
		if (!(e & PTE_P))
			return 1;
		w->rw = w->rw && (e & PTE_RW);
		w->us = w->us && (e & PTE_US);
		if (level == 0)
			break;
		/* Large pages: 1 GiB and 2 MiB (PAE, long), 4 MiB (32-bit, CR4.PSE). */
		if ((e & PTE_PS) && (m != PG_32 || (x86_reg(x, UC_X86_REG_CR4) & CR4_PSE)) &&
		    (m != PG_LONG || level <= 2))
			break;
		table = e & (esz == 8 ? PTE_ADDR : 0xFFFFF000ULL);
	}
	{
		uint64_t base = (esz == 8 ? e & PTE_ADDR : e & 0xFFFFF000ULL) & ~(w->span - 1);

		w->pa = base | (va & (w->span - 1));
	}
	return 0;
}

int x86_translate(struct hw_x86 *x, uint64_t va, bool write, bool user,
		  uint64_t *pa, uint32_t *pf_err)
{
	struct walk w;
	int r;

	*pf_err = (write ? 2u : 0u) | (user ? 4u : 0u);
	r = walk(x, pg_mode(x), va, &w);
	if (r)
		return r < 0 ? -1 : r;
	*pf_err |= 1;	/* present: a protection fault from here on */
	if ((user && !w.us) ||
	    (write && !w.rw && (user || (x86_reg(x, UC_X86_REG_CR0) & CR0_WP))))
		return 1;
	*pa = w.pa;
	return 0;
}

/* ---- what is in Unicorn's physical space ---- */

bool x86_phys_resource(const struct hw_x86 *x, uint64_t pa)
{
	return pa < x->cfg.mem ||
	       (x->boot_mapped && pa >= HW_X86_BOOT_BASE && pa - HW_X86_BOOT_BASE < HW_X86_BOOT_SIZE) ||
	       (x->apic_mapped && pa >= APIC_BASE_DEFAULT && pa - APIC_BASE_DEFAULT < PAGE);
}

/* Host memory of guest-physical pa (RAM, boot area), NULL otherwise. */
static uint8_t *host_of(struct hw_x86 *x, uint64_t pa)
{
	return x86_phys(x, pa & ~(PAGE - 1), PAGE);
}

static bool is_apic(const struct hw_x86 *x, uint64_t pa)
{
	return x->apic_mapped && (pa & ~(PAGE - 1)) == APIC_BASE_DEFAULT;
}

/* ---- the aliases ---- */

int x86_paging_init(struct hw_x86 *x)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	x->pg.junk = p;
	return 0;
}

void x86_paging_free(struct hw_x86 *x)
{
	free(x->pg.al);
	if (x->pg.junk)
		munmap(x->pg.junk, PAGE);
}

/* The alias holding va, or where one would go (index). */
static size_t find(const struct hw_x86 *x, uint64_t va, bool *hit)
{
	size_t lo = 0, hi = x->pg.nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->pg.al[mid].va + x->pg.al[mid].len <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	*hit = lo < x->pg.nr && x->pg.al[lo].va <= va;
	return lo;
}

static void drop(struct hw_x86 *x, size_t i)
{
	const struct x86_alias *a = &x->pg.al[i];

	/* The translations Unicorn made from it go with it; a block decoded
	 * from it again finds its bytes changed (x86_block_get) and is run
	 * anew, so a stale translation never runs. */
	uc_mem_unmap(x->uc, a->va, a->len);
	x->pg.nr_drops++;
	memmove(&x->pg.al[i], &x->pg.al[i + 1], (x->pg.nr - i - 1) * sizeof(*a));
	x->pg.nr--;
}

static void drop_all(struct hw_x86 *x)
{
	while (x->pg.nr)
		drop(x, x->pg.nr - 1);
	x->pg.nr_flushes++;
}

static uint64_t apic_read(uc_engine *uc, uint64_t off, unsigned size, void *arg);
static void apic_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *arg);

static bool add(struct hw_x86 *x, const struct x86_alias *a)
{
	uc_err e;
	size_t i;
	bool hit;

	if (x->pg.nr >= ALIAS_MAX)
		drop_all(x);
	if (x->pg.nr == x->pg.cap) {
		size_t n = x->pg.cap ? 2 * x->pg.cap : 64;
		struct x86_alias *p = realloc(x->pg.al, n * sizeof(*p));

		if (!p)
			return false;
		x->pg.al = p;
		x->pg.cap = n;
	}
	if (a->kind == XA_APIC)
		e = uc_mmio_map(x->uc, a->va, a->len, apic_read, x, apic_write, x);
	else
		e = uc_mem_map_ptr(x->uc, a->va, a->len, UC_PROT_ALL,
				   a->kind == XA_JUNK ? x->pg.junk : host_of(x, a->pa));
	if (e != UC_ERR_OK)
		return false;
	i = find(x, a->va, &hit);
	memmove(&x->pg.al[i + 1], &x->pg.al[i], (x->pg.nr - i) * sizeof(*a));
	x->pg.al[i] = *a;
	x->pg.nr++;
	x->pg.nr_maps++;
	return true;
}

/* Whether Unicorn has something at va: guest memory at its own address
 * or an alias. */
static bool mapped(const struct hw_x86 *x, uint64_t va)
{
	bool hit;

	if (x86_phys_resource(x, va))
		return true;
	find(x, va, &hit);
	return hit;
}

static void unsupported(struct hw_x86 *x, uint64_t va, uint64_t pa)
{
	x86_end(x, HW_X86_UNSUPPORTED, "unsupported mapping: virtual 0x%" PRIx64 " maps to physical 0x%"
		PRIx64 ", but 0x%" PRIx64 " is itself %s; the CPU emulator uses a virtual address "
		"that is guest memory as its own physical address (FACTS.md s.9), so such a page "
		"must be mapped to itself", va, pa, va & ~(PAGE - 1),
		va < x->cfg.mem ? "guest RAM" : is_apic(x, va) ? "the local APIC page" : "the boot area");
}

/* The run of pages from va (page aligned) that an alias can cover: same
 * kind, physically contiguous, nothing of Unicorn's in the way, within
 * the 2 MiB block of va. */
static uint64_t run_length(struct hw_x86 *x, enum pg_mode m, uint64_t va, uint64_t pa, bool present)
{
	uint64_t end = (va | (RUN_SPAN - 1)) + 1, len = PAGE;

	if (!present || is_apic(x, pa))
		return PAGE;
	while (va + len < end && va + len != 0) {
		struct walk w;

		if (mapped(x, va + len) || walk(x, m, va + len, &w) != 0 || w.pa != pa + len ||
		    !host_of(x, w.pa))
			break;
		len += PAGE;
	}
	return len;
}

int x86_paging_unmapped(struct hw_x86 *x, bool fetch, uint64_t addr)
{
	enum pg_mode m = pg_mode(x);
	uint64_t va = addr & ~(PAGE - 1);
	struct x86_alias a = { .va = va };
	struct walk w;
	int r;

	if (m == PG_OFF)
		return 0;	/* a physical address where nothing is: the caller says so */
	r = walk(x, m, va, &w);
	if (r == -1) {
		x86_end(x, HW_X86_ERROR, "%s virtual 0x%" PRIx64 ": its page tables are outside "
			"guest memory", fetch ? "instruction fetch from" : "access to", addr);
		return 0;
	}
	/* Not present, or not canonical: Unicorn raises the #PF (#GP) itself
	 * once something is there. */
	if (r != 0) {
		a.kind = XA_JUNK;
		a.len = PAGE;
	} else if (is_apic(x, w.pa)) {
		a.kind = XA_APIC;
		a.len = PAGE;
	} else if (host_of(x, w.pa)) {
		a.kind = XA_RAM;
		a.pa = w.pa & ~(PAGE - 1);
		a.len = run_length(x, m, va, a.pa, true);
	} else {
		x86_end(x, HW_X86_ERROR, "%s virtual 0x%" PRIx64 ", which maps to physical 0x%" PRIx64
			" where nothing is (RAM ends at 0x%" PRIx64 ")",
			fetch ? "instruction fetch from" : "access to", addr, w.pa, x->cfg.mem);
		return 0;
	}
	if (!add(x, &a)) {
		x86_end(x, HW_X86_ERROR, "cannot map virtual 0x%" PRIx64 " in the CPU emulator", va);
		return 0;
	}
	return fetch ? 2 : 1;
}

/* Whether an alias still says what the page tables say. */
static bool valid(struct hw_x86 *x, enum pg_mode m, const struct x86_alias *a)
{
	for (uint64_t off = 0; off < a->len; off += PAGE) {
		struct walk w;
		int r = walk(x, m, a->va + off, &w);

		if (a->kind == XA_JUNK) {
			if (r == 0 || r == -1)
				return false;
			continue;
		}
		if (r != 0)
			return false;
		if (a->kind == XA_APIC ? !is_apic(x, w.pa) : (w.pa & ~(PAGE - 1)) != a->pa + off)
			return false;
	}
	return true;
}

/* Every present page whose virtual address is one of Unicorn's physical
 * resources must map to itself; [lo, hi) is scanned entry by entry. */
static void check_range(struct hw_x86 *x, enum pg_mode m, uint64_t lo, uint64_t hi)
{
	uint64_t va = lo;

	while (va < hi && x->end == HW_X86_RUNNING) {
		struct walk w;
		int r = walk(x, m, va, &w);
		uint64_t next = (va | (w.span - 1)) + 1;

		if (r < 0)
			return;
		if (r == 0 && w.pa != va) {
			unsupported(x, va, w.pa);
			return;
		}
		if (next <= va)
			return;
		va = next;
	}
}

void x86_paging_check(struct hw_x86 *x)
{
	enum pg_mode m = pg_mode(x);

	x->pg.nr_scans++;
	if (m == PG_OFF)
		return;
	check_range(x, m, 0, x->cfg.mem);
	if (x->boot_mapped)
		check_range(x, m, HW_X86_BOOT_BASE, HW_X86_BOOT_BASE + HW_X86_BOOT_SIZE);
	if (x->apic_mapped)
		check_range(x, m, APIC_BASE_DEFAULT, APIC_BASE_DEFAULT + PAGE);
	/* Throwaway pages that are present now: the translation appeared
	 * without a fault (not-present entries are never cached). */
	for (size_t i = x->pg.nr; i-- > 0;)
		if (x->pg.al[i].kind == XA_JUNK && !valid(x, m, &x->pg.al[i]))
			drop(x, i);
}

void x86_paging_sync(struct hw_x86 *x)
{
	enum pg_mode m;

	x->lma = (x86_state_efer(x) & EFER_LMA) != 0;
	x->pg.pending = false;
	m = pg_mode(x);
	for (size_t i = x->pg.nr; i-- > 0;)
		if (m == PG_OFF || !valid(x, m, &x->pg.al[i]))
			drop(x, i);
	x86_paging_check(x);
}

void x86_paging_fault(struct hw_x86 *x, uint64_t va)
{
	bool hit;
	size_t i = find(x, va, &hit);

	if (hit && x->pg.al[i].kind == XA_JUNK)
		drop(x, i);
}

/* ---- the local APIC's page (at its own address or an alias) ---- */

static uint64_t apic_read(uc_engine *uc, uint64_t off, unsigned size, void *arg)
{
	uint64_t v = 0;

	(void)uc;
	x86_apic_access(arg, off, size, false, &v);
	return v;
}

static void apic_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *arg)
{
	(void)uc;
	x86_apic_access(arg, off, size, true, &v);
}

uc_err x86_apic_map(struct hw_x86 *x)
{
	return uc_mmio_map(x->uc, APIC_BASE_DEFAULT, PAGE, apic_read, x, apic_write, x);
}
