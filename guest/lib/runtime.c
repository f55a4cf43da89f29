/* runtime: the descriptor tables (GDT with kernel and user segments and a
 * TSS, an IDT of interrupt gates to the isr stubs), exception dispatch
 * with the accessors' fault table, the serial console and exit. */
#include "mvpmu-guest.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1B
#define SEL_UCODE 0x23
#define SEL_TSS	  0x28
#define VEC_USER_RETURN 0x81

struct tss64 {
	uint32_t rsvd0;
	uint64_t rsp[3];
	uint64_t rsvd1;
	uint64_t ist[7];
	uint64_t rsvd2;
	uint16_t rsvd3, iomap;
} __attribute__((packed));

struct gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, rsvd;
};

struct extable {
	uint64_t fault, fixup;
};

extern char mvg_isr_base[];
extern void mvg_user_resume(void);
extern uint64_t mvg_user_saved_rsp;
extern const struct extable __mvg_extable_start[], __mvg_extable_end[];

static uint64_t gdt[7];
static struct tss64 tss;
static struct gate idt[256];
static mvg_handler_fn handlers[256];
static uint8_t kstack[16384] __attribute__((aligned(16)));
static uint8_t nmistack[8192] __attribute__((aligned(16)));
static uint8_t dfstack[8192] __attribute__((aligned(16)));
volatile int mvg_fault_vec = -1;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* ---- serial (16550 at 0x3F8) ---- */

#define COM1 0x3F8

static void serial_init(void)
{
	outb(COM1 + 1, 0x00);	/* no interrupts */
	outb(COM1 + 3, 0x80);	/* DLAB */
	outb(COM1 + 0, 0x01);	/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);	/* 8N1 */
	outb(COM1 + 2, 0xC7);	/* FIFOs */
	outb(COM1 + 4, 0x0B);
}

void mvg_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

void mvg_puts(const char *s)
{
	while (*s)
		mvg_putc(*s++);
}

__attribute__((noreturn)) void mvg_exit(unsigned code)
{
	outb(0xF4, (uint8_t)code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- descriptor tables ---- */

static void set_gate(unsigned v, uint8_t dpl, uint8_t ist)
{
	uint64_t off = (uint64_t)(mvg_isr_base + 16 * v);

	idt[v] = (struct gate){
		.off0 = (uint16_t)off, .sel = SEL_KCODE, .ist = ist,
		.type = (uint8_t)(0x8E | (dpl << 5)),	/* present interrupt gate */
		.off1 = (uint16_t)(off >> 16), .off2 = (uint32_t)(off >> 32),
	};
}

static void load_tables(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;

	gdt[1] = 0x00AF9A000000FFFFULL;	/* kernel code, 64-bit */
	gdt[2] = 0x00CF92000000FFFFULL;	/* kernel data */
	gdt[3] = 0x00CFF2000000FFFFULL;	/* user data (DPL 3) */
	gdt[4] = 0x00AFFA000000FFFFULL;	/* user code, 64-bit (DPL 3) */
	gdt[5] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
		 (((base >> 24) & 0xFF) << 56);
	gdt[6] = base >> 32;
	tss.rsp[0] = (uint64_t)(kstack + sizeof(kstack));
	tss.ist[0] = (uint64_t)(nmistack + sizeof(nmistack));
	tss.ist[1] = (uint64_t)(dfstack + sizeof(dfstack));
	tss.iomap = sizeof(tss);	/* no bitmap: ports need IOPL */
	gdtr.limit = sizeof(gdt) - 1;
	gdtr.base = (uint64_t)gdt;
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%ss\n\t"
			 "movw %w2, %%fs\n\t"
			 "movw %w2, %%gs\n\t"
			 "ltr %w3"
			 :: "m"(gdtr), "i"(SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS) : "rax", "memory");
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, v == 3 || v == VEC_USER_RETURN ? 3 : 0,
			 v == MVG_NMI_VECTOR ? 1 : v == 8 ? 2 : 0);
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint64_t)idt;
	__asm__ volatile("lidt %0" :: "m"(idtr) : "memory");
}

void mvg_init(void);
void mvg_init(void)
{
	load_tables();
	serial_init();
}

/* ---- dispatch ---- */

static const char *const names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?", "#TS",
	"#NP", "#SS", "#GP", "#PF", "?", "#MF", "#AC", "#MC", "#XM",
};

static void user_return(struct mvg_regs *r)
{
	r->rip = (uint64_t)mvg_user_resume;
	r->cs = SEL_KCODE;
	r->ss = SEL_KDATA;
	r->rsp = mvg_user_saved_rsp;
}

void mvg_dispatch(struct mvg_regs *r);
void mvg_dispatch(struct mvg_regs *r)
{
	unsigned v = (unsigned)r->vector & 0xFF;
	uint64_t cr2;

	for (const struct extable *e = __mvg_extable_start; e < __mvg_extable_end; e++) {
		if (e->fault == r->rip && v < 32) {
			mvg_fault_vec = (int)v;
			r->rip = e->fixup;
			return;
		}
	}
	if (handlers[v]) {
		handlers[v](r);
		return;
	}
	if (v == VEC_USER_RETURN) {
		user_return(r);
		return;
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	mvg_printf("mvpmu-guest: unhandled %s (vector %u) at rip %#lx, error %#lx, cr2 %#lx\n",
		   v < 32 && names[v] ? names[v] : "interrupt", v, r->rip, r->error, cr2);
	mvg_exit(MVG_EXIT_UNHANDLED);
}

void mvg_set_handler(unsigned vector, mvg_handler_fn fn)
{
	if (vector < 256)
		handlers[vector] = fn;
}
