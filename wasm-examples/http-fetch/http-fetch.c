// http-fetch: a wasi:http/incoming-handler in C (canonical ABI by hand, no wit-bindgen here) that
// calls another service for every request it serves, through wasi:http/outgoing-handler:
//   - the target is $TARGET_URL (http[s]://host[:port]/path; default http://localhost:8080/), the
//     request's path appended when $APPEND_PATH is set;
//   - it answers 200 "fetched <url>: <status> <body>" with what it got,
//   - or 502 "fetched <url>: failed: <error-code>" (e.g. connection-refused, DNS-error).
// With $REPLY set it is a backend instead: it answers 200 "<REPLY> <path>" and fetches nothing
// (e.g. REPLY from the downward API's metadata.name: a backend that says which pod answered).
// One line on stdout per request. libc (env, stdout) goes through the preview 1 reactor adapter.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP "wasi:http/types@0.2.12"
#define STREAMS "wasi:io/streams@0.2.12"
#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

typedef int32_t handle;

IMPORT(HTTP, "[method]incoming-request.path-with-query") void request_path(handle self, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-request") void request_drop(handle self);
IMPORT(HTTP, "[constructor]fields") handle fields_new(void);
IMPORT(HTTP, "[method]fields.append")
void fields_append(handle self, const char *name, size_t name_len, const uint8_t *value, size_t value_len, void *ret);
IMPORT(HTTP, "[constructor]outgoing-response") handle response_new(handle headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code") int32_t response_set_status(handle self, int32_t status);
IMPORT(HTTP, "[method]outgoing-response.body") void response_body(handle self, void *ret);
IMPORT(HTTP, "[method]outgoing-body.write") void body_write(handle self, void *ret);
IMPORT(HTTP, "[static]outgoing-body.finish") void body_finish(handle self, int32_t has_trailers, handle trailers, void *ret);
IMPORT(HTTP, "[static]response-outparam.set")
void outparam_set(handle param, int32_t is_err, int32_t a, int32_t b, int64_t c, int32_t d, int32_t e, int32_t f, int32_t g);
IMPORT(STREAMS, "[method]output-stream.blocking-write-and-flush")
void stream_write(handle self, const uint8_t *bytes, size_t len, void *ret);
IMPORT(STREAMS, "[resource-drop]output-stream") void stream_drop(handle self);

// the client side
IMPORT(HTTP, "[constructor]outgoing-request") handle request_new(handle headers);
IMPORT(HTTP, "[method]outgoing-request.set-authority") int32_t request_set_authority(handle self, int32_t some, const char *ptr, size_t len);
IMPORT(HTTP, "[method]outgoing-request.set-scheme")
int32_t request_set_scheme(handle self, int32_t some, int32_t tag, const char *ptr, size_t len);
IMPORT(HTTP, "[method]outgoing-request.set-path-with-query") int32_t request_set_path(handle self, int32_t some, const char *ptr, size_t len);
IMPORT("wasi:http/outgoing-handler@0.2.12", "handle") void outgoing_handle(handle request, int32_t has_options, handle options, void *ret);
IMPORT(HTTP, "[method]future-incoming-response.get") void future_get(handle self, void *ret);
IMPORT(HTTP, "[method]incoming-response.status") int32_t incoming_status(handle self);
IMPORT(HTTP, "[method]incoming-response.consume") void incoming_consume(handle self, void *ret);
IMPORT(HTTP, "[method]incoming-body.stream") void incoming_body_stream(handle self, void *ret);
IMPORT(STREAMS, "[method]input-stream.blocking-read") void stream_read(handle self, int64_t len, void *ret);

// wasi:http error-code cases, in WIT order
static const char *const ERROR_CODES[] = {
  "DNS-timeout", "DNS-error", "destination-not-found", "destination-unavailable", "destination-IP-prohibited",
  "destination-IP-unroutable", "connection-refused", "connection-terminated", "connection-timeout",
  "connection-read-timeout", "connection-write-timeout", "connection-limit-reached", "TLS-protocol-error",
  "TLS-certificate-error", "TLS-alert-received", "HTTP-request-denied", "HTTP-request-length-required",
  "HTTP-request-body-size", "HTTP-request-method-invalid", "HTTP-request-URI-invalid", "HTTP-request-URI-too-long",
  "HTTP-request-header-section-size", "HTTP-request-header-size", "HTTP-request-trailer-section-size",
  "HTTP-request-trailer-size", "HTTP-response-incomplete", "HTTP-response-header-section-size",
  "HTTP-response-header-size", "HTTP-response-body-size", "HTTP-response-trailer-section-size",
  "HTTP-response-trailer-size", "HTTP-response-transfer-coding", "HTTP-response-content-coding",
  "HTTP-response-timeout", "HTTP-upgrade-failed", "HTTP-protocol-error", "loop-detected", "configuration-error",
  "internal-error",
};

struct ret_string { uint8_t tag; const char *ptr; size_t len; };
struct ret_handle { uint8_t tag; handle value; };
struct ret_list { uint8_t tag; const uint8_t *ptr; size_t len; };
static _Alignas(8) uint8_t ret_area[64];

static void fail(const char *what) {
  fprintf(stderr, "http-fetch: %s failed\n", what);
  abort();
}

static handle checked_handle(const char *what) {
  struct ret_handle *r = (struct ret_handle *)ret_area;
  if (r->tag != 0) fail(what);
  return r->value;
}

static const char *error_name(uint8_t tag) {
  return tag < sizeof ERROR_CODES / sizeof *ERROR_CODES ? ERROR_CODES[tag] : "unknown-error";
}

static void add_header(handle fields, const char *name, const char *value) {
  fields_append(fields, name, strlen(name), (const uint8_t *)value, strlen(value), ret_area);
  if (ret_area[0] != 0) fail("fields.append");
}

static void respond(handle outparam, int status, const char *body, size_t len) {
  handle headers = fields_new();
  add_header(headers, "content-type", "text/plain");
  add_header(headers, "x-served-by", "http-fetch");
  handle response = response_new(headers);
  if (response_set_status(response, status) != 0) fail("set-status-code");
  response_body(response, ret_area);
  handle out_body = checked_handle("outgoing-response.body");
  outparam_set(outparam, 0, response, 0, 0, 0, 0, 0, 0);
  body_write(out_body, ret_area);
  handle stream = checked_handle("outgoing-body.write");
  stream_write(stream, (const uint8_t *)body, len, ret_area);
  if (ret_area[0] != 0) fail("blocking-write-and-flush");
  stream_drop(stream);
  body_finish(out_body, 0, 0, ret_area);
  if (ret_area[0] != 0) fail("outgoing-body.finish");
}

static char answer[70000];
static size_t answer_len;

static void say(const char *text) {
  size_t n = strlen(text);
  if (answer_len + n >= sizeof answer) n = sizeof answer - 1 - answer_len;
  memcpy(answer + answer_len, text, n);
  answer_len += n;
}

// Fetches `authority` + `path`; fills `answer`; returns the status to answer with.
static int fetch(int https, const char *authority, const char *path) {
  handle request = request_new(fields_new());
  if (https && request_set_scheme(request, 1, 1, 0, 0) != 0) fail("set-scheme"); // scheme HTTPS
  if (request_set_authority(request, 1, authority, strlen(authority)) != 0) fail("set-authority");
  if (request_set_path(request, 1, path, strlen(path)) != 0) fail("set-path-with-query");
  outgoing_handle(request, 0, 0, ret_area);
  if (ret_area[0] != 0) {
    say("failed: ");
    say(error_name(ret_area[8]));
    return 502;
  }
  handle future = *(handle *)(ret_area + 8);
  future_get(future, ret_area);
  // option<result<result<incoming-response, error-code>, ()>>: tags at 0, 8, 16; payload at 24
  if (ret_area[0] != 1 || ret_area[8] != 0) fail("future-incoming-response.get");
  if (ret_area[16] != 0) {
    say("failed: ");
    say(error_name(ret_area[24]));
    return 502;
  }
  handle response = *(handle *)(ret_area + 24);
  char status[16];
  snprintf(status, sizeof status, "%d ", (int)incoming_status(response));
  say(status);
  incoming_consume(response, ret_area);
  handle body = checked_handle("incoming-response.consume");
  incoming_body_stream(body, ret_area);
  handle stream = checked_handle("incoming-body.stream");
  for (;;) {
    stream_read(stream, 4096, ret_area);
    struct ret_list *r = (struct ret_list *)ret_area;
    if (r->tag != 0) break; // closed (or failed): the whole body was read
    if (answer_len + r->len >= sizeof answer) break;
    memcpy(answer + answer_len, r->ptr, r->len);
    answer_len += r->len;
    free((void *)r->ptr);
  }
  return 200;
}

__attribute__((export_name("wasi:http/incoming-handler@0.2.12#handle")))
void handle_request(handle request, handle outparam) {
  static char path[1024], authority[256], target_path[2048];
  struct ret_string *r = (struct ret_string *)ret_area;
  request_path(request, ret_area);
  if (r->tag == 1) snprintf(path, sizeof path, "%.*s", (int)r->len, r->ptr);
  else snprintf(path, sizeof path, "/");
  request_drop(request);

  const char *reply = getenv("REPLY");
  if (reply && *reply) {
    answer_len = 0;
    say(reply);
    say(" ");
    say(path);
    say("\n");
    respond(outparam, 200, answer, answer_len);
    printf("GET %s 200\n", path);
    fflush(stdout);
    return;
  }

  const char *url = getenv("TARGET_URL");
  if (!url || !*url) url = "http://localhost:8080/";
  int https = strncmp(url, "https://", 8) == 0;
  const char *rest = https ? url + 8 : strncmp(url, "http://", 7) == 0 ? url + 7 : url;
  const char *slash = strchr(rest, '/');
  size_t host_len = slash ? (size_t)(slash - rest) : strlen(rest);
  snprintf(authority, sizeof authority, "%.*s", (int)host_len, rest);
  const char *base = slash ? slash : "/";
  const char *append = getenv("APPEND_PATH");
  if (append && *append) snprintf(target_path, sizeof target_path, "%s%s", strcmp(base, "/") == 0 ? "" : base, path);
  else snprintf(target_path, sizeof target_path, "%s", base);

  answer_len = 0;
  say(https ? "fetched https://" : "fetched http://");
  say(authority);
  say(target_path);
  say(": ");
  int status = fetch(https, authority, target_path);
  say("\n");
  respond(outparam, status, answer, answer_len);
  printf("GET %s -> %s://%s%s %d\n", path, https ? "https" : "http", authority, target_path, status);
  fflush(stdout);
}
