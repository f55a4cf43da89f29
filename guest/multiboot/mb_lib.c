/* mb_lib: runtime of the multiboot test kernels (mb_lib.h). */
#include "mb_lib.h"

extern char mb_stubs[];
extern char mb_end[];

/* ---- console: a 16550 at 0x3F8, polled as kvm-unit-tests' io.c does ---- */

#define COM1 0x3F8

static void serial_init(void)
{
	mb_outb(COM1 + 3, 0x80);	/* DLAB */
	mb_outb(COM1 + 0, 0x01);	/* 115200 baud */
	mb_outb(COM1 + 1, 0x00);
	mb_outb(COM1 + 3, 0x03);	/* 8N1 */
	mb_outb(COM1 + 2, 0x07);	/* FIFOs */
	mb_outb(COM1 + 4, 0x03);	/* DTR, RTS */
}

void mb_putc(char c)
{
	while (!(mb_inb(COM1 + 5) & 0x20))
		;
	mb_outb(COM1, (uint8_t)c);
}

void mb_puts(const char *s)
{
	while (*s)
		mb_putc(*s++);
}

size_t mb_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void mb_memcpy(void *d, const void *s, size_t n)
{
	uint8_t *a = d;
	const uint8_t *b = s;

	while (n--)
		*a++ = *b++;
}

bool mb_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* `word` is one of the space-separated words of `s`. */
bool mb_has_word(const char *s, const char *word)
{
	size_t n = mb_strlen(word);

	while (*s) {
		size_t k = 0;

		while (s[k] && s[k] != ' ')
			k++;
		if (k == n) {
			size_t i = 0;

			while (i < n && s[i] == word[i])
				i++;
			if (i == n)
				return true;
		}
		s += k;
		while (*s == ' ')
			s++;
	}
	return false;
}

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, char c)
{
	if (o->buf) {
		if (o->pos + 1 < o->len)
			o->buf[o->pos] = c;
	} else {
		mb_putc(c);
	}
	o->pos++;
}

/* %d %u %x %lx %llx %s %c %p, width and 0 flag: what the kernels use. */
static void format(struct out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		char tmp[24];
		unsigned width = 0, n = 0, lng = 0, base = 10;
		bool zero = false, neg = false;
		uint64_t u;

		if (*fmt != '%') {
			put(o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			zero = true, fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l')
			lng++, fmt++;
		switch (*fmt) {
		case 'd':
			if (lng) {
				int64_t s = va_arg(ap, int64_t);

				neg = s < 0;
				u = neg ? (uint64_t)-s : (uint64_t)s;
			} else {
				int s = va_arg(ap, int);

				neg = s < 0;
				u = neg ? (uint64_t)-(int64_t)s : (uint64_t)s;
			}
			break;
		case 'u': case 'x':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			base = *fmt == 'x' ? 16 : 10;
			break;
		case 'p':
			u = (uint64_t)(uintptr_t)va_arg(ap, void *);
			base = 16;
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (*s)
				put(o, *s++);
			continue;
		}
		case 'c':
			put(o, (char)va_arg(ap, int));
			continue;
		default:
			put(o, *fmt);
			continue;
		}
		do {
			tmp[n++] = "0123456789abcdef"[u % base];
			u /= base;
		} while (u);
		if (neg)
			tmp[n++] = '-';
		for (unsigned i = n; i < width; i++)
			put(o, zero ? '0' : ' ');
		while (n)
			put(o, tmp[--n]);
	}
}

int mb_printf(const char *fmt, ...)
{
	struct out o = { 0 };
	va_list ap;

	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	return (int)o.pos;
}

int mb_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	struct out o = { buf, len, 0 };
	va_list ap;

	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return (int)o.pos;
}

static unsigned tests, failures, skips;

void mb_report(bool ok, const char *fmt, ...)
{
	struct out o = { 0 };
	va_list ap;

	tests++;
	failures += !ok;
	mb_puts(ok ? "PASS: " : "FAIL: ");
	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	mb_putc('\n');
}

