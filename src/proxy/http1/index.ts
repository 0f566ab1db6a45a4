// Public surface of the HTTP/1.1 protocol: its server, endpoint and forwarding.
export { AccessLog, accessLogLine, logTime } from './access-log.ts';
export type { AccessLogEntry } from './access-log.ts';
export { DEFAULT_ENDPOINT_OPTIONS, Http1Endpoint } from './endpoint.ts';
export type { Http1EndpointOptions } from './endpoint.ts';
export { forward, upstreamHeaders, viaEntry } from './forward.ts';
export { readRequestHeaders, responseHeaders } from './headers.ts';
export type { InboundHeaders } from './headers.ts';
export { Http1Request } from './request.ts';
export { ConcurrencyLimitError, errorResponse, Http1Server, splitAbsoluteUri } from './server.ts';
export type { Http1Router, Http1ServerOptions } from './server.ts';
