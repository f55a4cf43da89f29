/* rc_smc: code the guest rewrites runs as rewritten, and is counted and
 * intercepted as rewritten: patched() returns 0x1234, then, once its
 * two-byte NOP has become CPUID (leaf 0), the vendor's first four
 * letters; it is 7 instructions either way (host test). */
#include "mvpmu-guest.h"

__asm__(".text\n"
	".globl patched\n.type patched, @function\n"
	"patched:\n\t"
	"push %rbx\n\t"
	"xor %eax, %eax\n\t"
	"xor %ecx, %ecx\n\t"
	"mov $0x1234, %ebx\n"
	".globl patch_site\npatch_site:\n\t"
	".byte 0x66, 0x90\n\t"		/* xchg %ax,%ax: becomes 0F A2, cpuid */
	"mov %ebx, %eax\n\t"
	"pop %rbx\n\t"
	"ret\n"
	".size patched, . - patched\n");

extern uint32_t patched(void);
extern volatile uint8_t patch_site[];

int main(void)
{
	uint32_t r[4], before, after;

	before = patched();
	patch_site[0] = 0x0F;
	patch_site[1] = 0xA2;
	after = patched();
	mvg_cpuid(0, 0, r);
	mvg_printf("before=%#x after_is_vendor=%d\n", before, after == r[1]);
	return 0;
}
