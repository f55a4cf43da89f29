/* pmu_check: an image that uses nothing of mvpmu's guest runtime, only the
 * conventions of docs/realcode.md (entered in long mode at CPL0, serial
 * at 0x3F8, exit port 0xF4), linked by gcc's default static layout.  It
 * sets up its own stack, GDT and IDT (no TSS: it never changes privilege),
 * finds the vendor with CPUID, then:
 *   loop=      PERFEVTSEL0 counts instructions retired (OS|USR|EN) over
 *              "mov $N, %ebx; 1: dec %ebx; jnz 1b; xor %ecx, %ecx", read
 *              with RDPMC: 2N + 2 on bare metal (the enabling WRMSR is not
 *              counted, RDPMC samples before it retires).
 *   gp=        WRMSR of PERFEVTSEL0 with reserved bit 63: 1 if it took #GP.
 *   sel=       PERFEVTSEL0 read back after that write.
 *   pmis=      the counter starts at -1000 with INT set; the overflow PMI
 *              (LVTPC = NMI) arrives through the IDT's vector 2.
 *   pmi_ebx=   %ebx (the loop counter, from 2000 down) when the NMI came.
 *   lvtpc=     LVTPC read in the NMI handler (Intel sets the mask bit).
 * It exits with the value 0 (status 1) when it saw one PMI, else 1. */
	.set N, 1000
	.set EVT_INSNS, 0x4300C0	/* event 0xC0, USR, OS, EN */
	.set EVT_INT, 1 << 20

	.text
	.globl _start
_start:
	lea stack_top(%rip), %rsp
	lgdt gdtr(%rip)
	pushq $0x08
	lea 1f(%rip), %rax
	pushq %rax
	lretq
1:	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	/* IDT: every vector to fatal, 2 to nmi, 13 to gp */
	xor %esi, %esi
2:	lea fatal(%rip), %rax
	cmp $2, %esi
	jne 3f
	lea nmi(%rip), %rax
3:	cmp $13, %esi
	jne 4f
	lea gp(%rip), %rax
4:	call set_gate
	inc %esi
	cmp $256, %esi
	jne 2b
	lidt idtr(%rip)

	xor %eax, %eax
	cpuid
	cmp $0x756E6547, %ebx		/* "Genu" */
	jne 5f
	movl $0x186, sel_msr(%rip)	/* IA32_PERFEVTSEL0 */
	movl $0xC1, ctr_msr(%rip)	/* IA32_PMC0 */
	movb $1, intel(%rip)
	jmp 6f
5:	movl $0xC0010000, sel_msr(%rip)	/* AMD PERF_CTL0 (legacy) */
	movl $0xC0010004, ctr_msr(%rip)	/* PERF_CTR0 */
6:
	/* loop= */
	mov ctr_msr(%rip), %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	mov sel_msr(%rip), %ecx
	mov $EVT_INSNS, %eax
	xor %edx, %edx
	wrmsr
	mov $N, %ebx
7:	dec %ebx
	jnz 7b
	xor %ecx, %ecx
	rdpmc
	mov %eax, %r12d
	mov sel_msr(%rip), %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	lea s_loop(%rip), %rdi
	call puts
	mov %r12, %rdi
	call putdec

	/* gp= sel= */
	mov sel_msr(%rip), %ecx
	mov $EVT_INSNS & ~(1 << 22), %eax
	mov $0x80000000, %edx
	wrmsr				/* the #GP handler skips it */
	mov sel_msr(%rip), %ecx
	rdmsr
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r12
	lea s_gp(%rip), %rdi
	call puts
	mov gps(%rip), %rdi
	call putdec
	lea s_sel(%rip), %rdi
	call puts
	mov %r12, %rdi
	call puthex

	/* pmis= pmi_ebx= lvtpc= */
	mov $0x834, %ecx		/* x2APIC LVTPC: NMI */
	mov $0x400, %eax
	xor %edx, %edx
	wrmsr
	mov ctr_msr(%rip), %ecx
	mov $-1000, %eax
	mov $0xFFFF, %edx
	wrmsr
	mov sel_msr(%rip), %ecx
	mov $EVT_INSNS | EVT_INT, %eax
	xor %edx, %edx
	wrmsr
	mov $2000, %ebx
