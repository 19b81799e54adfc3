/*
 * pinning.c - instruction pinning for counted (Callgrind) runs.
 *
 * Why: glibc chooses its string and memory functions (memcpy, memset,
 * strlen, ...) at load time by CPU features, and sizes its copy strategies
 * by cache sizes.  Under Valgrind the program sees Valgrind's own CPUID (a
 * canned Intel CPU whose feature bits still depend on the host: one canned
 * CPU for AVX2 hosts, another for AVX-only hosts, host bits for F16C,
 * RDRAND, RDSEED and LZCNT), so the same code can run __memset_avx2_* on
 * one CI machine and __memset_sse2_* on another, and the counts differ by
 * 1-2%: more than the gate's slack, less than a real regression.
 *
 * What: every counted run gets GLIBC_TUNABLES that mask, in glibc's view of
 * the CPU, every feature above x86-64's architectural baseline (SSE2) that
 * any glibc 2.36 string, memory or math variant tests, clear the "preferred"
 * flags that steer the choice between baseline variants, and fix the cache
 * sizes and copy thresholds.  SSE2 is present on every x86-64 CPU, so the
 * same variants (__memmove_sse2_unaligned, __memset_sse2_unaligned,
 * __strlen_sse2, ...) are chosen on every host.  The scheme carries a
 * version (HL_PINNING_SCHEME); results record it in context
 * "instruction_pinning", and `--compare` judges counts across CPU models
 * only when both sides carry the same record.
 *
 * Cost: the baseline variants execute a few more instructions than the AVX2
 * ones (measured: +1.6% on trees/refcount); they are the same everywhere,
 * which is what a gate needs.
 */
#include "harness/pinning.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "harness/proc.h"

#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define HL_HAVE_CPU_FEATURE_ACTIVE 1
#endif
#endif

/* glibc.cpu.hwcaps masks (features, then preferred flags), then the fixed
 * sizes: those of the canned CPU Valgrind shows on AVX2 hosts, so that the
 * thresholds are realistic. */
static const char pinning_tunables[] =
    "glibc.cpu.hwcaps="
    "-SSSE3,-SSE4_1,-SSE4_2,-POPCNT,-AVX,-AVX2,-FMA,-FMA4,-F16C,-BMI1,-BMI2,-LZCNT,-MOVBE,"
    "-ERMS,-FSRM,-RTM,-XSAVEC,-AVX512F,-AVX512CD,-AVX512BW,-AVX512DQ,-AVX512VL,-AVX_VNNI,"
    "-Fast_Rep_String,-Fast_Unaligned_Load,-Fast_Unaligned_Copy,-Fast_Copy_Backward,"
    "-AVX_Fast_Unaligned_Load,-Prefer_PMINUB_for_stringop,-Prefer_ERMS,-Prefer_FSRM,"
    "-Prefer_No_VZEROUPPER,-Slow_BSF,-Slow_SSE4_2,-Avoid_Short_Distance_REP_MOVSB,"
    "-Prefer_No_AVX512,-MathVec_Prefer_No_AVX512"
    ":glibc.cpu.x86_data_cache_size=32768"
    ":glibc.cpu.x86_shared_cache_size=8388608"
    ":glibc.cpu.x86_non_temporal_threshold=2097152"
    ":glibc.cpu.x86_rep_movsb_threshold=8192"
    ":glibc.cpu.x86_rep_stosb_threshold=2048";

char **hl_pinning_environment(char *const *env, char *var, size_t var_len)
{
    const char *inherited = hl_environment_get(env, "GLIBC_TUNABLES");
    char value[8192];
    int len = snprintf(value, sizeof value, "%s%s%s", pinning_tunables,
                       inherited && *inherited ? ":" : "", inherited ? inherited : "");
    if (len < 0 || (size_t)len >= sizeof value)
        return NULL;
    return hl_environment_with(env, "GLIBC_TUNABLES", value, var, var_len);
}

/* Whether glibc took the masks: the features that pick string variants are
 * all inactive.  Without glibc's <sys/platform/x86.h> nothing can be
 * checked, and nothing is claimed. */
static int pinning_in_force(void)
{
#ifdef HL_HAVE_CPU_FEATURE_ACTIVE
    return !CPU_FEATURE_ACTIVE(SSSE3) && !CPU_FEATURE_ACTIVE(SSE4_1) &&
           !CPU_FEATURE_ACTIVE(SSE4_2) && !CPU_FEATURE_ACTIVE(AVX) &&
           !CPU_FEATURE_ACTIVE(AVX2) && !CPU_FEATURE_ACTIVE(BMI2) &&
           !CPU_FEATURE_ACTIVE(ERMS) && !CPU_FEATURE_ACTIVE(FSRM) &&
           !CPU_FEATURE_ACTIVE(AVX512F) && !CPU_FEATURE_ACTIVE(RTM);
#else
    return 0;
#endif
}

cJSON *hl_pinning_record(void)
{
    const char *tunables = getenv("GLIBC_TUNABLES");
    if (tunables == NULL || strncmp(tunables, pinning_tunables, sizeof pinning_tunables - 1) != 0 ||
        !pinning_in_force())
        return NULL;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "scheme", HL_PINNING_SCHEME);
    cJSON_AddStringToObject(r, "glibc_tunables", tunables);
    return r;
}
