#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic; Swift needs typed entry points.
static inline CURLcode cvmfs_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cvmfs_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cvmfs_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*cvmfs_curl_write_cb)(char *, size_t, size_t, void *);
static inline CURLcode cvmfs_curl_setopt_write(CURL *h, CURLoption o, cvmfs_curl_write_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cvmfs_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode cvmfs_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode cvmfs_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode cvmfs_curl_getinfo_ptr(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode cvmfs_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

// The share interface is variadic too. The lock callbacks let a CURLSH be used from many
// threads at once (libcurl's curl_share_setopt(3): "it is up to the application to lock").
typedef void (*cvmfs_curl_lock_cb)(CURL *, curl_lock_data, curl_lock_access, void *);
typedef void (*cvmfs_curl_unlock_cb)(CURL *, curl_lock_data, void *);
static inline CURLSHcode cvmfs_curl_share_setopt_long(CURLSH *s, CURLSHoption o, long v) { return curl_share_setopt(s, o, v); }
static inline CURLSHcode cvmfs_curl_share_setopt_ptr(CURLSH *s, CURLSHoption o, void *v) { return curl_share_setopt(s, o, v); }
static inline CURLSHcode cvmfs_curl_share_setopt_lock(CURLSH *s, cvmfs_curl_lock_cb v) { return curl_share_setopt(s, CURLSHOPT_LOCKFUNC, v); }
static inline CURLSHcode cvmfs_curl_share_setopt_unlock(CURLSH *s, cvmfs_curl_unlock_cb v) { return curl_share_setopt(s, CURLSHOPT_UNLOCKFUNC, v); }
