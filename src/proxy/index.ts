// Public surface of proxy/: what a router is made of. The HTTP/1.1 server and forwarding
// build on these.
export * from './errors.ts';
export * from './rescue.ts';
export * from './local-dtab.ts';
export * from './identifier/index.ts';
export * from './trace.ts';
export * from './router/index.ts';
export * from './http1/index.ts';
export * from './classifier.ts';
export * from './recent-requests.ts';
