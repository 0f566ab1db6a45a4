// The export thread's writer to a scraper's socket, driven here on real loopback TCP
// connections: the body arrives whole and framed as HTTP/1.1 chunks through a full send buffer,
// a reader that stops or resets is given up with a reason and nothing more written, and a
// descriptor that no longer names its socket is never written to.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FdWriter, type SocketTarget } from '../../src/metrics/fd-writer.ts';
import { readAll, type SocketPair, socketPair, unchunk } from '../support/socket-pair.ts';

const pairs: SocketPair[] = [];
after(() => {
  for (const p of pairs) p.close();
});

async function pair(): Promise<SocketPair> {
  const p = await socketPair();
  pairs.push(p);
  return p;
}

/** A body of `n` chunks of 64 KiB, each filled with its own byte. */
function body(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(64 * 1024, 65 + (i % 26)));
}

function writer(to: SocketTarget, stallMs: number): { w: FdWriter; done: Promise<string | undefined>; alive: () => number } {
  let alive = 0;
  let told: (e: string | undefined) => void = () => {};
  const done = new Promise<string | undefined>((resolve) => (told = resolve));
  const w = new FdWriter(to, stallMs, { done: (e) => told(e), alive: () => alive++ });
  return { w, done, alive: () => alive };
}

describe('writing a scrape straight to a socket', () => {
  test('a body larger than the send buffer arrives whole, in chunks, while the writer never blocks', async () => {
    const { server, to, client } = await pair();
    const chunks = body(400); // 25 MiB: many times a loopback socket's buffers
    const want = Buffer.concat(chunks);
    const { w, done } = writer(to, 10_000);
    const t0 = performance.now();
    for (const c of chunks) w.out(c);
    w.end();
    // The reader has read nothing yet: the rest waits in the writer, which returned at once.
    assert.ok(performance.now() - t0 < 2000, 'out() and end() return without waiting on the reader');
    const reading = readAll(client);
    assert.equal(await done, undefined);
    server.destroy();
    const sizes: number[] = [];
    const got = unchunk(await reading, sizes);
    assert.equal(got.length, want.length);
    assert.ok(got.equals(want), 'the bytes, in order');
    // One HTTP chunk per chunk given: each went out in a write of its own (and its framing).
    assert.deepEqual(sizes, chunks.map((c) => c.length));
  });

  test('a reader that reads slowly is waited for and told of (alive), not given up', async () => {
    const { server, to, client } = await pair();
    const { w, done, alive } = writer(to, 2000);
    for (const c of body(200)) w.out(c);
    w.end();
    // Reads a little, a few times a second, for about two seconds, then the rest.
    let got = 0;
    client.on('data', (c: Buffer) => {
      got += c.length;
      client.pause();
    });
    const slow = setInterval(() => client.resume(), 100);
    setTimeout(() => {
      clearInterval(slow);
      client.removeAllListeners('data');
      client.on('data', (c: Buffer) => (got += c.length));
      client.resume();
    }, 2200);
    assert.equal(await done, undefined);
    assert.ok(alive() >= 1, `alive told while waiting (${alive()})`);
    server.destroy();
    await new Promise((r) => client.on('close', r));
    assert.ok(got > 200 * 64 * 1024, 'everything arrived');
  });

  test('alive is told as chunks are given, at most twice per stall time', async () => {
    const { to, client } = await pair();
    void readAll(client);
    const { w, done, alive } = writer(to, 100);
    // A chunk every 10 ms for about 300 ms, as the thread gives them while it writes the text.
    const started = Date.now();
    for (let i = 0; i < 30; i++) {
      w.out(Buffer.alloc(1000, 97));
      await new Promise((r) => setTimeout(r, 10));
    }
    w.end();
    const elapsed = Date.now() - started;
    assert.equal(await done, undefined);
    assert.ok(alive() >= 3, `told ${alive()} times in ${elapsed} ms`);
    assert.ok(alive() <= Math.floor(elapsed / 50) + 1, `told ${alive()} times in ${elapsed} ms: more often than every 50 ms`);
  });

  test('a reader that takes nothing for the stall time is given up, and nothing more is written', async () => {
    const { server, to, client } = await pair();
    const { w, done } = writer(to, 300);
    const t0 = performance.now();
    for (const c of body(400)) w.out(c);
    w.end();
    const error = await done;
    assert.match(error ?? '', /took nothing for 300 ms/);
    assert.ok(performance.now() - t0 >= 290);
    w.out(Buffer.alloc(10));
    w.end();
    // What was in the socket's buffers arrives; nothing after it.
    let got = 0;
    client.on('data', (c: Buffer) => (got += c.length));
    client.resume();
    await new Promise((r) => setTimeout(r, 200));
    const at = got;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(got, at);
    assert.ok(got < 400 * 64 * 1024, `a part of the body (${got} bytes)`);
    server.destroy();
  });

  test('a reader that resets the connection mid-body ends the write with the reason', async () => {
    const { server, to, client } = await pair();
    const { w, done } = writer(to, 10_000);
    for (const c of body(400)) w.out(c);
    client.resetAndDestroy();
    w.end();
    assert.match((await done) ?? '', /writing to the connection: (EPIPE|ECONNRESET)/);
    server.destroy();
  });

  test('a descriptor that no longer names the socket it was given is not written to', async () => {
    const { server, to, client } = await pair();
    const { w, done } = writer({ fd: to.fd, ino: to.ino + 1 }, 10_000);
    w.out(Buffer.from('never'));
    w.end();
    assert.equal(await done, 'the connection is gone');
    server.destroy();
    assert.equal((await readAll(client)).length, 0, 'nothing was written');
  });

  test('an aborted write tells done once, with the reason, and writes nothing more', async () => {
    const { server, to, client } = await pair();
    const { w, done } = writer(to, 10_000);
    w.out(Buffer.from('first'));
    w.abort('the export failed');
    w.out(Buffer.from('second'));
    w.end();
    assert.equal(await done, 'the export failed');
    server.destroy();
    assert.equal((await readAll(client)).toString('latin1'), '5\r\nfirst\r\n', 'the first chunk went out as it came, and nothing after the abort');
  });
});