8:	dec %ebx
	jnz 8b
	mov sel_msr(%rip), %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	lea s_pmis(%rip), %rdi
	call puts
	mov pmis(%rip), %rdi
	call putdec
	lea s_ebx(%rip), %rdi
	call puts
	mov pmi_ebx(%rip), %rdi
	call putdec
	lea s_lvt(%rip), %rdi
	call puts
	mov pmi_lvtpc(%rip), %rdi
	call puthex
	mov $10, %edi
	call putc

	xor %eax, %eax
	cmpq $1, pmis(%rip)
	je 9f
	mov $1, %eax
9:	out %al, $0xF4
	hlt

/* set_gate(%esi = vector, %rax = handler): 64-bit interrupt gate, CS 0x08 */
set_gate:
	lea idt(%rip), %rdi
	mov %esi, %ecx
	shl $4, %ecx
	add %rcx, %rdi
	mov %ax, (%rdi)
	movw $0x08, 2(%rdi)
	movw $0x8E00, 4(%rdi)
	mov %rax, %rdx
	shr $16, %rdx
	mov %dx, 6(%rdi)
	shr $16, %rdx
	mov %edx, 8(%rdi)
	movl $0, 12(%rdi)
	ret

/* #GP: count it and skip the 2-byte WRMSR/RDMSR that took it */
gp:	incq gps(%rip)
	addq $2, 8(%rsp)		/* past the error code: RIP */
	add $8, %rsp
	iretq

nmi:	push %rax
	push %rcx
	push %rdx
	incq pmis(%rip)
	mov %rbx, pmi_ebx(%rip)
	mov $0x834, %ecx
	rdmsr
	mov %rax, pmi_lvtpc(%rip)
	mov sel_msr(%rip), %ecx		/* stop the counter */
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	pop %rdx
	pop %rcx
	pop %rax
	iretq

fatal:	mov $0x7F, %al
	out %al, $0xF4
	hlt

/* putc(%dil): waits for THR empty (LSR bit 5) */
putc:	mov $0x3FD, %dx
1:	in %dx, %al
	test $0x20, %al
	jz 1b
	mov $0x3F8, %dx
	mov %dil, %al
	out %al, %dx
	ret

puts:	push %rbx
	mov %rdi, %rbx
1:	movzbl (%rbx), %edi
	test %edi, %edi
	jz 2f
	call putc
	inc %rbx
	jmp 1b
2:	pop %rbx
	ret

putdec:	push %rbx
	sub $32, %rsp
	lea 31(%rsp), %rbx
	movb $0, (%rbx)
	mov %rdi, %rax
1:	xor %edx, %edx
	mov $10, %ecx
	div %rcx
	add $'0', %dl
	dec %rbx
	mov %dl, (%rbx)
	test %rax, %rax
	jnz 1b
	mov %rbx, %rdi
	call puts
	add $32, %rsp
	pop %rbx
	ret

puthex:	push %rbx
	push %r12
	mov %rdi, %r12
	mov $'0', %edi
	call putc
	mov $'x', %edi
	call putc
	mov $60, %ebx
1:	mov %r12, %rax
	mov %ebx, %ecx
	shr %cl, %rax
	and $15, %eax
	jnz 2f
	test %ebx, %ebx
	jz 2f
	cmpb $0, started(%rip)
	je 4f
2:	movb $1, started(%rip)
	cmp $10, %eax
	jb 3f
	add $'a' - '0' - 10, %eax
3:	add $'0', %eax
	mov %eax, %edi
	call putc
4:	sub $4, %ebx
	jns 1b
	movb $0, started(%rip)
	pop %r12
	pop %rbx
	ret

	.section .rodata
s_loop:	.asciz "loop="
s_gp:	.asciz " gp="
s_sel:	.asciz " sel="
s_pmis:	.asciz "\npmis="
s_ebx:	.asciz " pmi_ebx="
s_lvt:	.asciz " lvtpc="
	.balign 8
gdt:	.quad 0
	.quad 0x00AF9A000000FFFF	/* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF	/* 0x10: data */
gdtr:	.word 3 * 8 - 1
	.quad gdt
	.balign 8
idtr:	.word 256 * 16 - 1
	.quad idt

	.data
sel_msr: .long 0
ctr_msr: .long 0
intel:	.byte 0
started: .byte 0
	.balign 8
gps:	.quad 0
pmis:	.quad 0
pmi_ebx: .quad 0
pmi_lvtpc: .quad 0

	.bss
	.balign 16
idt:	.skip 256 * 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
