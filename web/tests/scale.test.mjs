// 10,000 secrets at one layer, created through the API: the grid shows them
// all and a search narrows them to a handful. The times are measured and
// printed (the issue asks for under 2 s on the test machine), not asserted:
// a timing is a benchmark, not a test. The counts are asserted.
//
// Without Chromium, the npm packages or Go this file skips with a message;
// with CI=true it fails instead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { browserSuite, start } from './harness.mjs';

await browserSuite('10,000 secrets in Chromium', suite);

const COUNT = 10_000;
const name = (i) => `SCALE_${String(i).padStart(5, '0')}`;

function suite() {
  /** @type {import('./harness.mjs').Harness} */
  let h;
  const problems = [];

  before(async () => {
    h = await start();
    // The global layer through the layer API, many calls at a time over
    // kept-alive connections: one call per secret, nothing else.
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 48 }, async () => {
      while (next < COUNT) {
        const i = next++;
        await h.api('POST', '/v1/org/secrets', h.superadmin, { name: name(i), value: `value-${i}-0123456789abcdef` });
      }
    }));
    console.log(`# created ${COUNT} secrets through the API in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, { timeout: 600_000 });

  after(async () => {
    await h?.stop();
  });

  test('10,000 secrets in Chromium', { timeout: 300_000 }, async (t) => {
    const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: h.base, reducedMotion: 'reduce' });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const count = page.locator('#count');

    await t.test('the grid shows all of them', async () => {
      await page.goto('/');
      await page.locator('#token').fill(h.superadmin);
      const started = performance.now();
      await page.locator('#signin-submit').click();
      await count.filter({ hasText: new RegExp(`^${COUNT} secrets$`) }).waitFor();
      await page.locator('#grid .ag-row').first().waitFor();
      const took = performance.now() - started;
      console.log(`# signed in and showed ${COUNT} secrets in ${took.toFixed(0)} ms`);
      assert.equal(await count.innerText(), `${COUNT} secrets`);
      assert.equal(await page.locator('#grid .ag-row[row-index="0"] [col-id="name"]').innerText(), name(0));
    });

    await t.test('a search narrows them to a handful', async () => {
      // SCALE_0420 matches SCALE_04200 … SCALE_04209: ten of them.
      const started = performance.now();
      await page.locator('#quick-search').fill('SCALE_0420');
      await count.filter({ hasText: `10 of ${COUNT} secrets match` }).waitFor();
      const took = performance.now() - started;
      console.log(`# a search narrowed ${COUNT} secrets to 10 in ${took.toFixed(0)} ms`);
      const names = await page.locator('#grid .ag-row [col-id="name"]').allInnerTexts();
      assert.deepEqual(names.sort(), Array.from({ length: 10 }, (_, i) => name(4200 + i)));
      await page.locator('#quick-search').fill('');
      await count.filter({ hasText: `${COUNT} secrets` }).waitFor();
    });

    await context.close();
    assert.deepEqual(problems, []);
  });
}
