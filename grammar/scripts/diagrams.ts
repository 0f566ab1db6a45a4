// Writes grammar/diagrams.html: railroad diagrams of the dtab grammar, generated from the
// parser itself, so they cannot drift from it. Chevrotain's page loads its scripts from a CDN;
// here they are inlined from the installed package so the page works offline.
//
//   npm run diagrams

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSyntaxDiagramsCode } from 'chevrotain';
import { DtabParser } from '../parser.ts';

/** The installed chevrotain package's folder (its package.json is not exported). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('chevrotain')));
  while (!existsSync(join(dir, 'diagrams', 'diagrams.css'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('chevrotain diagrams folder not found');
    dir = up;
  }
  return dir;
}
const diagramsDir = join(packageRoot(), 'diagrams');
const RESOURCE = 'chevrotain-diagrams/';
const CSS = 'chevrotain-diagrams/diagrams.css';

/** The diagrams page for the current parser, as text. */
export function renderDiagrams(): string {
  const serialized = new DtabParser().getSerializedGastProductions();
  let html = createSyntaxDiagramsCode(serialized, { resourceBase: RESOURCE, css: CSS });

  // Inline every script and the stylesheet.
  html = html.replace(/<script src='chevrotain-diagrams\/([^']+)'><\/script>/g, (_m, file: string) => {
    const code = readFileSync(join(diagramsDir, file), 'utf8');
    return `<script>\n/* ${file}, from the chevrotain package (Apache-2.0) */\n${code.replace(/<\/script/gi, '<\\/script')}\n</script>`;
  });
  html = html.replace(`<link rel='stylesheet' href='${CSS}'>`, `<style>\n${readFileSync(join(diagramsDir, 'diagrams.css'), 'utf8')}\n</style>`);
  html = html.replace(
    '<div id="diagrams" align="center"></div>',
    `<h1 style="font-family: sans-serif; text-align: center">The dtab grammar</h1>
  <p style="font-family: sans-serif; text-align: center">Start rules: pathAll (Path.read), prefixAll, treeAll (NameTree.read),
  dentryAll (Dentry.read), dtabAll (Dtab.read). Paths, prefixes, weights and <code>=&gt;</code> are single tokens;
  see grammar/README.md for what is inside them.</p>
  <div id="diagrams" align="center"></div>`,
  );
  if (html.includes('unpkg.com') || html.includes("src='chevrotain-diagrams")) throw new Error('an external resource was left in the page');
  return html;
}

/** Where the page is committed. */
export const DIAGRAMS_FILE = fileURLToPath(new URL('../diagrams.html', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const html = renderDiagrams();
  writeFileSync(DIAGRAMS_FILE, html);
  console.log(`wrote ${DIAGRAMS_FILE} (${html.length} bytes)`);
}
