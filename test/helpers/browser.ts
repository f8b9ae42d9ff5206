// A real Chromium for the console's browser test, driven by playwright-core (the library only: no bundled
// browsers, no test runner). Debian's chromium at /usr/bin/chromium, or CHROMIUM_PATH.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');

// Without the background-networking flags Chromium keeps trying to reach Google's services.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The console browser test needs it: .ci/run installs it ` +
        `(Debian's package: apt-get install -y chromium fonts-noto-cjk), or set CHROMIUM_PATH to another Chromium.`,
    );
  }
  let pw: typeof import('playwright-core');
  try {
    pw = await import('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed: it is a devDependency, run npm ci (.ci/run does).');
  }
  return pw.chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Uncaught exceptions and alert()s on the page; a clean page keeps both empty. */
  problems: string[];
  shot(name: string): Promise<void>;
}

export interface OpenOptions {
  as: string;
  chat: string;
  token?: string;
  viewport?: { width: number; height: number };
  mobile?: boolean;
}

/** Opens /console as one person in one chat, in its own context (own storage, like another phone). */
export async function openConsole(browser: Browser, baseUrl: string, o: OpenOptions): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: o.viewport ?? { width: 1280, height: 800 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    ...(o.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  const q = new URLSearchParams({ as: o.as, chat: o.chat, ...(o.token ? { token: o.token } : {}) });
  await page.goto(`${baseUrl}/console?${q}`);
  // Live: the event stream is open before the test acts, so nothing posted from now on can be missed.
  await page.getByRole('status').filter({ hasText: '已连接' }).waitFor({ timeout: 10_000 });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    page,
    context,
    problems,
    shot: async (name) => {
      await page.waitForTimeout(400); // the board refreshes within 300 ms of an event: let it settle for the picture
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
    },
  };
}

/** Waits until the locator's first match is visible (playwright-core has no auto-retrying expect). */
export async function visible(l: Locator, timeout = 10_000): Promise<Locator> {
  await l.first().waitFor({ state: 'visible', timeout });
  return l.first();
}

/** The message list of a page and its items, by role and accessible name. */
export function messages(page: Page) {
  return page.getByRole('list', { name: '消息', exact: true }).getByRole('listitem');
}

/** Pixels the document is wider than the viewport (0 = no horizontal scroll). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(
    () => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth,
  );
}

/** A task number in page text: "#1" must not match "#12". */
export const taskRef = (id: number) => new RegExp(`#${id}(?!\\d)`);

/** Types into the chat box and sends; resolves once the sender sees their own message. */
export async function say(p: ConsolePage, text: string): Promise<void> {
  await p.page.getByRole('textbox', { name: '输入消息' }).fill(text);
  await p.page.getByRole('button', { name: '发送', exact: true }).click();
  await visible(messages(p.page).filter({ hasText: text }));
}

/** Closes every page opened and the browser (afterAll; tolerates a browser that never started). */
export async function closeBrowser(browser: Browser | undefined, pages: ConsolePage[]): Promise<void> {
  for (const p of pages) await p.context.close().catch(() => {});
  await browser?.close();
}
