// http-health: a wasi:http/incoming-handler in C, with the canonical ABI written out by hand (no
// wit-bindgen here). For every request:
//   - if $UNHEALTHY_FILE is set and that file exists: 503 "unhealthy\n";
//   - else for path /status/NNN: status NNN (body "status NNN\n");
//   - else 200 "ok <METHOD> <PATH>\n".
// Always the header `x-served-by: http-health`, and one line "<METHOD> <PATH> <STATUS>" on stdout.
// With $POD_NAME set (downward API), also `x-pod-name: $POD_NAME`; a request's x-forwarded-for
// comes back as `x-seen-forwarded-for` (what a NodePort or Ingress told the pod of its client).
// libc (env, files, stdout) goes through the preview 1 reactor adapter.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTP "wasi:http/types@0.2.12"
#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

typedef int32_t handle;

IMPORT(HTTP, "[method]incoming-request.method") void request_method(handle self, void *ret);
IMPORT(HTTP, "[method]incoming-request.path-with-query") void request_path(handle self, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-request") void request_drop(handle self);
IMPORT(HTTP, "[method]incoming-request.headers") handle request_headers(handle self);
IMPORT(HTTP, "[method]fields.get") void fields_get(handle self, const char *name, size_t name_len, void *ret);
IMPORT(HTTP, "[resource-drop]fields") void fields_drop(handle self);
IMPORT(HTTP, "[constructor]fields") handle fields_new(void);
IMPORT(HTTP, "[method]fields.append")
void fields_append(handle self, const char *name, size_t name_len, const uint8_t *value, size_t value_len, void *ret);
IMPORT(HTTP, "[constructor]outgoing-response") handle response_new(handle headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code") int32_t response_set_status(handle self, int32_t status);
IMPORT(HTTP, "[method]outgoing-response.body") void response_body(handle self, void *ret);
IMPORT(HTTP, "[method]outgoing-body.write") void body_write(handle self, void *ret);
IMPORT(HTTP, "[static]outgoing-body.finish") void body_finish(handle self, int32_t has_trailers, handle trailers, void *ret);
// response: result<own<outgoing-response>, error-code>, flattened: discriminant, then the joined
// payloads (ok: the handle; err: error-code, up to 7 values)
IMPORT(HTTP, "[static]response-outparam.set")
void outparam_set(handle param, int32_t is_err, int32_t a, int32_t b, int64_t c, int32_t d, int32_t e, int32_t f, int32_t g);
IMPORT("wasi:io/streams@0.2.12", "[method]output-stream.blocking-write-and-flush")
void stream_write(handle self, const uint8_t *bytes, size_t len, void *ret);
IMPORT("wasi:io/streams@0.2.12", "[resource-drop]output-stream") void stream_drop(handle self);

static const char *const METHODS[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

// canonical ABI return areas: a discriminant byte, then the payload (8-aligned for error-code)
struct ret_string { uint8_t tag; const char *ptr; size_t len; };
struct ret_handle { uint8_t tag; handle value; };
static _Alignas(8) uint8_t ret_area[64];

static void fail(const char *what) {
  fprintf(stderr, "http-health: %s failed\n", what);
  abort(); // a trap: the runtime answers the request with an error
}

static handle checked_handle(const char *what) {
  struct ret_handle *r = (struct ret_handle *)ret_area;
  if (r->tag != 0) fail(what);
  return r->value;
}

static void add_header(handle fields, const char *name, const char *value) {
  fields_append(fields, name, strlen(name), (const uint8_t *)value, strlen(value), ret_area);
  if (ret_area[0] != 0) fail("fields.append");
}

struct bytes { const uint8_t *ptr; size_t len; };
struct ret_list { struct bytes *ptr; size_t len; };

static char forwarded[256];

static void respond(handle outparam, int status, const char *body) {
  handle headers = fields_new();
  add_header(headers, "content-type", "text/plain");
  add_header(headers, "x-served-by", "http-health");
  const char *pod = getenv("POD_NAME");
  if (pod && *pod) add_header(headers, "x-pod-name", pod);
  if (forwarded[0]) add_header(headers, "x-seen-forwarded-for", forwarded);
  handle response = response_new(headers);
  if (response_set_status(response, status) != 0) fail("set-status-code");
  response_body(response, ret_area);
  handle out_body = checked_handle("outgoing-response.body");
  outparam_set(outparam, 0, response, 0, 0, 0, 0, 0, 0);
  body_write(out_body, ret_area);
  handle stream = checked_handle("outgoing-body.write");
  stream_write(stream, (const uint8_t *)body, strlen(body), ret_area);
  if (ret_area[0] != 0) fail("blocking-write-and-flush");
  stream_drop(stream); // a child of the body: dropped before the body is finished
  body_finish(out_body, 0, 0, ret_area);
  if (ret_area[0] != 0) fail("outgoing-body.finish");
}

// the component's entry; the adapter's libc state starts lazily on the first WASI call
__attribute__((export_name("wasi:http/incoming-handler@0.2.12#handle")))
void handle_request(handle request, handle outparam) {
  static char method[64], path[1024], body[1200];
  struct ret_string *r = (struct ret_string *)ret_area;

  request_method(request, ret_area);
  if (r->tag < 9) snprintf(method, sizeof method, "%s", METHODS[r->tag]);
  else snprintf(method, sizeof method, "%.*s", (int)r->len, r->ptr); // other(string)

  request_path(request, ret_area);
  if (r->tag == 1) snprintf(path, sizeof path, "%.*s", (int)r->len, r->ptr);
  else snprintf(path, sizeof path, "/");
  forwarded[0] = 0;
  handle fields = request_headers(request);
  fields_get(fields, "x-forwarded-for", 15, ret_area);
  struct ret_list *values = (struct ret_list *)ret_area;
  if (values->len > 0) snprintf(forwarded, sizeof forwarded, "%.*s", (int)values->ptr[0].len, (const char *)values->ptr[0].ptr);
  fields_drop(fields);
  request_drop(request);

  int status = 200;
  const char *unhealthy = getenv("UNHEALTHY_FILE");
  if (unhealthy && *unhealthy && access(unhealthy, F_OK) == 0) {
    status = 503;
    snprintf(body, sizeof body, "unhealthy\n");
  } else if (strncmp(path, "/status/", 8) == 0 && atoi(path + 8) >= 100 && atoi(path + 8) <= 999) {
    status = atoi(path + 8);
    snprintf(body, sizeof body, "status %d\n", status);
  } else {
    snprintf(body, sizeof body, "ok %s %s\n", method, path);
  }
  respond(outparam, status, body);
  printf("%s %s %d\n", method, path, status);
  fflush(stdout);
}
