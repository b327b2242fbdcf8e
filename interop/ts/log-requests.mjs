// Preloaded (node --import) into the TypeScript SDK's example server, unchanged otherwise:
// binds its listeners to 127.0.0.1 (the example listens on every interface) and appends
// JSON lines to $INTEROP_HTTP_LOG: each request as it arrives (method, path, authorization
// scheme) and each response as it finishes (status, the client's
// authentication at /token (`basic` header or `client_secret` in the body: names only, never a
// secret), and the registration response's member names. The suite judges cells from this.
import { appendFileSync } from 'node:fs';
import http from 'node:http';

const logFile = process.env.INTEROP_HTTP_LOG;
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    const cb = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
    return listen.call(this, Number(args[0]), '127.0.0.1', cb);
  }
  return listen.apply(this, args);
};

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request') {
    const arrival = { phase: 'request', method: req.method, path: (req.originalUrl ?? req.url).split('?')[0] };
    const scheme = req.headers.authorization?.split(' ')[0];
    if (scheme) arrival.authorization = scheme.toLowerCase();
    appendFileSync(logFile, JSON.stringify(arrival) + '\n');
    const chunks = [];
    const end = res.end;
    res.end = function (chunk, ...rest) {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
      return end.call(this, chunk, ...rest);
    };
    res.on('finish', () => {
      const path = (req.originalUrl ?? req.url).split('?')[0];
      const record = { phase: 'response', method: req.method, path, status: res.statusCode };
      const auth = req.headers.authorization?.split(' ')[0];
      if (auth) record.authorization = auth.toLowerCase();
      if (req.body && typeof req.body === 'object') {
        record.body_members = Object.keys(req.body).sort();
        if (req.body.grant_type) record.grant_type = req.body.grant_type;
        if (req.body.token_endpoint_auth_method) record.asked_auth_method = req.body.token_endpoint_auth_method;
      }
      if (path === '/register' || (path === '/token' && res.statusCode >= 400)) {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString());
          record.response_members = Object.keys(body).sort();
          if (body.error) record.error = body.error;
        } catch { /* not JSON */ }
      }
      appendFileSync(logFile, JSON.stringify(record) + '\n');
    });
  }
  return emit.apply(this, arguments);
};
