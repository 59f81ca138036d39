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

#include <signal.h>
#include <string.h>
#include <sys/xattr.h>  // getxattr/listxattr, for tests that check the xattr replies

// fuse_file_info's cache flags are bitfields; set them in C so the layout is
// the compiler's business, not ours.
static inline void cvmfs_fuse_fi_set_cache(struct fuse_file_info *fi, int keep_cache, int direct_io) {
    fi->keep_cache = keep_cache ? 1 : 0;
    fi->direct_io = direct_io ? 1 : 0;
}

// Lets the kernel keep a directory's listing in its page cache across
// opendir calls (FOPEN_CACHE_DIR + FOPEN_KEEP_CACHE).
static inline void cvmfs_fuse_fi_set_cache_readdir(struct fuse_file_info *fi, int cache) {
    fi->cache_readdir = cache ? 1 : 0;
    fi->keep_cache = cache ? 1 : 0;
}

static inline void cvmfs_fuse_wakeup_handler(int sig) { (void)sig; }

// Installs a do-nothing handler without SA_RESTART on `sig`, so that
// pthread_kill(loop_thread, sig) makes the sem_wait in fuse_session_loop_mt
// fail with EINTR and the loop re-checks fuse_session_exited(). The calling
// (loop) thread unblocks `sig`: a thread started from a libdispatch worker
// inherits a mask that blocks it, and the wake-up would never arrive.
static inline int cvmfs_fuse_install_wakeup_handler(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cvmfs_fuse_wakeup_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(sig, &sa, NULL) != 0) return -1;
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, sig);
    return pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
}

// Replies to a read with `count` file ranges (fd, offset, size), so libfuse
// can splice them from the cache files into /dev/fuse (FUSE_CAP_SPLICE_WRITE)
// instead of copying through a user-space buffer. struct fuse_bufvec ends in
// a one-element array; the extra elements follow it here.
static inline int cvmfs_fuse_reply_fds(fuse_req_t req, size_t count, const int *fds,
                                       const unsigned long long *offsets, const size_t *sizes) {
    if (count == 0) return fuse_reply_buf(req, NULL, 0);
    struct {
        struct fuse_bufvec vec;
        struct fuse_buf more[7];
    } bufs;
    if (count > 8) return fuse_reply_err(req, EIO);
    memset(&bufs, 0, sizeof(bufs));
    bufs.vec.count = count;
    for (size_t i = 0; i < count; i++) {
        struct fuse_buf *buf = &bufs.vec.buf[i];
        buf->size = sizes[i];
        buf->flags = (enum fuse_buf_flags)(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
        buf->fd = fds[i];
        buf->pos = (off_t)offsets[i];
    }
    return fuse_reply_data(req, &bufs.vec, (enum fuse_buf_copy_flags)0);
}
