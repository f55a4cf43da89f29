/* isr: one entry per vector (16 bytes apart) that pushes the vector and,
 * where the CPU pushes none, a zero error code; then every register is
 * saved as struct mvg_regs and mvg_dispatch() runs. */
	.code64
	.text
	.balign 16
	.globl mvg_isr_base
mvg_isr_base:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	pushq $vec
	.else
	pushq $0
	pushq $vec
	.endif
	jmp mvg_isr_common
	.set vec, vec + 1
	.endr

	.type mvg_isr_common, @function
mvg_isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call mvg_dispatch
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq
	.size mvg_isr_common, . - mvg_isr_common

	.section .note.GNU-stack, "", @progbits
