// The browser tests' harness: builds the UI and zwrm, runs `zwrm dev` on a
// free loopback port with a temporary data directory, mints tokens through
// the API, and launches Debian's Chromium through playwright-core. Every
// process it starts is stopped by stop().
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = join(webDir, '..');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const inCI = !!process.env.CI && !['0', 'false', 'no'].includes(process.env.CI.toLowerCase());

/** missing says what the browser tests lack here, or '' when they can run. */
export async function missing() {
  const lacks = [];
  if (!existsSync(chromiumPath)) lacks.push(`Chromium at ${chromiumPath} (apt-get install chromium)`);
  const pkgs = ['playwright-core', 'esbuild', 'ag-grid-community', 'axe-core'].filter((pkg) => {
    try {
      import.meta.resolve(pkg); // resolves without loading; throws when not installed
      return false;
    } catch {
      return true;
    }
  });
  if (pkgs.length) lacks.push(`the npm packages ${pkgs.join(', ')} (cd web && npm ci)`);
  try {
    await run('go', ['version'], { timeout: 30_000 });
  } catch {
    lacks.push('Go (to build zwrm)');
  }
  return lacks.join('; ');
}

/**
 * browserSuite runs suite, which registers the tests named title, when this
 * machine has what the browser tests need. Otherwise it skips with a
 * message, or with CI=true fails: there a missing dependency is a failure.
 * @param {string} title
 * @param {() => void} suite
 */
export async function browserSuite(title, suite) {
  const lacking = await missing();
  if (lacking && !inCI) {
    console.log(`# skipping the browser tests: this machine lacks ${lacking}`);
    test(title, { skip: `this machine lacks ${lacking}` }, () => {});
  } else if (lacking) {
    test('the browser tests have what they need (CI=true)', () => {
      assert.fail(`this machine lacks ${lacking}; .ci/run installs Chromium and make test runs npm ci in web/`);
    });
  } else {
    suite();
  }
}

/**
 * start builds the UI and zwrm, serves it, and opens Chromium.
 * @returns {Promise<Harness>}
 */
export async function start() {
  const h = new Harness();
  try {
    await h.start();
  } catch (err) {
    await h.stop();
    throw err;
  }
  return h;
}

export class Harness {
  tmp = '';
  base = '';
  /** @type {import('node:child_process').ChildProcess | null} */
  server = null;
  /** @type {import('playwright-core').Browser | null} */
  browser = null;
  superadmin = '';
  serverLog = '';

  async start() {
    this.tmp = await mkdtemp(join(tmpdir(), 'zwrm-web-'));
    const { build } = await import('../build.mjs');
    await build({ quiet: true }); // embed the current source
    const bin = join(this.tmp, 'zwrm');
    await run('go', ['build', '-o', bin, './cmd/zwrm'], { cwd: repoDir, timeout: 300_000 });

    const data = join(this.tmp, 'data');
    this.server = spawn(bin, ['dev', '--addr', '127.0.0.1:0', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    process.once('exit', () => this.server?.kill('SIGKILL'));
    this.server.stderr.on('data', (b) => {
      this.serverLog = (this.serverLog + b.toString()).slice(-20_000);
    });
    this.base = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`zwrm dev did not say where it serves within 30s:\n${out}\n${this.serverLog}`)), 30_000);
      this.server.stdout.on('data', (b) => {
        out += b.toString();
        const m = out.match(/serving the API on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      this.server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`zwrm dev exited (${code}):\n${out}\n${this.serverLog}`));
      });
    });
    this.superadmin = JSON.parse(await readFile(join(data, 'dev-tokens.json'), 'utf8')).superadmin;

    const { chromium } = await import('playwright-core');
    this.browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--disable-dev-shm-usage'],
      timeout: 60_000,
    });
  }

  /**
   * page opens a new browser context and page on the server, recording the
   * page's console errors, errors and CSP violations in problems, and, when
   * given, its requests ("METHOD URL") and response bodies.
   * @param {{viewport?: {width: number, height: number}, colorScheme?: 'light' | 'dark', clipboard?: boolean,
   *   problems: string[], received?: Promise<any>[], requested?: string[]}} opts
   */
  async page({ viewport = { width: 1280, height: 800 }, colorScheme, clipboard = false, problems, received, requested }) {
    const context = await this.browser.newContext({ viewport, colorScheme, baseURL: this.base, reducedMotion: 'reduce' });
    if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.base });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    if (requested) page.on('request', (r) => requested.push(`${r.method()} ${r.url()}`));
    if (received) {
      page.on('response', (r) => {
        received.push(r.body().then((b) => ({ url: r.url(), body: b.toString('utf8') }), () => null));
      });
    }
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    return page;
  }

  /** api calls the API from the test itself (not the page). */
  async api(method, path, token, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** user mints a user token with this role and returns {token, id}. */
  async user(subject, name, role) {
    const t = await this.api('POST', '/v1/tokens', this.superadmin, { kind: 'user', subject, name, role });
    return { token: t.token, id: t.id, name };
  }

  async stop() {
    await this.browser?.close().catch(() => {});
    this.browser = null;
    const srv = this.server;
    if (srv && srv.exitCode === null && srv.signalCode === null) {
      const exited = new Promise((resolve) => srv.once('exit', resolve));
      srv.kill('SIGTERM');
      const timer = setTimeout(() => srv.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    this.server = null;
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }
}

/**
 * expectAccessible runs axe-core on the page as it is now and fails on any
 * serious or critical violation, naming the rule and the elements. label
 * says which screen and state was checked.
 * @param {import('playwright-core').Page} page
 * @param {string} label
 */
export async function expectAccessible(page, label) {
  const source = await readFile(join(webDir, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof globalThis.axe === 'object'))) {
    await page.evaluate(source); // through the debugger protocol: the page's CSP allows no inline script
  }
  const result = await page.evaluate(async () => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    [],
    `accessibility of ${label}`,
  );
}

/**
 * signIn signs page in with token and waits for the grid's count.
 * @param {import('playwright-core').Page} page
 * @param {string} token
 */
export async function signIn(page, token) {
  await page.goto('/');
  await page.locator('#token').fill(token);
  await page.locator('#signin-submit').click();
  await page.locator('#secrets-view').waitFor({ state: 'visible' });
  await page.locator('#count').filter({ hasText: /secret/ }).waitFor();
}

/**
 * row is the grid row of the secret named name (exactly).
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export const row = (page, name) => page.locator('#grid .ag-row', { has: page.locator('[col-id="name"]', { hasText: new RegExp(`^${name}$`) }) });
