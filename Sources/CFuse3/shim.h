// libfuse 3.14 (Debian 12) low-level API. The version is pinned so that newer
// headers do not switch struct layouts under us.
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <errno.h>

// FUSE_ARGS_INIT is a macro; Swift cannot import it.
static inline struct fuse_args cvmfs_fuse_args_init(int argc, char **argv) {
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    return args;
}
