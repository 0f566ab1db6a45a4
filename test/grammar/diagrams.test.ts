// The committed railroad diagrams are generated from the parser and must not drift from it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DIAGRAMS_FILE, renderDiagrams } from '../../grammar/scripts/diagrams.ts';

test('grammar/diagrams.html is what `npm run diagrams` generates from the current parser', () => {
  assert.equal(readFileSync(DIAGRAMS_FILE, 'utf8'), renderDiagrams(), 'run `npm run diagrams` and commit the result');
});

test('the diagrams page loads nothing from the network', () => {
  const html = readFileSync(DIAGRAMS_FILE, 'utf8');
  // URLs in the vendored scripts' comments are fine; anything that would load one is not.
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|url\(\s*['"]?https?:|<img[^>]+src=/i);
});
