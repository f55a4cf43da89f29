/* mb_check: smoke */
#include "mb_lib.h"

int mb_main(const struct mb_info *info, uint32_t magic)
{
	mb_printf("magic=0x%x flags=0x%x span=%u\n", magic, info->flags, mb_span_insns);
	return mb_summary();
}
