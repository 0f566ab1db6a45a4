// Hostile input: the read functions sit on the request path (`l5d-dtab` headers), so whatever a
// client sends must come back as a value or a DtabParseError, never another exception, a stack
// overflow or a hang, and parse time must grow linearly with the input.

import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  DtabParseError,
  MAX_NESTING,
  readDentry,
  readDtab,
  readNameTree,
  readPath,
  readPrefix,
  showPathTree,
} from '../../src/dtab/index.ts';
import { xorshift32 } from '../support/inputs.ts';

type Reader = (text: string) => unknown;

const READERS: Record<string, Reader> = { readDtab, readNameTree, readPath, readPrefix, readDentry };

/** Short description of an input for messages: long inputs are clipped. */
function describeInput(text: string): string {
  return text.length <= 120 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 60))}... (${text.length} chars)`;
}

/**
 * Runs `read` on `text` and requires a value or a DtabParseError whose offset lies within the
 * input. Returns the error, or undefined when the text parsed.
 */
function outcome(name: string, read: Reader, text: string): DtabParseError | undefined {
  try {
    read(text);
    return undefined;
  } catch (e) {
    if (!(e instanceof DtabParseError)) {
      assert.fail(`${name}(${describeInput(text)}) threw ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 200)}` : String(e)}, not a DtabParseError`);
    }
    assert.ok(
      Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= text.length,
      `${name}(${describeInput(text)}) reported offset ${e.offset}, outside [0, ${text.length}]`,
    );
    assert.equal(e.input, text, `${name}(${describeInput(text)}) reported a different input text`);
    return e;
  }
}

/** Every reader must return or throw DtabParseError on `text`. */
function survivesAll(text: string): void {
  for (const [name, read] of Object.entries(READERS)) outcome(name, read, text);
}

/** `read` must reject `text` with a DtabParseError; returns it. */
function rejected(name: string, read: Reader, text: string): DtabParseError {
  const e = outcome(name, read, text);
  assert.ok(e !== undefined, `${name}(${describeInput(text)}) accepted the input, expected a DtabParseError`);
  return e;
}

function nested(depth: number, inner = '/a'): string {
  return '('.repeat(depth) + inner + ')'.repeat(depth);
}

describe('random bytes', () => {
  test('random byte strings up to 64 KiB, read as latin1 and as UTF-8, never escape as other exceptions', () => {
    const next = xorshift32(0xb17e5);
    const sizes = [0, 1, 2, 3, 7, 16, 64, 255, 1024, 4096, 65536];
    for (let round = 0; round < 300; round++) sizes.push(next() % 2048);
    for (const size of sizes) {
      const buf = Buffer.alloc(size);
      for (let i = 0; i < size; i++) buf[i] = next() & 0xff;
      survivesAll(buf.toString('latin1'));
      survivesAll(buf.toString('utf8'));
    }
  });

  test('random text drawn from the grammar characters up to 64 KiB never escapes as other exceptions', () => {
    const next = xorshift32(0x9a77a4);
    const alphabet = '/*=>;|&()!~$#\\x.05az \n\u00a0';
    for (const size of [64, 512, 4096, 65536]) {
      for (let round = 0; round < 4; round++) {
        let s = '';
        for (let i = 0; i < size; i++) s += alphabet[next() % alphabet.length];
        survivesAll(s);
      }
    }
  });
});

