/* guest_image: the program kind `image`: an x86-64 ELF executable run as
 * real machine code (src/hw/hw_x86) on the guest's environment (bare
 * metal or a vCPU), with its serial port and isa-debug-exit, stepped a
 * slice at a time by the runner.  Private to src/guest (guest_prog.c
 * dispatches to it). */
#ifndef GUEST_IMAGE_H
#define GUEST_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "mvpmu/guest.h"
#include "mvpmu/scenario.h"
#include "sim/sim.h"

struct guest_image;

/* Instructions per step: the slice of the runner's scheduler. */
#define GUEST_IMAGE_STEP_INSNS 1000000ULL

/* Loads cfg->image into a new CPU for guest `g` (truth context `ctx`).
 * NULL with "IMAGE: why" in `err` (exit status 2 material). */
struct guest_image *guest_image_new(const struct mv_program *cfg, struct mv_guest *g,
				    struct sim *sim, char *err, size_t errlen);
/* Runs one slice; false once the guest has ended. */
bool guest_image_step(struct guest_image *im);
/* The run's budget ends the guest where it is. */
void guest_image_stop(struct guest_image *im);
/* Appends the image's result (serial, exit, truth per symbol) as `who`. */
void guest_image_report(struct guest_image *im, const char *who, struct mv_result *res);
void guest_image_free(struct guest_image *im);

#endif
