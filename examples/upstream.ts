// The demo upstreams of the example: small HTTP servers that say who they are and echo the
// routing headers dtabd added, so a routed request shows where it went.
// Usage: node examples/upstream.ts NAME:PORT [NAME:PORT ...]

import { createServer, type Server } from 'node:http';

export function startUpstream(name: string, port: number, ip = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    const lines = [`hello from ${name} (${ip}:${port})`, `${req.method} ${req.url}`];
    for (const h of ['l5d-dst-service', 'l5d-dst-client', 'l5d-ctx-dtab', 'l5d-reqid', 'via']) {
      const v = req.headers[h];
      if (v !== undefined) lines.push(`${h}: ${String(v)}`);
    }
    const body = `${lines.join('\n')}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => resolve(server));
  });
}

if (import.meta.main) {
  for (const spec of process.argv.slice(2)) {
    const [name, port] = spec.split(':');
    await startUpstream(name!, Number(port));
    console.log(`${name} listening on 127.0.0.1:${port}`);
  }
}
