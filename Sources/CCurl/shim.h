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
