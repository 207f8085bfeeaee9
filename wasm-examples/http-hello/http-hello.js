// http-hello: a wasi:http/incoming-handler written in JavaScript (StarlingMonkey's fetch event),
// built with componentize-js. Answers every request with its method, path and body.
addEventListener('fetch', (event) =>
  event.respondWith(
    (async () => {
      const url = new URL(event.request.url);
      const body = event.request.method === 'POST' ? await event.request.text() : '';
      return new Response(`hello from skiff: ${event.request.method} ${url.pathname}${body ? ` body=${body}` : ''}\n`, {
        headers: { 'content-type': 'text/plain', 'x-served-by': 'http-hello' },
      });
    })(),
  ),
);