describe('unbalanced and deeply nested parentheses', () => {
  test('10,000 opening parentheses, 10,000 closing ones and a mix are rejected', () => {
    const next = xorshift32(0x7a7e);
    let mixed = '';
    for (let i = 0; i < 10_000; i++) mixed += next() % 2 === 0 ? '(' : ')';
    for (const text of ['('.repeat(10_000), ')'.repeat(10_000), mixed, '/a=>' + '('.repeat(10_000), '('.repeat(10_000) + '/a']) {
      for (const [name, read] of Object.entries(READERS)) rejected(name, read, text);
    }
  });

  test('10,000 parentheses around a path are a DtabParseError at the first parenthesis past the limit', () => {
    const text = nested(10_000);
    const e = rejected('readNameTree', readNameTree, text);
    assert.equal(text[e.offset], '(', `the error offset ${e.offset} does not point at a '('`);
    assert.equal(e.offset, MAX_NESTING, 'the error is not at the first parenthesis beyond MAX_NESTING');
    for (const [name, read, input, start] of [
      ['readDentry', readDentry, '/x=>' + text, 4],
      ['readDtab', readDtab, '/y=>/z;/x=>' + text, 11],
      ['readDtab', readDtab, '/x=>' + '1*('.repeat(10_000) + '/a' + ')'.repeat(10_000), 4],
    ] as const) {
      const err = rejected(name, read, input);
      assert.equal(input[err.offset], '(', `${name}: the error offset ${err.offset} does not point at a '('`);
      assert.ok(err.offset > start, `${name}: the error offset ${err.offset} is before the nesting starts`);
    }
  });

  test('exactly MAX_NESTING levels parse and MAX_NESTING + 1 levels are rejected', () => {
    assert.equal(MAX_NESTING, 100);
    const ok = readNameTree(nested(MAX_NESTING));
    assert.equal(showPathTree(ok), '/a', `${MAX_NESTING} parentheses around /a do not read as /a`);
    assert.equal(readDtab('/x=>' + nested(MAX_NESTING, '/a | /b')).show, '/x=>/a | /b');
    assert.equal(readDentry('/x=>' + nested(MAX_NESTING, '~')).show, '/x=>~');
    const e = rejected('readNameTree', readNameTree, nested(MAX_NESTING + 1));
    assert.equal(e.offset, MAX_NESTING, 'the too-deep error is not at the parenthesis past the limit');
    rejected('readDtab', readDtab, '/x=>' + nested(MAX_NESTING + 1));
    rejected('readDentry', readDentry, '/x=>' + nested(MAX_NESTING + 1));
  });

  test('nesting depth is counted per group, so many groups at the limit side by side parse', () => {
    const group = nested(MAX_NESTING, '/a & 2*' + nested(0, '/b'));
    const text = Array.from({ length: 200 }, () => group).join(' | ');
    const tree = readNameTree(text);
    assert.equal(tree.kind, 'alt');
    assert.equal(tree.kind === 'alt' ? tree.trees.length : 0, 200, 'the groups did not read as 200 alternatives');
  });

  test('a rejected too-deep input leaves the parser able to parse the next input', () => {
    rejected('readNameTree', readNameTree, nested(MAX_NESTING + 1));
    assert.equal(showPathTree(readNameTree(nested(MAX_NESTING, '/b'))), '/b');
    rejected('readDtab', readDtab, '/x=>' + '('.repeat(5000));
    assert.equal(readDtab('/x=>(/a)').show, '/x=>/a');
  });
});

