#ifndef GHOSTPORT_CPREFETCH_H
#define GHOSTPORT_CPREFETCH_H

// Swift has no prefetch instruction: the flow table asks for a line it will read soon.
// A hint only (it never faults, whatever the address), inlined into the Swift caller.

/// Fetches the cache line holding `address` for a coming write.
static inline __attribute__((always_inline)) void gp_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
