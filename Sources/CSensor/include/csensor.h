#ifndef GHOSTPORT_CSENSOR_H
#define GHOSTPORT_CSENSOR_H

// The few system calls Swift cannot reach directly (prctl and capset are variadic or have
// no libc wrapper). Each returns 0 on success and -1 with errno set on failure.

/// Keeps the permitted capabilities across setuid (prctl PR_SET_KEEPCAPS).
int gp_keep_capabilities(int keep);

/// Sets the effective, permitted and inheritable sets to exactly CAP_NET_RAW and CAP_NET_ADMIN
/// (or to nothing when `net` is 0), then raises them as ambient when `net` is 1, so a capture
/// can be reopened after the interface returns.
int gp_set_capture_capabilities(int net);

/// The effective capability set's low 64 bits (for tests and the start-up report).
unsigned long long gp_effective_capabilities(void);

/// Forbids gaining privileges through exec (prctl PR_SET_NO_NEW_PRIVS).
int gp_no_new_privileges(void);

/// The CPUs this process may run on (its affinity mask: taskset, systemd's CPUAffinity=),
/// else the online ones; at least 1.
int gp_usable_cpus(void);

#endif

/* The commit the binary was built from, when the build said (`make` passes
 * -Xcc -DGHOSTPORT_COMMIT='"<hash>"'), else NULL. */
const char *gp_build_commit(void);
