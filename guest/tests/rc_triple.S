/* rc_triple: a fault with no IDT loaded: #UD cannot be delivered (#GP),
 * nor the double fault that follows: a triple fault ends the guest.  It
 * bypasses the runtime (its own _start). */
	.section .text.entry, "ax"
	.globl _start
_start:
	lidt idtr(%rip)
	ud2
	.data
idtr:	.word 0
	.quad 0

	.section .note.GNU-stack, "", @progbits