describe('large and malformed text', () => {
  test('a 50,000-entry dtab parses with all its entries', () => {
    const entries = Array.from({ length: 50_000 }, (_, i) => `/svc/s${i} => /srv/a${i % 7} | 0.5*/b & /c`);
    const dtab = readDtab(entries.join(';\n') + ';');
    assert.equal(dtab.size, 50_000);
    assert.equal(dtab.dentries[49_999]!.show, '/svc/s49999=>/srv/a5 | 0.50*/b & /c');
  });

  test('invalid escapes are rejected at the faulty character by every reader', () => {
    const cases: [string, string][] = [
      ['\\', "'x'"],
      ['\\x', 'hex char'],
      ['\\xg1', 'hex char'],
      ['\\X41', "'x'"],
      ['\\x4', 'hex char'],
    ];
    for (const [escape, expected] of cases) {
      const inPath = '/a' + escape;
      const inDtab = '/svc=>/b' + escape;
      for (const [name, read, text] of [
        ['readPath', readPath, inPath],
        ['readPrefix', readPrefix, inPath],
        ['readNameTree', readNameTree, inPath],
        ['readNameTree', readNameTree, '/x | 2*/a' + escape + ' & /y'],
        ['readDentry', readDentry, inDtab],
        ['readDtab', readDtab, inDtab],
        ['readDtab', readDtab, '/svc' + escape + '=>/b'],
      ] as const) {
        const e = rejected(name, read, text);
        assert.equal(e.expected, expected, `${name}(${JSON.stringify(text)}) expected ${e.expected}, not ${expected}`);
        const at = text.indexOf('\\');
        assert.ok(e.offset > at && e.offset <= at + 3, `${name}(${JSON.stringify(text)}) reported offset ${e.offset}, not inside the escape`);
      }
      // A bare escape with no path around it is not a tree at all.
      for (const [name, read] of Object.entries(READERS)) rejected(name, read, escape);
    }
  });

  test('non-ASCII characters are rejected, including look-alike spaces and digits', () => {
    const cases: [string, Reader, string][] = [
      ['readPath', readPath, '/é'],
      ['readPath', readPath, '/caf\u00e9'],
      ['readPath', readPath, '/a/\ud83d\ude00'],
      ['readNameTree', readNameTree, '/a | /\ud83d\ude00'],
      ['readDtab', readDtab, '/\ud83d\ude00=>/a'],
      ['readPath', readPath, '/a\u00a0'], // NBSP is not whitespace
      ['readNameTree', readNameTree, '/a\u00a0| /b'],
      ['readDtab', readDtab, '/a=>/b;\u00a0/c=>/d'],
      ['readNameTree', readNameTree, '/a\u2007| /b'], // figure space is not whitespace
      ['readDtab', readDtab, '\ufeff/a=>/b'], // a byte-order mark is not whitespace
      ['readNameTree', readNameTree, '\ufeff/a'],
      ['readNameTree', readNameTree, '\u0663*/a'], // Arabic-Indic digit as a weight
      ['readNameTree', readNameTree, '\u0663*/a & /b'],
      ['readNameTree', readNameTree, '1\u0663*/a'], // inside a weight
      ['readNameTree', readNameTree, '/b & 1\u0663*/a'],
      ['readDtab', readDtab, '/x=>\u0663*/a'],
      ['readDtab', readDtab, '/x=>1\u0663*/a & /b'],
      ['readDentry', readDentry, '/x=>1\u0663*/a & /b'],
    ];
    for (const [name, read, text] of cases) rejected(name, read, text);
    // Outside a comment, no token takes these characters, so every reader rejects them anywhere.
    for (const c of ['é', '\ud83d\ude00', '\u00a0', '\u2007', '\u202f', '\ufeff', '\u0663']) {
      for (const text of ['/a' + c, '/a' + c + '/b', c + '/a', '/a=>/b' + c, '/a' + c + '=>/b', '/a=>' + c + '/b', '/a=>/b | ' + c, '/a=>/b;' + c]) {
        for (const [name, read] of Object.entries(READERS)) rejected(name, read, text);
      }
      const e = rejected('readPath', readPath, '/a' + c);
      assert.equal(e.offset, 2, `readPath(${JSON.stringify('/a' + c)}) is not rejected at the character itself`);
    }
    const e = rejected('readNameTree', readNameTree, '1\u0663*/a & /b');
    assert.equal(e.offset, 1, 'a non-ASCII digit inside a weight is not reported at its own position');
    // Java whitespace outside ASCII is accepted, so the rejections above are about the characters.
    assert.equal(showPathTree(readNameTree('/a\u3000|\u2000/b\u205f')), '/a | /b');
  });

  test('lone surrogates are rejected wherever they stand', () => {
    for (const text of ['\ud800', '\udc00', '/a\ud800', '/a\udc00/b', '/a=>/b\ud800', '/a=>\udfff/b', '\ud800/a=>/b', '/a | \ud800']) {
      for (const [name, read] of Object.entries(READERS)) rejected(name, read, text);
    }
  });
});

