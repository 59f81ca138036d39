#include <zlib.h>

// inflateInit/deflateInit are macros that pass the header version and struct size.
// Objects are inflated without zlib's Adler-32 check (inflateValidate, zlib 1.2.9+):
// the object's content hash, taken over the compressed bytes, is checked anyway,
// and the Adler-32 of the inflated bytes cost 12 % of a cold read's CPU time.
static inline int cvmfs_inflate_init(z_stream *s) {
    int rc = inflateInit(s);
    if (rc == Z_OK) rc = inflateValidate(s, 0);
    return rc;
}
static inline int cvmfs_deflate_init(z_stream *s, int level) { return deflateInit(s, level); }
// windowBits 15 + 32: inflate detects and accepts both zlib and gzip headers (container layers are gzip).
static inline int cvmfs_inflate_init_gzip(z_stream *s) { return inflateInit2(s, 15 + 32); }
