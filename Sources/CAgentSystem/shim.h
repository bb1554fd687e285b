// What the agent needs of the system that Swift's Glibc module does not give: zlib (to inflate
// gzip-compressed image layers) and prctl, which is variadic in C.
#include <zlib.h>
#include <sys/prctl.h>

// Makes the calling process the child subreaper of its descendants: a container whose runc has
// exited becomes its child, so it can read the container's exit status.
static inline int tansiq_become_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}
