/* rc_runaway: never ends; the image's instruction limit stops it. */
	.text
	.globl main
	.type main, @function
main:
1:	inc %rax
	jmp 1b
	.size main, . - main

	.section .note.GNU-stack, "", @progbits
