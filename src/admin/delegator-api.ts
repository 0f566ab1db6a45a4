// linkerd's `/delegator.json` (GET `?namespace=&dtab=&path=` or POST of JSON) and dtabd's
// `/explain.json` (POST of a request's method, URL and headers): bodies are JSON objects of at
// most 64 KiB; what does not parse gets 400, a body that is not JSON 415, a larger one 413.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminHooks, Answer } from './hooks.ts';
import { BodyRefused, readBody, sendJson, sendText } from './respond.ts';

const MAX_BODY = 64 * 1024;

function answer(res: ServerResponse, a: Answer, pretty: boolean): void {
  if (typeof a.body === 'string') sendText(res, a.status, `${a.body}\n`);
  else sendJson(res, a.status, a.body, pretty);
}

/** The JSON object of a POST, or undefined once an error has been answered. */
async function jsonBody(req: IncomingMessage, res: ServerResponse, what: string): Promise<Record<string, unknown> | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    sendText(res, 415, 'Expected a JSON body (Content-Type: application/json)\n');
    return undefined;
  }
  let text: string;
  try {
    text = await readBody(req, res, MAX_BODY);
  } catch (e) {
    if (!(e instanceof BodyRefused)) sendText(res, 400, `${what}: ${(e as Error).message}\n`);
    return undefined;
  }
  let q: unknown;
  try {
    q = JSON.parse(text);
  } catch (e) {
    sendText(res, 400, `${what}: ${(e as Error).message}\n`);
    return undefined;
  }
  if (q === null || typeof q !== 'object' || Array.isArray(q)) {
    sendText(res, 400, `${what}: expected a JSON object\n`);
    return undefined;
  }
  return q as Record<string, unknown>;
}

export async function delegatorJson(hooks: AdminHooks, req: IncomingMessage, res: ServerResponse, url: URL, pretty: boolean): Promise<void> {
  let q: Record<string, unknown> | undefined;
  if (req.method === 'POST') {
    q = await jsonBody(req, res, 'Malformed delegation request');
    if (q === undefined) return;
  } else {
    req.resume();
    const p = url.searchParams;
    q = { namespace: p.get('namespace') ?? undefined, dtab: p.get('dtab') ?? undefined, path: p.get('path') ?? undefined };
  }
  const { namespace, dtab, path } = q;
  if (typeof path !== 'string' || (dtab !== undefined && typeof dtab !== 'string') || (namespace !== undefined && namespace !== null && typeof namespace !== 'string')) {
    sendText(res, 400, 'Malformed delegation request: path (a string) is required; dtab and namespace are strings\n');
    return;
  }
  answer(res, await hooks.delegate((namespace as string | null | undefined) ?? undefined, (dtab as string | undefined) ?? '', path), pretty);
}

export async function explainJson(hooks: AdminHooks, req: IncomingMessage, res: ServerResponse, pretty: boolean): Promise<void> {
  if (req.method !== 'POST') {
    req.resume();
    sendText(res, 405, 'POST a JSON object {"router", "method", "url", "headers": [[name, value], ...]}\n', { allow: 'POST' });
    return;
  }
  const q = await jsonBody(req, res, 'Malformed explain request');
  if (q === undefined) return;
  answer(res, await hooks.explain(q), pretty);
}