void mb_report_skip(const char *fmt, ...)
{
	struct out o = { 0 };
	va_list ap;

	skips++;
	mb_puts("SKIP: ");
	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	mb_putc('\n');
}

int mb_summary(void)
{
	mb_printf("SUMMARY: %u tests, %u unexpected failures, %u skipped\n", tests, failures, skips);
	return failures ? 1 : 0;
}

/* isa-debug-exit: QEMU exits with (code << 1) | 1. */
void mb_exit(int code)
{
	mb_outl(0xF4, (uint32_t)code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- the IDT ---- */

struct gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
};

static struct gate idt[256] __attribute__((aligned(16)));
static mb_handler handlers[256];
volatile unsigned mb_fault_vector;
volatile uint64_t mb_fault_cr2, mb_fault_error;
volatile uint64_t mb_resume;	/* where a fault in a _safe region resumes, 0: none */

void mb_set_handler(unsigned vector, mb_handler fn)
{
	handlers[vector & 255] = fn;
}

static void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)(uintptr_t)(mb_stubs + 16 * v);

		idt[v] = (struct gate){ .off_lo = (uint16_t)a, .sel = 0x08, .type = 0x8E,
					.off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32) };
	}
	__asm__ volatile("lidt %0" : : "m"(d));
}

void mb_dispatch(struct mb_regs *r);
void mb_dispatch(struct mb_regs *r)
{
	unsigned v = (unsigned)r->vector;

	if (handlers[v]) {
		handlers[v](r);
		return;
	}
	if (v < 32 && mb_resume) {
		mb_fault_vector = v;
		mb_fault_error = r->error;
		if (v == 14)
			mb_fault_cr2 = mb_read_cr2();
		r->rip = mb_resume;
		mb_resume = 0;
		return;
	}
	mb_printf("unexpected vector %u at rip 0x%lx error 0x%lx cr2 0x%lx\n", v, r->rip,
		  r->error, mb_read_cr2());
	mb_exit(0x7E);
}

int mb_rdmsr_safe(uint32_t msr, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;

	mb_fault_vector = 0;
	__asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, mb_resume(%%rip)\n\t"
			 "rdmsr\n"
			 "1:\tmovq $0, mb_resume(%%rip)"
			 : "+a"(lo), "+d"(hi) : "c"(msr) : "r11", "memory");
	*v = mb_fault_vector ? 0 : lo | (uint64_t)hi << 32;
	return (int)mb_fault_vector;
}

int mb_wrmsr_safe(uint32_t msr, uint64_t v)
{
	mb_fault_vector = 0;
	__asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, mb_resume(%%rip)\n\t"
			 "wrmsr\n"
			 "1:\tmovq $0, mb_resume(%%rip)"
			 : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "r11", "memory");
	return (int)mb_fault_vector;
}

/* ---- paging: the top 2 MiB, 4 KiB pages ---- */

static uint64_t next_page;

uint64_t mb_alloc_page(void)
{
	uint64_t p = next_page;

	next_page += 4096;
	for (unsigned i = 0; i < 4096 / 8; i++)
		((volatile uint64_t *)(uintptr_t)p)[i] = 0;
	return p;
}

void mb_map_top(unsigned i, uint64_t pa, bool noflush)
{
	mb_pt_top[i & 511] = pa | 0x3;	/* present, writable, supervisor */
	if (!noflush)
		mb_invlpg(MB_TOP_VA(i));
}

void mb_unmap_top(unsigned i)
{
	mb_pt_top[i & 511] = 0;
	mb_invlpg(MB_TOP_VA(i));
}

/* ---- fw_cfg: select a key (16-bit write to 0x510), read bytes at 0x511 ---- */

uint64_t mb_fwcfg(uint16_t key, unsigned bytes)
{
	uint64_t r = 0;

	mb_outw(0x510, key);
	for (unsigned i = 0; i < bytes && i < 8; i++)
		r |= (uint64_t)mb_inb(0x511) << (8 * i);
	return r;
}

/* ---- local APIC ---- */

#define XAPIC ((volatile uint32_t *)(uintptr_t)0xFEE00000ULL)