describe('parse time grows linearly with the input', () => {
  function repeatTo(unit: string, bytes: number): string {
    return unit.repeat(Math.max(1, Math.round(bytes / unit.length)));
  }

  /** Median time of `runs` calls to `f`, in milliseconds. */
  function median(f: () => void, runs: number): number {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      f();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[times.length >> 1]!;
  }

  /**
   * Per-byte cost of the large input over that of the small one. The small input is parsed in
   * batches the size of the large one, so both timings are long enough to measure. Linear
   * parsing gives about 1; quadratic parsing gives about 64 for 64x the input.
   */
  function perByteRatio(read: Reader, small: string, large: string): number {
    const call = (text: string) => () => {
      try {
        read(text);
      } catch (e) {
        if (!(e instanceof DtabParseError)) throw e;
      }
    };
    const batch = Math.max(1, Math.round(large.length / small.length));
    const runSmall = call(small);
    const runLarge = call(large);
    const smallBatch = (): void => {
      for (let i = 0; i < batch; i++) runSmall();
    };
    for (let i = 0; i < 5; i++) {
      smallBatch();
      runLarge();
    }
    const tSmall = median(smallBatch, 15);
    const tLarge = median(runLarge, 15);
    return tLarge / large.length / (tSmall / (batch * small.length));
  }

  /** The ratio must stay under 4; on a busy machine it is measured up to three times. */
  function assertLinear(t: TestContext, label: string, read: Reader, small: string, large: string): void {
    const ratios: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = perByteRatio(read, small, large);
      ratios.push(r);
      if (r < 4) {
        t.diagnostic(`${label}: per-char cost ratio ${r.toFixed(2)} (${large.length} vs ${small.length} chars)`);
        return;
      }
    }
    assert.fail(
      `${label}: ${large.length} chars cost ${Math.min(...ratios).toFixed(2)}x more per char than ${small.length} chars (ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}); parsing is not linear`,
    );
  }

  const DENTRY = '/svc/s123 => /srv/a | 0.5*/b & /c;';

  test('a dtab of repeated dentries parses in linear time', (t) => {
    const small = repeatTo(DENTRY, 1024);
    const large = repeatTo(DENTRY, 65536);
    assert.equal(readDtab(large).size, large.length / DENTRY.length);
    assertLinear(t, 'repeated dentries', readDtab, small, large);
  });

  test('a tree of groups nested to the limit parses in linear time', (t) => {
    const group = nested(MAX_NESTING - 1, '/a & 2*(/b | ~)'); // the inner group is level MAX_NESTING
    const shape = (bytes: number): string => repeatTo(group + ' | ', bytes) + '$';
    const small = shape(1024);
    const large = shape(65536);
    readNameTree(large);
    assertLinear(t, 'nested groups', readNameTree, small, large);
  });

  test('a dtab that fails at its very last character is rejected in linear time', (t) => {
    const shape = (bytes: number): string => repeatTo(DENTRY, bytes) + ';';
    const small = shape(1024);
    const large = shape(65536);
    const e = rejected('readDtab', readDtab, large);
    assert.equal(e.offset, large.length - 1, 'the error is not at the last character');
    assertLinear(t, 'failure at the end', readDtab, small, large);
  });

  test('a long alternation failing at its end and a long escaped path parse in linear time', (t) => {
    const alts = (bytes: number): string => repeatTo('/a | ', bytes) + '/b/';
    assertLinear(t, 'alternation failing at the end', readNameTree, alts(1024), alts(65536));
    const path = (bytes: number): string => repeatTo('/a\\x2f', bytes);
    assertLinear(t, 'escaped path', readPath, path(1024), path(65536));
  });
});
