// Headless Chromium (Debian's, at /usr/bin/chromium) for the admin UI tests, driven by
// playwright-core: launching it, a page in a context of its own that records console errors
// and uncaught exceptions, and the selectors and reads the tests share.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots go (the repository's .artifacts/, made when missing). */
export const ARTIFACTS = fileURLToPath(new URL('../../.artifacts/', import.meta.url));

/** Chromium, which must be installed: a missing browser fails the test, it is not skipped. */
export function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

export interface OpenPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught exceptions, as they come. */
  readonly errors: string[];
}

/** A 1280x800 page in a fresh context (its own storage) at `url`; `init` runs in it before the page's own scripts. */
export async function openPage(browser: Browser, url: string, init?: string): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (init !== undefined) await context.addInitScript(init);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { context, page, errors };
}

/** The selector of the element a test reaches by its `data-testid`. */
export const tid = (id: string): string => `[data-testid="${id}"]`;

/** The trimmed text of the first element `selector` finds. */
export async function textOf(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}
