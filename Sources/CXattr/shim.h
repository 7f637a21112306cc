#ifndef REELD_CXATTR_SHIM_H
#define REELD_CXATTR_SHIM_H

// Swift's Glibc module leaves out <sys/xattr.h>. The spool needs fsetxattr for one thing: the
// POSIX ACL that lets a submitter, and no other, read the reason beside their rejected file.
// Part of glibc itself: nothing to link.
#include <stddef.h>
#include <sys/xattr.h>

static inline int reeld_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
    return fsetxattr(fd, name, value, size, flags);
}

#endif
