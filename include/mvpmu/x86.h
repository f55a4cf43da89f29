/* mvpmu public API: x86 PMU architectural constants (MSR numbers, bit
 * layouts, CPUID leaves) shared by guest programs, the host kernel and the
 * hypervisor.  Sources: Intel SDM vol. 3 ch. 20-21 and vol. 4, AMD APM
 * vol. 2 ch. 13 and the Linux headers msr-index.h / perf_event.h (facts
 * only; see docs/facts.md for the figures checked). */
#ifndef MVPMU_X86_H
#define MVPMU_X86_H

#include <stdint.h>

#define X86_BIT(n) (1ULL << (n))
#define X86_MASK(w) ((w) >= 64 ? ~0ULL : (1ULL << (w)) - 1)

/* Faults returned by the _safe accessors. */
#define X86_OK 0
#define X86_GP 13
#define X86_UD 6

/* Intel architectural PMU */
#define MSR_IA32_PMC0			0xC1
#define MSR_IA32_PERFEVTSEL0		0x186
#define MSR_IA32_DEBUGCTL		0x1D9
/* IA32_MISC_ENABLE (SDM vol. 4 table 2-2): bit 7 performance monitoring
 * available, bits 11/12 BTS/PEBS unavailable, all three read-only. */
#define MSR_IA32_MISC_ENABLE		0x1A0
#define MISC_ENABLE_EMON		(1ULL << 7)
#define MISC_ENABLE_BTS_UNAVAIL		(1ULL << 11)
#define MISC_ENABLE_PEBS_UNAVAIL	(1ULL << 12)
#define MSR_IA32_FIXED_CTR0		0x309
#define MSR_IA32_PERF_CAPABILITIES	0x345
#define MSR_IA32_FIXED_CTR_CTRL		0x38D
#define MSR_IA32_PERF_GLOBAL_STATUS	0x38E
#define MSR_IA32_PERF_GLOBAL_CTRL	0x38F
#define MSR_IA32_PERF_GLOBAL_OVF_CTRL	0x390
#define MSR_IA32_PERF_GLOBAL_STATUS_SET	0x391
#define MSR_IA32_PERF_GLOBAL_INUSE	0x392
#define MSR_IA32_A_PMC0			0x4C1
#define MSR_IA32_PERF_METRICS		0x329

#define EVTSEL_EVENT		0xFFULL
#define EVTSEL_UMASK		0xFF00ULL
#define EVTSEL_USR		X86_BIT(16)
#define EVTSEL_OS		X86_BIT(17)
#define EVTSEL_EDGE		X86_BIT(18)
#define EVTSEL_PC		X86_BIT(19)
#define EVTSEL_INT		X86_BIT(20)
#define EVTSEL_ANY		X86_BIT(21)
#define EVTSEL_EN		X86_BIT(22)
#define EVTSEL_INV		X86_BIT(23)
#define EVTSEL_CMASK		0xFF000000ULL
#define AMD_EVTSEL_EVENT_HI	0xF00000000ULL	/* event[11:8] at 35:32 */
#define AMD_EVTSEL_GUESTONLY	X86_BIT(40)
#define AMD_EVTSEL_HOSTONLY	X86_BIT(41)

/* FIXED_CTR_CTRL: 4 bits per fixed counter */
#define FIXED_CTRL_OS		0x1ULL
#define FIXED_CTRL_USR		0x2ULL
#define FIXED_CTRL_ANY		0x4ULL
#define FIXED_CTRL_PMI		0x8ULL
#define FIXED_CTRL_FIELD(i, bits) ((uint64_t)(bits) << (4 * (i)))

#define GLOBAL_FIXED_SHIFT	32
#define GLOBAL_PERF_METRICS	X86_BIT(48)
#define GLOBAL_STATUS_TRACE_TOPA X86_BIT(55)
#define GLOBAL_STATUS_LBR_FRZ	X86_BIT(58)
#define GLOBAL_STATUS_CTR_FRZ	X86_BIT(59)
#define GLOBAL_STATUS_ASCI	X86_BIT(60)
#define GLOBAL_STATUS_OVF_UNCORE X86_BIT(61)
#define GLOBAL_STATUS_BUFFER	X86_BIT(62)
#define GLOBAL_STATUS_COND_CHGD	X86_BIT(63)

#define PERF_CAP_LBR_FMT	0x3FULL
#define PERF_CAP_PEBS_FMT	0xF00ULL
#define PERF_CAP_FW_WRITE	X86_BIT(13)
#define PERF_CAP_PERF_METRICS	X86_BIT(15)

#define DEBUGCTL_FREEZE_PERFMON_ON_PMI X86_BIT(12)

/* RDPMC index encodings (ECX) */
#define RDPMC_FIXED		X86_BIT(30)
#define RDPMC_METRICS		X86_BIT(29)
#define RDPMC_FAST		X86_BIT(31)

/* AMD */
#define MSR_K7_EVNTSEL0			0xC0010000
#define MSR_K7_PERFCTR0			0xC0010004
#define MSR_F15H_PERF_CTL0		0xC0010200	/* CTL i at +2i, CTR i at +2i+1 */
#define MSR_F15H_PERF_CTR0		0xC0010201
#define MSR_AMD_GLOBAL_STATUS		0xC0000300
#define MSR_AMD_GLOBAL_CTL		0xC0000301
#define MSR_AMD_GLOBAL_STATUS_CLR	0xC0000302
#define MSR_AMD_GLOBAL_STATUS_SET	0xC0000303
#define MSR_EFER			0xC0000080
#define EFER_SVME			X86_BIT(12)

/* Local APIC in x2APIC mode */
#define MSR_IA32_APIC_BASE	0x1B
#define APIC_BASE_DEFAULT	0xFEE00000ULL
#define APIC_BASE_BSP		X86_BIT(8)
#define APIC_BASE_EXTD		X86_BIT(10)	/* x2APIC mode */
#define APIC_BASE_EN		X86_BIT(11)
#define MSR_X2APIC_ID		0x802
#define MSR_X2APIC_VERSION	0x803
#define MSR_X2APIC_TPR		0x808
#define MSR_X2APIC_SVR		0x80F
#define APIC_VERSION		0x00050014u	/* version 0x14, 6 LVT entries */
#define APIC_SVR_RESET		0x1FFu	/* as firmware leaves it: enabled, spurious 0xFF */
#define MSR_X2APIC_EOI		0x80B
#define MSR_X2APIC_LVTPC	0x834
#define APIC_LVT_VECTOR		0xFFu
#define APIC_LVT_DM_MASK	(7u << 8)
#define APIC_DM_FIXED		(0u << 8)
#define APIC_DM_NMI		(4u << 8)
#define APIC_DM_EXTINT		(7u << 8)
#define APIC_LVT_MASKED		(1u << 16)
#define APIC_LVTPC_RESET	0x00010000u
#define NMI_VECTOR		2
#define PERF_GUEST_MEDIATED_PMI_VECTOR 0xF5	/* Linux 7.0 */

/* CPUID */
#define CPUID_1_ECX_PDCM		X86_BIT(15)
#define CPUID_1_ECX_X2APIC		X86_BIT(21)
#define CPUID_1_EDX_TSC			X86_BIT(4)
#define CPUID_1_EDX_MSR			X86_BIT(5)
#define CPUID_1_EDX_APIC		X86_BIT(9)
#define CPUID_80000001_ECX_PERFCTR_CORE	X86_BIT(23)
#define CPUID_80000022_EAX_PERFMON_V2	X86_BIT(0)

#endif
