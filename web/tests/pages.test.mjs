// A layer bigger than one page of the API: the grid reads every page, shows
// every secret and searches them all, and no answer it reads passes 1 MiB.
//
// Without Chromium, the npm packages or Go this file skips with a message;
// with CI=true it fails instead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { browserSuite, start } from './harness.mjs';

await browserSuite('a layer of more than one page in Chromium', suite);

// 1,200 secrets: two pages at the API's default size of 500 and at the
// largest, 1,000, that the page asks for.
const COUNT = 1200;
const name = (i) => `PAGED_${String(i).padStart(4, '0')}`;

function suite() {
  /** @type {import('./harness.mjs').Harness} */
  let h;
  const problems = [];

  before(async () => {
    h = await start();
    const su = h.superadmin;
    // Through the layer API, several at a time: one call each, no more.
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < COUNT) {
        const i = next++;
        await h.api('POST', '/v1/org/secrets', su, { name: name(i), value: `value-of-${name(i)}-0123456789` });
      }
    }));
    await h.api('POST', '/v1/secrets', su, { name: 'WEB_ONLY', app: 'web', values: { production: 'web-only-value-0123456789' } });
  }, { timeout: 400_000 });

  after(async () => {
    await h?.stop();
  });

  test('a layer of more than one page in Chromium', { timeout: 300_000 }, async (t) => {
    const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: h.base, reducedMotion: 'reduce' });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const lists = [];
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/v1/secrets' || url.pathname === '/v1/effective') {
        lists.push(r.body().then((b) => ({ url, size: b.length }), () => ({ url, size: -1 })));
      }
    });
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const row = (n) => page.locator('#grid .ag-row', { has: page.locator('[col-id="name"]', { hasText: new RegExp(`^${n}$`) }) });

    await t.test('at global the grid counts every secret, read a page at a time', async () => {
      await page.goto('/');
      await page.locator('#token').fill(h.superadmin);
      await page.locator('#signin-submit').click();
      await page.locator('#count').filter({ hasText: `${COUNT} secrets` }).waitFor();
      const answers = await Promise.all(lists.splice(0));
      const pages = answers.filter((a) => a.url.pathname === '/v1/secrets');
      assert.equal(pages.length, 2, `list requests: ${pages.map((a) => a.url.search).join(' ')}`);
      assert.equal(pages[0].url.searchParams.get('cursor'), null);
      assert.ok(pages[1].url.searchParams.get('cursor'), 'the second request carries the first page\'s cursor');
      for (const a of answers) assert.ok(a.size > 0 && a.size <= 1 << 20, `${a.url.pathname}${a.url.search}: ${a.size} bytes`);
    });

    await t.test('search finds a secret that came on the second page', async () => {
      const last = name(COUNT - 1);
      await page.locator('#quick-search').fill(last);
      await page.locator('#count').filter({ hasText: `1 of ${COUNT} secrets match` }).waitFor();
      await row(last).waitFor();
      await page.locator('#quick-search').fill('PAGED_11');
      await page.locator('#count').filter({ hasText: `100 of ${COUNT} secrets match` }).waitFor();
      await page.locator('#quick-search').fill('');
      await page.locator('#count').filter({ hasText: `${COUNT} secrets` }).waitFor();
    });

    await t.test('at an app the grid shows every secret it inherits, read a page at a time', async () => {
      await page.locator('#layer-select').selectOption('a:web');
      await page.locator('#count').filter({ hasText: `1 secret here, ${COUNT} inherited` }).waitFor();
      const answers = await Promise.all(lists.splice(0));
      const effective = answers.filter((a) => a.url.pathname === '/v1/effective' && a.url.searchParams.get('environment') === 'production');
      assert.equal(effective.length, 2, `effective requests: ${effective.map((a) => a.url.search).join(' ')}`);
      for (const a of answers) assert.ok(a.size > 0 && a.size <= 1 << 20, `${a.url.pathname}${a.url.search}: ${a.size} bytes`);
      const last = name(COUNT - 1);
      await page.locator('#quick-search').fill(last);
      await page.locator('#count').filter({ hasText: `1 of ${COUNT + 1} secrets match` }).waitFor();
      await row(last).waitFor();
    });

    assert.deepEqual(problems, []);
  });
}
