// What a person sees of the layers in a real browser: at an app, the rows it
// inherits from global (marked, secondary) and its own rows that override a
// lower layer; and the environment write policy locking value fields.
//
// Without Chromium, the npm packages or Go this file skips with a message;
// with CI=true it fails instead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { browserSuite, expectAccessible, row, signIn, start } from './harness.mjs';

await browserSuite('layers and write policy in Chromium', suite);

const V = {
  globalDev: 'https://global-dev.example/api?key=9b8a7c6d5e4f3a2b1c0d',
  globalProd: 'https://global-prod.example/api?key=0f1e2d3c4b5a69788796',
  appProd: 'https://web-prod.example/api?key=a1b2c3d4e5f60718293a',
  onlyGlobal: 'only-global-value-5c4b3a29180706f5e4d3',
  mine: 'mia-development-value-44e3d2c1b0a99887',
};

function suite() {
  /** @type {import('./harness.mjs').Harness} */
  let h;
  const users = {};
  const received = [];
  const problems = [];

  before(async () => {
    h = await start();
    users.admin = await h.user('ada@dev.local', 'Ada Admin', 'admin');
    users.member = await h.user('mia@dev.local', 'Mia Member', 'member');
    const su = h.superadmin;
    await h.api('POST', '/v1/secrets', su, { name: 'API_URL', description: 'The API', values: { development: V.globalDev, production: V.globalProd } });
    await h.api('POST', '/v1/secrets', su, { name: 'ONLY_GLOBAL', values: { development: V.onlyGlobal } });
    await h.api('POST', '/v1/secrets', su, { name: 'API_URL', app: 'web', values: { production: V.appProd } });
  }, { timeout: 400_000 });

  after(async () => {
    await h?.stop();
  });

  function newPage() {
    return h.page({ problems, received });
  }


  const cell = (page, name, col) => row(page, name).locator(`[col-id="${col}"]`);

  test('layers and write policy in Chromium', { timeout: 300_000 }, async (t) => {
    const page = await newPage();

    await t.test('at global there is no Layer column: every row is the layer\'s own', async () => {
      await signIn(page, users.admin.token);
      await page.locator('#count').filter({ hasText: '2 secrets' }).waitFor();
      assert.equal(await page.locator('.ag-header-cell[col-id="source"]').count(), 0);
    });

    await t.test('at app web, a global-only secret shows as inherited and an app secret of the same name as overriding global', async () => {
      await page.locator('#layer-select').selectOption('a:web');
      await page.locator('#count').filter({ hasText: '1 secret here, 1 inherited' }).waitFor();
      assert.equal(await page.locator('.ag-header-cell[col-id="source"]').innerText(), 'Layer');

      assert.equal(await cell(page, 'ONLY_GLOBAL', 'source').innerText(), 'inherited from global');
      assert.match(await row(page, 'ONLY_GLOBAL').getAttribute('class'), /\brow-inherited\b/);
      assert.equal(await cell(page, 'ONLY_GLOBAL', 'development').innerText(), 'Yes');
      assert.equal(await cell(page, 'ONLY_GLOBAL', 'production').innerText(), 'No');
      const style = await row(page, 'ONLY_GLOBAL').locator('[col-id="name"]').evaluate((e) => getComputedStyle(e).fontStyle);
      assert.equal(style, 'italic', 'an inherited row is visually secondary');

      // The app's API_URL holds production only: it overrides global there,
      // and development still comes from global.
      const source = await cell(page, 'API_URL', 'source').innerText();
      assert.match(source, /^overrides global\b/);
      assert.match(source, /development from global/);
      assert.doesNotMatch(await row(page, 'API_URL').getAttribute('class'), /\brow-inherited\b/);
      assert.equal(await row(page, 'API_URL').count(), 1, 'one row per name');
    });

    await t.test('Show inherited, on by default, hides and shows the inherited rows', async () => {
      const toggle = page.getByRole('checkbox', { name: 'Show inherited' });
      assert.equal(await toggle.isChecked(), true, 'on by default');
      await expectAccessible(page, 'an app layer with inherited rows shown');
      await toggle.uncheck();
      await page.locator('#count').filter({ hasText: '1 secret here, 1 inherited hidden' }).waitFor();
      await row(page, 'ONLY_GLOBAL').waitFor({ state: 'detached' });
      assert.equal(await row(page, 'API_URL').count(), 1, 'the layer\'s own rows stay');
      assert.match(await cell(page, 'API_URL', 'source').innerText(), /^overrides global\b/);
      await expectAccessible(page, 'an app layer with inherited rows hidden');
      await toggle.check();
      await page.locator('#count').filter({ hasText: '1 secret here, 1 inherited' }).waitFor();
      await row(page, 'ONLY_GLOBAL').waitFor();
      // At global there is nothing to inherit: no toggle.
      await page.locator('#layer-select').selectOption('g');
      await page.locator('#count').filter({ hasText: /^2 secrets$/ }).waitFor();
      assert.equal(await toggle.isHidden(), true);
      await page.locator('#layer-select').selectOption('a:web');
      await page.locator('#count').filter({ hasText: '1 secret here, 1 inherited' }).waitFor();
    });

    await t.test('an app value for one environment only overrides global in that environment', async () => {
      await h.api('POST', '/v1/secrets', h.superadmin, { name: 'ONLY_GLOBAL', app: 'web', values: { development: 'x-dev-override-1234567890', production: 'x-prod-1234567890abcd' } });
      await page.locator('#layer-select').selectOption('g');
      await page.locator('#layer-select').selectOption('a:web');
      await page.locator('#count').filter({ hasText: /^2 secrets$/ }).waitFor(); // both its own: nothing inherited
      assert.equal(await cell(page, 'ONLY_GLOBAL', 'source').innerText(), 'overrides global (development)');
      await h.api('DELETE', '/v1/apps/web/secrets/ONLY_GLOBAL', h.superadmin);
    });

    await t.test('opening an inherited row opens the global secret, saying where it lives', async () => {
      await page.locator('#layer-select').selectOption('g');
      await page.locator('#layer-select').selectOption('a:web');
      await page.locator('#count').filter({ hasText: '1 secret here, 1 inherited' }).waitFor();
      await row(page, 'ONLY_GLOBAL').locator('[col-id="name"]').click();
      await page.locator('#edit-dialog[open]').waitFor();
      assert.equal(await page.locator('#edit-name').inputValue(), 'ONLY_GLOBAL');
      assert.match(await page.locator('#edit-inherited-banner').innerText(), /not set at the app web layer: this is the global secret it inherits/);
      assert.equal(await page.locator('#edit-layer').innerText(), 'global', 'the dialog names the layer of the secret it shows');
      await page.keyboard.press('Escape');
      await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
      // Opening this layer's own row shows no such banner.
      await row(page, 'API_URL').locator('[col-id="name"]').click();
      await page.locator('#edit-dialog[open]').waitFor();
      assert.equal(await page.locator('#edit-inherited-banner').isHidden(), true);
      assert.equal(await page.locator('#edit-layer').innerText(), 'app web');
      await page.keyboard.press('Escape');
    });

    await t.test('a member sees the Production value disabled, with the reason, in Add secret and in the edit view of their own secret', async (t) => {
      const me = await h.api('GET', '/v1/me', users.member.token);
      assert.deepEqual(me.writable_environments, ['development', 'staging'], 'GET /v1/me says what a member may write');
      const mpage = await newPage();
      await signIn(mpage, users.member.token);
      await mpage.locator('#add-secret').click();
      await mpage.locator('#add-dialog[open]').waitFor();
      assert.equal(await mpage.locator('#add-value-production').isDisabled(), true);
      assert.equal(await mpage.locator('#add-value-development').isDisabled(), false);
      assert.equal(await mpage.locator('#add-value-staging').isDisabled(), false);
      assert.equal(await mpage.locator('#add-value-production-policy').innerText(), 'Production values need the admin role in this organization.');
      await mpage.locator('#add-name').fill('MIA_TOKEN');
      await mpage.locator('#add-value-development').fill(V.mine);
      await mpage.locator('#add-submit').click();
      await mpage.locator('#add-dialog').waitFor({ state: 'hidden' });

      await row(mpage, 'MIA_TOKEN').locator('[col-id="name"]').click();
      await mpage.locator('#edit-dialog[open]').waitFor();
      assert.equal(await mpage.locator('#edit-owner-banner').isHidden(), true, 'her own secret');
      assert.equal(await mpage.locator('#edit-value-development').isDisabled(), false);
      assert.equal(await mpage.locator('#edit-value-production').isDisabled(), true);
      assert.equal(await mpage.locator('#edit-value-production-policy').innerText(), 'Production values need the admin role in this organization.');
      await mpage.keyboard.press('Escape');
    });

    await t.test('no response the pages received holds a plaintext value', async () => {
      const bodies = (await Promise.all(received)).filter(Boolean);
      assert.ok(bodies.some((b) => new URL(b.url).pathname === '/v1/effective'), 'effective answers were scanned');
      for (const b of bodies) {
        for (const v of Object.values(V)) assert.ok(!b.body.includes(v), `${b.url} contains a plaintext value`);
      }
      assert.deepEqual(problems, [], 'no console errors or page errors');
    });
  });
}
