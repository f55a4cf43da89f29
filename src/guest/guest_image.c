/* guest_image: an ELF64 image on the real-code CPU, its devices, and its
 * results: serial output, exit status, and the truth per ELF symbol. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_image.h"
#include "hw/hw_elf.h"
#include "hw/hw_platform.h"
#include "hw/hw_x86.h"

struct guest_image {
	struct mv_guest *g;
	struct hw_platform plat;
	struct hw_elf *elf;
	struct hw_x86 *cpu;
	char path[MV_PATH_MAX];
	char label[MV_NAME_MAX];	/* truth label: the file's base name */
	char cmdline[MV_CMDLINE_MAX];
	char modules[MV_MAX_MODULES][MV_PATH_MAX];
};

struct guest_image *guest_image_new(const struct mv_program *cfg, struct mv_guest *g,
				    struct sim *sim, char *err, size_t errlen)
{
	struct guest_image *im = calloc(1, sizeof(*im));
	struct hw_x86_config xc;
	const char *base;

	if (!im) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	im->g = g;
	memcpy(im->path, cfg->image, sizeof(im->path));
	im->path[sizeof(im->path) - 1] = '\0';
	base = strrchr(cfg->image, '/');
	base = base ? base + 1 : cfg->image;
	snprintf(im->label, sizeof(im->label), "%.*s", (int)sizeof(im->label) - 1, base);
	hw_platform_init(&im->plat, sim);
	hw_platform_set_ram(&im->plat, cfg->mem ? cfg->mem : HW_X86_MEM_DEFAULT);
	xc = (struct hw_x86_config){
		.sim = sim, .mem = cfg->mem ? cfg->mem : HW_X86_MEM_DEFAULT,
		.insn_limit = cfg->insn_limit, .label = im->label,
		.mboot = { .kernel = im->path, .cmdline = im->cmdline,
			   .nr_modules = cfg->nr_modules < HW_MBOOT_MAX_MODULES ?
					 cfg->nr_modules : HW_MBOOT_MAX_MODULES },
	};
	memcpy(im->cmdline, cfg->cmdline, sizeof(im->cmdline));
	im->cmdline[sizeof(im->cmdline) - 1] = '\0';
	for (unsigned i = 0; i < xc.mboot.nr_modules; i++) {
		memcpy(im->modules[i], cfg->modules[i], sizeof(im->modules[i]));
		im->modules[i][sizeof(im->modules[i]) - 1] = '\0';
		xc.mboot.modules[i] = im->modules[i];
	}
	if (hw_elf_open(cfg->image, xc.mem, &im->elf, err, errlen)) {
		free(im);
		return NULL;
	}
	if (!im->elf->multiboot && (cfg->cmdline_set || cfg->nr_modules)) {
		snprintf(err, errlen, "%.400s: a command line and modules are for multiboot "
			 "kernels, and this is an ELF64 image", cfg->image);
		guest_image_free(im);
		return NULL;
	}
	g->platform = &im->plat;
	im->cpu = hw_x86_new(g, &xc, err, errlen);
	if (!im->cpu || hw_x86_load(im->cpu, im->elf, err, errlen)) {
		guest_image_free(im);
		return NULL;
	}
	return im;
}

bool guest_image_step(struct guest_image *im)
{
	return hw_x86_step(im->cpu, GUEST_IMAGE_STEP_INSNS);
}

void guest_image_stop(struct guest_image *im)
{
	hw_x86_stop(im->cpu);
}

static uint64_t sym_total(const struct mv_symbol_result *s)
{
	return s->insns_user + s->insns_kernel;
}

/* Most instructions first; equal counts by name (qsort is not stable). */
static int sym_cmp(const void *a, const void *b)
{
	const struct mv_symbol_result *x = a, *y = b;
	uint64_t tx = sym_total(x), ty = sym_total(y);

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void symbols(struct guest_image *im, struct mv_image_result *r)
{
	size_t nr;
	const struct hw_x86_symtruth *t = hw_x86_symbols(im->cpu, &nr);
	struct mv_symbol_result *all = calloc(nr + 1, sizeof(*all));
	size_t n = 0;

	if (!all)
		return;
	for (size_t i = 0; i <= nr; i++) {
		struct mv_symbol_result *s = &all[n];

		if (!t[i].insns[0] && !t[i].insns[1])
			continue;
		snprintf(s->name, sizeof(s->name), "%.*s", (int)sizeof(s->name) - 1,
			 i < nr ? im->elf->sym[i].name : "[unknown]");
		s->insns_user = t[i].insns[0];
		s->insns_kernel = t[i].insns[1];
		s->branches_user = t[i].branches[0];
		s->branches_kernel = t[i].branches[1];
		n++;
	}
	qsort(all, n, sizeof(*all), sym_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i < MV_MAX_SYMBOLS) {
			r->sym[r->nr_sym++] = all[i];
			continue;
		}
		r->other.insns_user += all[i].insns_user;
		r->other.insns_kernel += all[i].insns_kernel;
		r->other.branches_user += all[i].branches_user;
		r->other.branches_kernel += all[i].branches_kernel;
		r->nr_other++;
	}
	if (r->nr_other)
		snprintf(r->other.name, sizeof(r->other.name), "[%u others]", r->nr_other);
	free(all);
}

void guest_image_report(struct guest_image *im, const char *who, struct mv_result *res)
{
	struct mv_image_result *r;
	const char *why;
	enum hw_x86_end end;
	uint64_t insns[2], br[2];

	if (res->nr_images >= MV_MAX_IMAGES)
		return;
	r = &res->images[res->nr_images++];
	memset(r, 0, sizeof(*r));
	snprintf(r->who, sizeof(r->who), "%.*s", (int)sizeof(r->who) - 1, who);
	memcpy(r->image, im->path, sizeof(r->image));
	r->multiboot = im->elf->multiboot;
	if (r->multiboot)
		snprintf(r->cmdline, sizeof(r->cmdline), "%s %s", im->path, im->cmdline);
	end = hw_x86_end(im->cpu, &why);
	snprintf(r->exit, sizeof(r->exit), "%s", hw_x86_end_name(end));
	snprintf(r->message, sizeof(r->message), "%.*s", (int)sizeof(r->message) - 1, why);
	r->exited = end == HW_X86_EXITED;
	r->exit_status = im->plat.exit_status;
	r->serial_len = im->plat.serial_len < sizeof(r->serial) ? im->plat.serial_len : sizeof(r->serial);
	memcpy(r->serial, im->plat.serial, r->serial_len);
	r->serial_truncated = im->plat.serial_truncated || r->serial_len < im->plat.serial_len;
	hw_x86_retired(im->cpu, insns, br);
	r->insns_user = insns[0];
	r->insns_kernel = insns[1];
	r->branches_user = br[0];
	r->branches_kernel = br[1];
	symbols(im, r);
}

void guest_image_free(struct guest_image *im)
{
	if (!im)
		return;
	if (im->g && im->g->platform == &im->plat)
		im->g->platform = NULL;
	hw_x86_free(im->cpu);
	hw_elf_free(im->elf);
	free(im);
}
