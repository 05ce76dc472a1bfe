// Browser tests: the real platform listening on a port, driven by Debian's Chromium through
// playwright-core (never a downloaded browser). `.ci/run` installs Chromium when it is missing.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { adminAuth, testPlatform, type TestPlatform } from '../helpers.js';
import type { PlatformOptions } from '../../src/platform.js';
import type { Config } from '../../src/kernel/config.js';

export const CHROMIUM = process.env['PLINTH_CHROMIUM'] ?? '/usr/bin/chromium';
/** Screenshots of every page the tests visit: CI keeps this folder as the tests' artifacts. */
export const SCREENSHOT_DIR = path.resolve('test-artifacts', 'screenshots');

export type ServedPlatform = {
  platform: TestPlatform;
  /** `http://127.0.0.1:<port>` */
  url: string;
  admin: Record<string, string>;
  /** The last one-time password sent to each mobile number (what the citizen would read in the SMS). */
  otp(mobileNumber: string): string;
  close(): Promise<void>;
};

/** The platform (with its demo seed and the built web apps) listening on a free loopback port. */
export async function servePlatform(options: PlatformOptions & { config?: Partial<Config> } = {}): Promise<ServedPlatform> {
  const otps = new Map<string, string>();
  const platform = await testPlatform({
    ...options,
    otpSink: {
      async send(message) {
        otps.set(message.mobileNumber, message.code);
      },
    },
  });
  if (!fs.existsSync(path.join(platform.config.webDir, 'index.html'))) throw new Error(`the web apps are not built in ${platform.config.webDir}`);
  // testPlatform has started it (workers, change polling): only the socket is left to open.
  await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const address = platform.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const admin = await adminAuth(platform);
  return {
    platform,
    url: `http://127.0.0.1:${address.port}`,
    admin,
    otp(mobileNumber) {
      const code = otps.get(mobileNumber);
      if (!code) throw new Error(`no OTP was sent to ${mobileNumber}`);
      return code;
    },
    async close() {
      // Sockets the test's own fetches left open (a body not read) would hold app.close() forever.
      platform.app.server.closeAllConnections();
      await platform.drop();
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A fresh browser profile sized like a cheap phone (360 px wide), in English unless told. */
export async function phoneContext(browser: Browser, baseURL: string, locale = 'en-IN'): Promise<BrowserContext> {
  return browser.newContext({ baseURL, viewport: { width: 360, height: 740 }, deviceScaleFactor: 1, locale, isMobile: true, hasTouch: true });
}

/** A desktop-sized profile, for employees and officials. */
export async function desktopContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  return browser.newContext({ baseURL, viewport: { width: 1280, height: 860 }, locale: 'en-IN' });
}

/** Writes a full-page screenshot `<name>.png` to the artifacts folder. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Fails the test on any uncaught error in the page (a crashed page must not pass silently). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
