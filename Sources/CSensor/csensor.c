#define _GNU_SOURCE
#include "csensor.h"

#include <sched.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int gp_keep_capabilities(int keep) {
    return prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0);
}

int gp_set_capture_capabilities(int net) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    unsigned int mask = net ? ((1u << CAP_NET_RAW) | (1u << CAP_NET_ADMIN)) : 0;
    data[0].effective = mask;
    data[0].permitted = mask;
    data[0].inheritable = mask;
    if (syscall(SYS_capset, &header, data) != 0) return -1;
    if (net) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) != 0) return -1;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) != 0) return -1;
    }
    return 0;
}

unsigned long long gp_effective_capabilities(void) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    if (syscall(SYS_capget, &header, data) != 0) return 0;
    return ((unsigned long long)data[1].effective << 32) | data[0].effective;
}

int gp_no_new_privileges(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

const char *gp_build_commit(void) {
#ifdef GHOSTPORT_COMMIT
    return GHOSTPORT_COMMIT;
#else
    return 0;
#endif
}

int gp_usable_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
