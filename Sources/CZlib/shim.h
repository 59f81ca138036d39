#include <zlib.h>

// inflateInit/deflateInit are macros that pass the header version and struct size.
static inline int cvmfs_inflate_init(z_stream *s) { return inflateInit(s); }
static inline int cvmfs_deflate_init(z_stream *s, int level) { return deflateInit(s, level); }
