/**
 * Debian's Chromium, headless, for the browser tests and the console's benchmark scripts, driven
 * by playwright-core (no browser download). The flags keep it off the network it must not reach:
 * no background requests, component updates, sync or first-run pages; `--no-sandbox` because
 * tests run as root. Each launch gets a fresh profile, removed when it closes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env['PACKAGE_INDEXER_CHROMIUM'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface HeadlessChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** A browser with a fresh profile; the viewport is a common laptop's. */
export async function launchChromium(viewport = { width: 1440, height: 900 }): Promise<HeadlessChromium> {
  const profile = mkdtempSync(path.join(tmpdir(), 'console-chromium-'));
  // playwright passes the profile as --user-data-dir itself
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS], viewport });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
