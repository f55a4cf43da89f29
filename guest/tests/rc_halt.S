/* rc_halt: HLT with interrupts disabled ends the guest ("halted"). */
	.text
	.globl main
	.type main, @function
main:
	cli
	hlt
	ud2
	.size main, . - main

	.section .note.GNU-stack, "", @progbits
