// Public surface of the HTTP/1.1 protocol: its server, connections, endpoint pools and
// forwarding.
export { AccessLog, accessLogLine, logTime } from './access-log.ts';
export type { AccessLogEntry } from './access-log.ts';
export { ChunkedDecoder } from './chunked.ts';
export { DownstreamConn, splitAbsoluteUri } from './connection.ts';
export { forward, upstreamHeaders } from './forward.ts';
export { rawHeader, readRequestHeaders, responseHeaders, setRawHeader, viaEntry } from './headers.ts';
export type { InboundHeaders } from './headers.ts';
export { headEnd, HeadError, parseRequestHead, parseResponseHead } from './parse.ts';
export type { Framing, Head } from './parse.ts';
export { Http1Request } from './request.ts';
export { errorResponse, Http1Server } from './server.ts';
export type { Http1Router, Http1ServerOptions } from './server.ts';
export { Http1Endpoint } from './endpoint.ts';
export type { Waiter } from './endpoint.ts';
export { UpstreamConn } from './upstream.ts';
export type { ResponseSink } from './upstream.ts';
