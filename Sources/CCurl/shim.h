// curl_easy_setopt is variadic, which Swift cannot call: one typed wrapper per argument kind.
#ifndef KOERIER_CCURL_SHIM_H
#define KOERIER_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode koerier_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode koerier_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode koerier_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode koerier_curl_set_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*koerier_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
static inline CURLcode koerier_curl_set_callback(CURL *handle, CURLoption option, koerier_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
static inline CURLcode koerier_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode koerier_curl_get_certinfo(CURL *handle, struct curl_certinfo **value) {
    return curl_easy_getinfo(handle, CURLINFO_CERTINFO, value);
}
#endif
