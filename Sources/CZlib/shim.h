#include <zlib.h>

// inflateInit/deflateInit are macros that pass the header version and struct size.
static inline int cvmfs_inflate_init(z_stream *s) { return inflateInit(s); }
static inline int cvmfs_deflate_init(z_stream *s, int level) { return deflateInit(s, level); }
// windowBits 15 + 32: inflate detects and accepts both zlib and gzip headers (container layers are gzip).
static inline int cvmfs_inflate_init_gzip(z_stream *s) { return inflateInit2(s, 15 + 32); }
