// linkerd's HTTP access log (spec/linkerd.md §1), one line per request:
// `<Host> <remote-ip> - - [<time>] "<METHOD uri HTTP/x.y>" <status> <length> "<Referer>" "<User-Agent>"`,
// written through a buffered file stream so logging never blocks a request.

import pino from 'pino';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** The common log format's time, in UTC: `22/Nov/2026:10:00:00 +0000`. */
export function logTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

export interface AccessLogEntry {
  readonly host: string | undefined;
  readonly remote: string;
  readonly timeMs: number;
  readonly method: string;
  readonly uri: string;
  readonly httpVersion: string;
  readonly status: number;
  readonly length: string | undefined;
  readonly referer: string | undefined;
  readonly userAgent: string | undefined;
}

export function accessLogLine(e: AccessLogEntry): string {
  return `${e.host ?? '-'} ${e.remote} - - [${logTime(e.timeMs)}] "${e.method} ${e.uri} HTTP/${e.httpVersion}" ${e.status} ${e.length ?? '-'} "${e.referer ?? '-'}" "${e.userAgent ?? '-'}"\n`;
}

export class AccessLog {
  readonly #out: ReturnType<typeof pino.destination>;
  readonly #flush: NodeJS.Timeout;

  constructor(file: string) {
    this.#out = pino.destination({ dest: file, sync: false, minLength: 4096, mkdir: true });
    // Lines are written in 4 KB batches, and at least every second when traffic is light.
    this.#flush = setInterval(() => {
      try {
        this.#out.flush(() => {});
      } catch {
        // Not open yet, or closing: the next tick of the timer tries again.
      }
    }, 1000);
    this.#flush.unref();
  }

  write(e: AccessLogEntry): void {
    this.#out.write(accessLogLine(e));
  }

  close(): Promise<void> {
    clearInterval(this.#flush);
    return new Promise((resolve) => {
      try {
        this.#out.flushSync();
      } catch {
        // Not yet open: nothing was written.
      }
      this.#out.end();
      resolve();
    });
  }
}
