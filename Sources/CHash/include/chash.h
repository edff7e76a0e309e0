#ifndef GHOSTPORT_CHASH_H
#define GHOSTPORT_CHASH_H

#include <stdbool.h>
#include <stdint.h>

// SHA-1's compression function on the x86 SHA extensions (SHA-NI), which Swift cannot reach.
// Community ID hashes one block per flow record; the instructions do it several times faster
// than the portable Swift rounds in Flow/SHA1.swift, which remain for every other CPU.

/// True when this CPU has the SHA extensions (and SSSE3 and SSE4.1, which the code also uses).
bool gp_sha1_has_hardware(void);

/// Folds one 64-byte block into `state` (the five words A..E, in host order). Call only when
/// gp_sha1_has_hardware() is true.
void gp_sha1_compress_hardware(uint32_t state[5], const uint8_t block[64]);

#endif
