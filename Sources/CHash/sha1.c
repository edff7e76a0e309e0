#include "chash.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

bool gp_sha1_has_hardware(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const bool ssse3 = (ecx & (1u << 9)) != 0, sse41 = (ecx & (1u << 19)) != 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool sha = (ebx & (1u << 29)) != 0;
    return ssse3 && sse41 && sha;
}

// Four rounds per step. The message words live in four registers, msg[g % 4] holding words
// 4g..4g+3 (most significant lane first); while step g runs, the schedule for steps g+1..g+3
// is advanced (sha1msg1, xor, sha1msg2). E alternates between two registers: sha1nexte adds
// the rotated A of four rounds ago to the coming words.
#define GP_SHA1_STEP(g, e_in, e_out, m_cur, m_next, m_after, m_last) \
    e_in = _mm_sha1nexte_epu32(e_in, m_cur);                         \
    e_out = abcd;                                                    \
    m_next = _mm_sha1msg2_epu32(m_next, m_cur);                      \
    abcd = _mm_sha1rnds4_epu32(abcd, e_in, (g) / 5);                 \
    m_last = _mm_sha1msg1_epu32(m_last, m_cur);                      \
    m_after = _mm_xor_si128(m_after, m_cur);

__attribute__((target("sha,sse4.1,ssse3")))
void gp_sha1_compress_hardware(uint32_t state[5], const uint8_t block[64]) {
    // Reverses all 16 bytes: big-endian words to host order, word 0 to the top lane.
    const __m128i reverse = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0x1B);
    __m128i e0 = _mm_set_epi32((int)state[4], 0, 0, 0);
    const __m128i abcd_start = abcd, e_start = e0;
    __m128i e1;

    // Steps 0-2: the first three quarters of the block, before the schedule is in full swing.
    __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 0)), reverse);
    e0 = _mm_add_epi32(e0, m0);
    e1 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);

    __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16)), reverse);
    e1 = _mm_sha1nexte_epu32(e1, m1);
    e0 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e1, 0);
    m0 = _mm_sha1msg1_epu32(m0, m1);

    __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 32)), reverse);
    e0 = _mm_sha1nexte_epu32(e0, m2);
    e1 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
    m1 = _mm_sha1msg1_epu32(m1, m2);
    m0 = _mm_xor_si128(m0, m2);

    __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 48)), reverse);
    // Steps 3-19 (the schedule work of the last steps is unused, and harmless).
    GP_SHA1_STEP(3, e1, e0, m3, m0, m1, m2)
    GP_SHA1_STEP(4, e0, e1, m0, m1, m2, m3)
    GP_SHA1_STEP(5, e1, e0, m1, m2, m3, m0)
    GP_SHA1_STEP(6, e0, e1, m2, m3, m0, m1)
    GP_SHA1_STEP(7, e1, e0, m3, m0, m1, m2)
    GP_SHA1_STEP(8, e0, e1, m0, m1, m2, m3)
    GP_SHA1_STEP(9, e1, e0, m1, m2, m3, m0)
    GP_SHA1_STEP(10, e0, e1, m2, m3, m0, m1)
    GP_SHA1_STEP(11, e1, e0, m3, m0, m1, m2)
    GP_SHA1_STEP(12, e0, e1, m0, m1, m2, m3)
    GP_SHA1_STEP(13, e1, e0, m1, m2, m3, m0)
    GP_SHA1_STEP(14, e0, e1, m2, m3, m0, m1)
    GP_SHA1_STEP(15, e1, e0, m3, m0, m1, m2)
    GP_SHA1_STEP(16, e0, e1, m0, m1, m2, m3)
    GP_SHA1_STEP(17, e1, e0, m1, m2, m3, m0)
    GP_SHA1_STEP(18, e0, e1, m2, m3, m0, m1)
    GP_SHA1_STEP(19, e1, e0, m3, m0, m1, m2)

    // e0 holds A from four rounds back: rotated, it is the new E.
    e0 = _mm_sha1nexte_epu32(e0, e_start);
    abcd = _mm_shuffle_epi32(_mm_add_epi32(abcd, abcd_start), 0x1B);
    _mm_storeu_si128((__m128i *)state, abcd);
    state[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}

#else

bool gp_sha1_has_hardware(void) { return false; }

void gp_sha1_compress_hardware(uint32_t state[5], const uint8_t block[64]) {
    (void)state;
    (void)block;
}

#endif