uint32_t mb_xapic_read(uint32_t off)
{
	return XAPIC[off / 4];
}

void mb_xapic_write(uint32_t off, uint32_t v)
{
	XAPIC[off / 4] = v;
}

/* kvm-unit-tests' enable_x2apic: when CPUID.1:ECX[21] says it exists. */
bool mb_x2apic_enable(void)
{
	uint32_t r[4];

	mb_cpuid(1, 0, r);
	if (!(r[2] & (1u << 21)))
		return false;
	mb_wrmsr(0x1B, mb_rdmsr(0x1B) | (1u << 10));
	return true;
}

/* ---- PMU discovery ---- */

void mb_pmu_init(struct mb_pmu *p)
{
	uint32_t r[4];

	*p = (struct mb_pmu){ 0 };
	mb_cpuid(0, 0, r);
	p->intel = r[1] == 0x756E6547;		/* "Genu" */
	if (p->intel) {
		mb_cpuid(0xA, 0, r);
		p->version = r[0] & 0xFF;
		p->nr_gp = (r[0] >> 8) & 0xFF;
		p->gp_width = (r[0] >> 16) & 0xFF;
		if (p->version > 1) {
			p->nr_fixed = r[3] & 0x1F;
			p->fixed_width = (r[3] >> 5) & 0xFF;
		}
		p->global = p->version > 1;
		p->sel0 = 0x186;
		p->ctr0 = 0xC1;
		p->step = 1;
		p->global_ctrl = 0x38F;
		p->global_status = 0x38E;
		p->global_ovf = 0x390;
		p->ev_insns = 0x00C0;
		p->ev_branches = 0x00C4;
		return;
	}
	mb_cpuid(0x80000000, 0, r);
	{
		uint32_t max = r[0];

		mb_cpuid(0x80000001, 0, r);
		if (r[2] & (1u << 23)) {	/* PerfCtrExtCore */
			p->nr_gp = 6;
			p->sel0 = 0xC0010200;
			p->ctr0 = 0xC0010201;
			p->step = 2;
		} else {
			p->nr_gp = 4;
			p->sel0 = 0xC0010000;
			p->ctr0 = 0xC0010004;
			p->step = 1;
		}
		if (max >= 0x80000022) {
			mb_cpuid(0x80000022, 0, r);
			if (r[0] & 1) {		/* PerfMonV2 */
				p->version = 2;
				p->nr_gp = r[1] & 0xF;
				p->global = true;
			}
		}
	}
	p->gp_width = 48;
	p->global_ctrl = 0xC0000301;
	p->global_status = 0xC0000300;
	p->global_ovf = 0xC0000302;
	p->ev_insns = 0x00C0;
	p->ev_branches = 0x00C2;
}

/* As kvm-unit-tests' is_fep_available: the prefix before a NOP #UDs
 * unless the hypervisor emulates what follows it. */
bool mb_fep_available(void)
{
	mb_fault_vector = 0;
	__asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, mb_resume(%%rip)\n\t"
			 MB_KVM_FEP "nop\n"
			 "1:\tmovq $0, mb_resume(%%rip)" ::: "r11", "memory");
	return mb_fault_vector != 6;
}

/* ---- entry from boot.S ---- */

int mb_main_c(uint32_t magic, uint32_t info);
int mb_main_c(uint32_t magic, uint32_t info)
{
	const struct mb_info *mi = (const struct mb_info *)(uintptr_t)info;
	uint64_t end = (uint64_t)(uintptr_t)mb_end + 0x10000;	/* and the loader's strings */

	serial_init();
	idt_init();
	if (magic == 0x2BADB002 && (mi->flags & (1u << 3)))
		for (uint32_t i = 0; i < mi->mods_count; i++) {
			const struct mb_module *m = (const struct mb_module *)(uintptr_t)mi->mods_addr + i;

			if (m->end > end)
				end = m->end;
		}
	next_page = (end + 0xFFF) & ~0xFFFULL;
	return mb_main((const struct mb_info *)(uintptr_t)info, magic);
}
