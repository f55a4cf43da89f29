/* mb_lib: the little runtime of the multiboot test kernels, in the style
 * of kvm-unit-tests' lib/x86 (serial console, report/summary lines,
 * isa-debug-exit, _safe MSR accessors, an IDT, page mapping, fw_cfg, the
 * local APIC in both modes).  Freestanding, self-contained: these kernels
 * stand in for test kernels written elsewhere, so they use nothing of
 * mvpmu's own guest runtime (guest/lib). */
#ifndef MB_LIB_H
#define MB_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mb_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

typedef void (*mb_handler)(struct mb_regs *r);

/* The multiboot information (Multiboot 0.6.96 3.3). */
struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4], mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name, apm_table;
};

struct mb_module {
	uint32_t start, end, cmdline, pad;
};

struct mb_mmap {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
} __attribute__((packed));

extern uint32_t mb_span_insns;
extern uint64_t mb_pt_top[512];		/* PTEs of the top 2 MiB */
extern uint64_t mb_pd[2048];		/* the low 4 GiB, 2 MiB pages */
#define MB_TOP_VA(i)	(0xFFFFFFFFFFE00000ULL + 4096ULL * (i))

/* The kernel's own main: the information and EAX at entry. */
int mb_main(const struct mb_info *info, uint32_t magic);

/* Console and results. */
void mb_putc(char c);
void mb_puts(const char *s);
int mb_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mb_snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void mb_report(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mb_report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "SUMMARY: N tests, M unexpected failures"; 0 when none failed. */
int mb_summary(void);
void mb_exit(int code) __attribute__((noreturn));
bool mb_streq(const char *a, const char *b);
bool mb_has_word(const char *s, const char *word);
size_t mb_strlen(const char *s);
void mb_memcpy(void *d, const void *s, size_t n);

/* Instructions. */
static inline void mb_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void mb_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void mb_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t mb_inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void mb_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t mb_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}
static inline void mb_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t mb_rdpmc(uint32_t ecx)
{
	uint32_t lo, hi;

	__asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(ecx));
	return lo | (uint64_t)hi << 32;
}
static inline void mb_sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void mb_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void mb_invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline uint64_t mb_read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline void mb_write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline uint64_t mb_read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* RDMSR/WRMSR that return 0 or the fault's vector (13 for #GP), as
 * kvm-unit-tests' rdmsr_safe. */
int mb_rdmsr_safe(uint32_t msr, uint64_t *v);
int mb_wrmsr_safe(uint32_t msr, uint64_t v);

/* The IDT: handlers per vector; an unexpected exception prints and exits
 * with 0x7E. */
void mb_set_handler(unsigned vector, mb_handler fn);
/* The vector the last mb_expect region faulted with (0: none); a fault in
 * such a region resumes at mb_resume. */
extern volatile unsigned mb_fault_vector;
extern volatile uint64_t mb_fault_cr2, mb_fault_error;

/* Paging: page i of the top 2 MiB (MB_TOP_VA(i)) to physical `pa`
 * (present, writable), or unmapped; with INVLPG unless `noflush`. */
void mb_map_top(unsigned i, uint64_t pa, bool noflush);
void mb_unmap_top(unsigned i);
/* A free physical page above the kernel (never reused). */
uint64_t mb_alloc_page(void);

/* fw_cfg (QEMU's, ports 0x510/0x511), as kvm-unit-tests reads it. */
uint64_t mb_fwcfg(uint16_t key, unsigned bytes);

/* The local APIC in xAPIC mode (MMIO at 0xFEE00000) and x2APIC mode. */
uint32_t mb_xapic_read(uint32_t off);
void mb_xapic_write(uint32_t off, uint32_t v);
bool mb_x2apic_enable(void);

/* The PMU as CPUID says (kvm-unit-tests' pmu_init, in short). */
struct mb_pmu {
	bool intel;
	unsigned version, nr_gp, gp_width, nr_fixed, fixed_width;
	bool global;		/* GLOBAL_CTRL/STATUS (Intel v2+, AMD PerfMonV2) */
	uint32_t sel0, ctr0, step;	/* selector/counter MSRs of GP counter i: + i*step */
	uint32_t global_ctrl, global_status, global_ovf;
	uint32_t ev_insns, ev_branches;	/* event selects (event and umask) */
};
void mb_pmu_init(struct mb_pmu *p);
/* Forced emulation (KVM_FEP) works: a prefixed NOP does not #UD. */
bool mb_fep_available(void);

#define MB_KVM_FEP ".byte 0x0f, 0x0b, 0x6b, 0x76, 0x6d\n\t"
#define MB_EVTSEL_USR	(1u << 16)
#define MB_EVTSEL_OS	(1u << 17)
#define MB_EVTSEL_INT	(1u << 20)
#define MB_EVTSEL_EN	(1u << 22)

#endif
