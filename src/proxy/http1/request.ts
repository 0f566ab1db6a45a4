// One proxied HTTP/1.1 request: everything the router and the forwarding code need, in one
// object of fixed shape created per request (STYLE §3.7).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IdentifyRequest } from '../identifier/index.ts';
import type { Dst } from '../router/index.ts';
import { type InboundHeaders, rawHeader } from './headers.ts';

export class Http1Request implements IdentifyRequest {
  readonly req: IncomingMessage;
  /** Undefined for an upgrade, which answers on the raw socket. */
  readonly res: ServerResponse | undefined;
  readonly method: string;
  /** Origin form, after an absolute URI was rewritten and an identifier consumed segments. */
  uri: string;
  readonly httpVersion: string;
  readonly headers: InboundHeaders;
  /** The client sent `Expect: 100-continue` and waits for a go-ahead. */
  readonly expectContinue: boolean;
  readonly startMs: number;
  dst: Dst | undefined = undefined;
  /** Called to abort the upstream exchange when the downstream side goes away. */
  abort: (() => void) | undefined = undefined;

  constructor(req: IncomingMessage, res: ServerResponse | undefined, uri: string, headers: InboundHeaders, expectContinue: boolean, startMs: number) {
    this.req = req;
    this.res = res;
    this.method = req.method ?? 'GET';
    this.uri = uri;
    this.httpVersion = req.httpVersion;
    this.headers = headers;
    this.expectContinue = expectContinue;
    this.startMs = startMs;
  }

  header(name: string): string | undefined {
    return rawHeader(this.headers.forward, name);
  }

  /** The request has a body to forward. */
  get hasBody(): boolean {
    return this.headers.chunked || (this.headers.contentLength !== undefined && this.headers.contentLength !== '0');
  }
}
