/* sim_rng: the one seeded random number generator behind every choice the
 * model makes (splitmix64 seeding, xoshiro256** stream). */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
};

void sim_rng_seed(struct sim_rng *rng, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *rng);
/* Uniform in [0, n); n == 0 returns 0. */
uint64_t sim_rng_below(struct sim_rng *rng, uint64_t n);

#endif
