/* rc_loop: an exception whose handler faults at once: #UD's gate points
 * at a UD2, so every delivery is followed by another #UD and nothing ever
 * retires (a CPU would spin there; each frame goes 48 bytes further down
 * a stack with 128 MiB of RAM below it).  The engine ends the guest with
 * an `error` that says so.  It bypasses the runtime (its own _start). */
	.section .text.entry, "ax"
	.globl _start
_start:
	/* Gate 6: offset = handler, selector 0x08 (the boot GDT's 64-bit
	 * code), present, DPL 0, interrupt gate, no IST. */
	lea handler(%rip), %rax
	lea idt + 6 * 16(%rip), %rdi
	mov %ax, (%rdi)
	movw $0x08, 2(%rdi)
	movw $0x8E00, 4(%rdi)
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	lidt idtr(%rip)
	movabs $0x8000000, %rsp
	ud2
handler:
	ud2

	.data
	.balign 16
idt:	.fill 256 * 16, 1, 0
idtr:	.word 256 * 16 - 1
	.quad idt

	.section .note.GNU-stack, "", @progbits
