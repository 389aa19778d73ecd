// How the page looks and what it weighs, in a real browser: the transferred
// size of a first load, light and dark themes (following the system, or the
// Theme control, remembered), no name or owner cut at 1280 and 390 px with a
// compact bar on a phone, axe-core in each of those, and the screenshots in
// docs/ (written there with UPDATE_SCREENSHOTS=1, to a temporary directory
// otherwise, so that their setups are tested either way).
//
// Without Chromium, the npm packages or Go this file skips with a message;
// with CI=true it fails instead.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { browserSuite, expectAccessible, repoDir, row, signIn, start } from './harness.mjs';

await browserSuite('look and weight in Chromium', suite);

// What a first load may transfer: page, script, styles and icon.
const FIRST_LOAD_BUDGET = 300_000;
const LONG = 'STRIPE_API_KEY_FOR_THE_EUROPEAN_PAYMENTS_ACCOUNT_LIVE';
const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

function suite() {
  /** @type {import('./harness.mjs').Harness} */
  let h;
  let shots = '';
  const users = {};
  const problems = [];

  before(async () => {
    h = await start();
    users.admin = await h.user('ada@dev.local', 'Ada Admin', 'admin');
    users.owner = await h.user('maximilian.owner@dev.local', 'Maximilian Longfellow-Owner', 'member');
    const su = h.superadmin;
    await h.api('POST', '/v1/secrets', users.owner.token, { name: LONG, description: 'Stripe, EU account', values: { development: 'sk_test_0123456789abcdef', staging: 'sk_test_fedcba9876543210' } });
    await h.api('POST', '/v1/secrets', su, { name: 'DATABASE_URL', description: 'Primary Postgres', values: { development: 'postgres://dev-0123456789', production: 'postgres://prod-0123456789' } });
    await h.api('POST', '/v1/secrets', su, { name: 'SENTRY_DSN', description: 'Error reporting', values: { development: 'https://a@sentry.example/1', staging: 'https://b@sentry.example/1', production: 'https://c@sentry.example/1' } });
    const datadog = await h.api('POST', '/v1/secrets', users.admin.token, { name: 'DATADOG_API_KEY', description: 'Metrics and traces', values: { production: 'dd-0123456789abcdef' } });
    await h.api('PUT', `/v1/secrets/${datadog.id}/rotation`, users.admin.token, { every: '30d', environments: ['production'] });
    await h.api('POST', '/v1/secrets', su, { name: 'DATABASE_URL', app: 'web', description: 'The web app\'s own database', values: { production: 'postgres://web-prod-0123456789' } });
    shots = process.env.UPDATE_SCREENSHOTS === '1' ? join(repoDir, 'docs') : await mkdtemp(join(tmpdir(), 'zwrm-shots-'));
    await mkdir(shots, { recursive: true });
  }, { timeout: 400_000 });

  after(async () => {
    await h?.stop();
    if (shots && process.env.UPDATE_SCREENSHOTS !== '1') await rm(shots, { recursive: true, force: true });
  });

  /** @param {{viewport?: {width: number, height: number}, colorScheme?: 'light' | 'dark'}} [opts] */
  function newPage({ viewport = WIDE, colorScheme = 'light' } = {}) {
    return h.page({ viewport, colorScheme, problems });
  }


  const theme = (page) => page.evaluate(() => document.documentElement.dataset.theme);
  // The grid's background, as the person sees it: dark or light.
  const gridIsDark = (page) => page.locator('#grid .ag-root-wrapper').evaluate((el) => {
    const [r, g, b] = getComputedStyle(el).backgroundColor.match(/[\d.]+/g).map(Number);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
  });

  /** cut lists the visible name, layer, description, owner and created cells, and header labels, whose text does not fit. */
  const cut = (page) => page.evaluate(() => [...document.querySelectorAll(
    '#grid .ag-cell[col-id="name"], #grid .ag-cell[col-id="source"], #grid .ag-cell[col-id="description"], #grid .ag-cell[col-id="owner"], #grid .ag-cell[col-id="created"], #grid .ag-header-cell-text')]
    .filter((el) => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight + 1)
    .map((el) => `${el.closest('[col-id]')?.getAttribute('col-id')}: ${el.textContent} (${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`));

  test('look and weight in Chromium', { timeout: 300_000 }, async (t) => {
    await t.test(`a first load transfers at most ${FIRST_LOAD_BUDGET / 1000} KB, compressed`, async () => {
      const page = await newPage();
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      const responses = new Map();
      const sizes = new Map();
      cdp.on('Network.responseReceived', (e) => responses.set(e.requestId, e.response));
      cdp.on('Network.loadingFinished', (e) => sizes.set(e.requestId, e.encodedDataLength));
      await page.goto('/');
      await page.locator('#signin-view').waitFor();
      await page.waitForLoadState('networkidle');
      const files = [...responses].filter(([, r]) => !new URL(r.url).pathname.startsWith('/v1/'))
        .map(([id, r]) => ({ path: new URL(r.url).pathname, bytes: sizes.get(id) ?? 0, encoding: r.headers['Content-Encoding'] ?? r.headers['content-encoding'] ?? '', accepted: r.requestHeaders?.['Accept-Encoding'] ?? '' }));
      const total = files.reduce((n, f) => n + f.bytes, 0);
      console.log(`# a first load transfers ${total} bytes (${(total / 1024).toFixed(0)} KiB): ${files.map((f) => `${f.path} ${f.bytes} ${f.encoding || 'identity'}`).join(', ')}`);
      const script = files.find((f) => f.path.endsWith('.js'));
      const styles = files.find((f) => f.path.endsWith('.css'));
      assert.ok(script && styles, `loaded ${files.map((f) => f.path).join(', ')}`);
      assert.match(script.encoding, /^(br|gzip)$/, `the script is sent compressed (the browser accepts ${script.accepted})`);
      assert.match(styles.encoding, /^(br|gzip)$/, 'the styles are sent compressed');
      assert.ok(total <= FIRST_LOAD_BUDGET, `a first load transfers ${total} bytes, over ${FIRST_LOAD_BUDGET}`);
      await page.context().close();
    });

    await t.test('the assets are cached for good and the page never; each answer varies by Accept-Encoding', async () => {
      const page = await fetch(`${h.base}/`, { headers: { 'Accept-Encoding': 'br, gzip' } });
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.equal(page.headers.get('vary'), 'Accept-Encoding');
      const html = await page.text(); // fetch decodes it
      const script = html.match(/src="(\/app-[^"]+\.js)"/)[1];
      const res = await fetch(h.base + script, { headers: { 'Accept-Encoding': 'br, gzip' } });
      await res.arrayBuffer();
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('content-encoding'), 'br');
      assert.equal(res.headers.get('vary'), 'Accept-Encoding');
    });

    await t.test('the theme follows the system, and the Theme control chooses and is remembered', async () => {
      const page = await newPage({ colorScheme: 'dark' });
      await signIn(page, users.admin.token);
      const select = page.getByRole('combobox', { name: 'Theme' });
      assert.equal(await select.inputValue(), 'system');
      assert.equal(await theme(page), 'dark', 'a dark system gives the dark theme');
      assert.equal(await gridIsDark(page), true, 'and a dark grid');
      await expectAccessible(page, 'the grid in the dark theme');

      await select.selectOption('light');
      assert.equal(await theme(page), 'light');
      assert.equal(await gridIsDark(page), false, 'the grid follows the choice');
      await expectAccessible(page, 'the grid in the light theme');
      await page.reload();
      await page.locator('#count').filter({ hasText: /secret/ }).waitFor();
      assert.equal(await theme(page), 'light', 'the choice is remembered');
      assert.equal(await select.inputValue(), 'light');

      // Only the theme is in localStorage, and never the token.
      const local = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
      assert.deepEqual(local, { 'zwrm.theme': 'light' });
      assert.ok(await page.evaluate(() => JSON.stringify(sessionStorage)).then((s) => s.includes('zwrm_u_')), 'the token stays in sessionStorage');

      await select.selectOption('system');
      assert.equal(await theme(page), 'dark', 'back to the system');
      assert.equal(await page.evaluate(() => localStorage.length), 0, 'following the system needs nothing remembered');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');

      await select.selectOption('dark');
      assert.equal(await theme(page), 'dark', 'dark on a light system');
      await row(page, 'DATABASE_URL').locator('[col-id="name"]').click();
      await page.locator('#edit-dialog[open]').waitFor();
      await expectAccessible(page, 'the edit dialog in the dark theme');
      await page.keyboard.press('Escape');
      await page.context().close();
    });

    await t.test('at 1280 px no name, owner or heading is cut, at global and at an app', async () => {
      const page = await newPage();
      await signIn(page, users.admin.token);
      await row(page, LONG).waitFor();
      await settled(page);
      assert.deepEqual(await cut(page), []);
      assert.equal(await cell(page, LONG, 'owner').innerText(), 'Maximilian Longfellow-Owner');
      assert.ok(await page.evaluate(() => {
        const edge = document.querySelector('#grid .ag-root-wrapper').getBoundingClientRect().right;
        return [...document.querySelectorAll('#grid .ag-header-cell')].every((el) => el.getBoundingClientRect().right <= edge + 1);
      }), 'every column in view: no sideways scrolling in the grid');
      await atLayer(page, 'a:web', /here, \d+ inherited/);
      await settled(page);
      assert.deepEqual(await cut(page), []);
      await page.context().close();
    });

    await t.test('at 390 px no name is cut and the header and toolbar make one compact bar', async () => {
      const page = await newPage({ viewport: PHONE });
      await signIn(page, users.admin.token);
      await row(page, LONG).waitFor();
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling of the page');
      assert.deepEqual(await cut(page), []);
      const nameCell = row(page, LONG).locator('[col-id="name"]');
      assert.equal(await nameCell.innerText().then((s) => s.replace(/\s+/g, '')), LONG, 'the whole name is shown');
      const bar = await page.evaluate(() => document.querySelector('.toolbar').getBoundingClientRect().bottom);
      assert.ok(bar < PHONE.height / 4, `header and toolbar end at ${bar}px, more than a quarter of ${PHONE.height}px`);
      for (const name of ['Theme', 'Layer', 'Search', 'Add secret', 'Sign out']) {
        assert.equal(await page.getByRole(/** @type {any} */ (name === 'Add secret' || name === 'Sign out' ? 'button' : name === 'Search' ? 'searchbox' : 'combobox'), { name, exact: true }).isVisible(), true, `${name} is there`);
      }
      await expectAccessible(page, 'the grid at 390 px');
      await page.context().close();
    });

    await t.test('the screenshots in docs/ are made from the page as it is', async () => {
      for (const s of SCREENS) {
        const page = await newPage({ viewport: s.viewport ?? WIDE, colorScheme: s.colorScheme ?? 'light' });
        await signIn(page, users.admin.token);
        await s.setup(page, { h, users });
        await settled(page);
        await page.locator('#toast').waitFor({ state: 'hidden', timeout: 6_000 }).catch(() => {});
        await page.screenshot({ path: join(shots, s.name) });
        await page.context().close();
      }
    });

    assert.deepEqual(problems, [], 'no console errors, page errors or CSP violations');
  });
}

