#ifndef GHOSTPORT_CEVENTFD_H
#define GHOSTPORT_CEVENTFD_H

// eventfd(2), which Swift's Glibc module does not import: the ring's idle consumer sleeps on
// one and the producer wakes it, so an idle sensor costs no CPU. Linux only; elsewhere -1.

#ifdef __linux__
#include <sys/eventfd.h>
#endif

/// A non-blocking, close-on-exec eventfd, or -1.
static inline int gp_eventfd(void) {
#ifdef __linux__
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
#else
    return -1;
#endif
}

#endif
