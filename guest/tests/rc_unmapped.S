/* rc_unmapped: a load from physical memory that does not exist (above
 * RAM) ends the guest with the address in the report. */
	.text
	.globl main
	.type main, @function
main:
	mov $0x40000000, %rax
	mov (%rax), %rbx
	ret
	.size main, . - main

	.section .note.GNU-stack, "", @progbits