const cell = (page, name, col) => row(page, name).locator(`[col-id="${col}"]`);

/**
 * The screenshots in docs/, each made in a new page signed in as an admin
 * (1280x800 and light unless it says otherwise). A screen is one line here.
 * @type {{name: string, viewport?: {width: number, height: number}, colorScheme?: 'light' | 'dark',
 *   setup: (page: import('playwright-core').Page, ctx: {h: import('./harness.mjs').Harness, users: any}) => Promise<void>}[]}
 */
const SCREENS = [
  { name: 'ui-effective.png', setup: (page) => atLayer(page, 'a:web', /here, \d+ inherited/) },
  { name: 'ui-dark.png', colorScheme: 'dark', setup: (page) => row(page, 'DATABASE_URL').waitFor() },
  { name: 'ui-phone.png', viewport: PHONE, setup: (page) => row(page, LONG).waitFor() },
  {
    name: 'ui-rotation.png',
    setup: async (page) => {
      await row(page, 'DATADOG_API_KEY').locator('[col-id="description"]').click();
      await page.locator('#edit-rotation-warning').waitFor();
      await page.locator('#rotation').scrollIntoViewIfNeeded();
    },
  },
];

// settled waits until the grid has laid out its columns again (after a
// layer change, a resize or new rows): two frames with the same header.
async function settled(page) {
  await page.waitForFunction(() => new Promise((resolve) => {
    const at = () => [...document.querySelectorAll('#grid .ag-header-cell')].map((el) => {
      const r = el.getBoundingClientRect();
      return [r.left, r.right];
    }).sort((a, b) => a[0] - b[0]);
    const before = at();
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const now = at();
      resolve(JSON.stringify(now) === JSON.stringify(before) && now.every(([, right], i) => i === now.length - 1 || right <= now[i + 1][0] + 1));
    }));
  }));
}

async function atLayer(page, key, count) {
  await page.locator('#layer-select').selectOption(key);
  await page.locator('#count').filter({ hasText: count }).waitFor();
}
