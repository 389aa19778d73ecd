// The secrets grid in a real browser: Debian's Chromium driven by
// playwright-core against a real `zwrm dev` on a loopback port.
//
// Without Chromium, the npm packages or Go this file skips with a message;
// with CI=true it fails instead. UPDATE_SCREENSHOTS=1 writes the screenshots
// to docs/ (1280x800); otherwise they go to a temporary directory.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { browserSuite, expectAccessible, repoDir, start } from './harness.mjs';

await browserSuite('the secrets grid in Chromium', suite);

// Plaintext values typed into the page. No response the page receives may
// contain any of them: the API answers with masks only.
const V = {
  dev: 'sk_test_4eC39HqLyjWDarjtT1zdp7dcRgA1',
  prod: 'sk_live_51HxQeTrulySecretValueRgA1',
  staging: 'sk_stage_9f8e7d6c5b4a3928170Z',
  apiDev: 'dd-0123456789abcdef0123456789abcdef',
  apiProd: 'dd-fedcba9876543210fedcba9876543210',
  sentry: 'https://4f1e3b2a9c8d@o123456.ingest.sentry.io/4505',
  db: 'postgres://app:Very-Secret-Pa55word@db.internal:5432/app',
};
const ALL_VALUES = Object.values(V);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function suite() {
  /** @type {import('./harness.mjs').Harness} */
  let h;
  let shots = '';
  const users = {};
  /** every response body any page received, for the plaintext scan */
  const received = [];
  const requested = [];
  const problems = []; // console errors, page errors, CSP violations

  before(async () => {
    h = await start();
    // This suite is about ownership: members write every environment here.
    // (By default production needs an admin; layers.test.mjs covers that.)
    await h.api('PATCH', '/v1/org', h.superadmin, { environment_policies: { production: { min_write_priority: 10 } } });
    users.owner = await h.user('olivia@dev.local', 'Olivia Owner', 'member');
    users.member = await h.user('mia@dev.local', 'Mia Member', 'member');
    users.admin = await h.user('ada@dev.local', 'Ada Admin', 'admin');
    shots = process.env.UPDATE_SCREENSHOTS === '1' ? join(repoDir, 'docs') : await mkdtemp(join(tmpdir(), 'zwrm-shots-'));
    await mkdir(shots, { recursive: true });
  }, { timeout: 400_000 });

  after(async () => {
    await h?.stop();
    if (shots && process.env.UPDATE_SCREENSHOTS !== '1') await rm(shots, { recursive: true, force: true });
  });

  async function newPage(context) {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on('request', (r) => requested.push(`${r.method()} ${r.url()}`));
    page.on('response', (r) => {
      received.push(r.body().then((b) => ({ url: r.url(), status: r.status(), body: b.toString('utf8') }), () => null));
    });
    page.on('console', (m) => {
      // A refused API call (401, 409) is logged by Chromium itself; that is expected.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    return page;
  }

  async function newContext(viewport = { width: 1280, height: 800 }) {
    return h.browser.newContext({ viewport, baseURL: h.base, reducedMotion: 'reduce' });
  }

  async function signIn(page, user) {
    await page.goto('/');
    await page.locator('#token').fill(user.token);
    await page.locator('#signin-submit').click();
    await page.locator('#secrets-view').waitFor({ state: 'visible' });
    await page.locator('#count').filter({ hasText: /secret/ }).waitFor();
  }

  const row = (page, name) => page.locator('#grid .ag-row', { has: page.locator('[col-id="name"]', { hasText: new RegExp(`^${name}$`) }) });
  const cell = (page, name, col) => row(page, name).locator(`[col-id="${col}"]`);

  async function openSecret(page, name) {
    await row(page, name).locator('[col-id="name"]').click();
    await page.locator('#edit-dialog[open]').waitFor();
    assert.equal(await page.locator('#edit-name').inputValue(), name);
  }

  async function shot(page, name) {
    await page.locator('#toast').waitFor({ state: 'hidden', timeout: 6_000 }).catch(() => {});
    await page.screenshot({ path: join(shots, name) });
  }

  let ctx, page; // Olivia, the owner, in her first tab
  let stripe; // the secret as the API shows it

  test('the secrets grid in Chromium', { timeout: 300_000 }, async (t) => {
    ctx = await newContext();
    page = await newPage(ctx);

    await t.test('a wrong token is refused with a readable message', async () => {
      await page.goto('/');
      await page.locator('#token').fill('zwrm_u_not-a-real-token');
      await page.locator('#signin-submit').click();
      const err = page.locator('#token-error');
      await err.waitFor();
      assert.match(await err.innerText(), /not valid/);
      assert.doesNotMatch(await err.innerText(), /[{}"]/);
    });

    await t.test('signs in with a user token, kept in sessionStorage only, and shows name, org and role', async () => {
      await signIn(page, users.owner);
      assert.equal(await page.locator('#who-name').innerText(), 'Olivia Owner');
      assert.equal(await page.locator('#who-org').innerText(), 'dev');
      assert.equal(await page.locator('#who-role').innerText(), 'member');
      const storage = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: Object.entries(localStorage), url: location.href, cookies: document.cookie }));
      assert.ok(storage.session.includes(users.owner.token), 'the token is in sessionStorage');
      assert.ok(storage.local.every(([, v]) => !v.includes(users.owner.token)), 'the token is not in localStorage');
      assert.deepEqual(storage.local.map(([k]) => k).filter((k) => k !== 'zwrm.theme'), [], 'localStorage holds at most the theme');
      assert.ok(!storage.url.includes(users.owner.token), 'the token is not in the URL');
      assert.equal(storage.cookies, '');
      const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => !el.closest('#grid') && el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
        .map((el) => el.id || el.outerHTML));
      assert.deepEqual(unlabeled, [], 'every input has a label');
      // A new organization: the empty state says what to do.
      await page.locator('#empty').waitFor();
      assert.match(await page.locator('#empty').innerText(), /Add secret/);
      await expectAccessible(page, 'the empty grid');
    });

    await t.test('adds a secret with two of three values and shows Yes/No right', async () => {
      await page.locator('#add-secret').click();
      const name = page.locator('#add-name');
      assert.equal(await name.getAttribute('placeholder'), 'STRIPE_API_KEY');
      assert.match(await page.locator('#add-name-rule').innerText(), /letter or underscore.*128/s);
      await name.fill('1STRIPE');
      assert.match(await page.locator('#add-name-error').innerText(), /Start with a letter or an underscore/);
      assert.equal(await name.getAttribute('aria-invalid'), 'true');
      await name.fill('STRIPE-KEY');
      assert.match(await page.locator('#add-name-error').innerText(), /“-” is not allowed/);
      await name.fill('STRIPE_API_KEY');
      assert.equal(await page.locator('#add-name-error').isHidden(), true);
      assert.equal(await name.getAttribute('aria-invalid'), null);
      // Each value is a multi-line field labelled with its environment, masked while not focused.
      for (const env of ['Development', 'Staging', 'Production']) {
        const field = page.locator('#add-dialog').getByLabel(`${env} value`, { exact: true });
        assert.equal(await field.evaluate((e) => e.tagName), 'TEXTAREA');
        assert.equal(await field.evaluate((e) => getComputedStyle(e).webkitTextSecurity), 'disc', `${env} is masked`);
        assert.equal(await page.locator('#add-dialog').getByRole('button', { name: `Show ${env} value` }).getAttribute('aria-pressed'), 'false');
      }
      await expectAccessible(page, 'the add dialog');
      await page.locator('#add-description').fill('Stripe payments');
      await page.locator('#add-value-development').fill(V.dev);
      await page.locator('#add-value-production').fill(V.prod);
      await page.locator('#add-submit').click();
      await page.locator('#add-dialog').waitFor({ state: 'hidden' });
      await row(page, 'STRIPE_API_KEY').waitFor();
      assert.equal(await cell(page, 'STRIPE_API_KEY', 'development').innerText(), 'Yes');
      assert.equal(await cell(page, 'STRIPE_API_KEY', 'staging').innerText(), 'No');
      assert.equal(await cell(page, 'STRIPE_API_KEY', 'production').innerText(), 'Yes');
      assert.equal(await cell(page, 'STRIPE_API_KEY', 'owner').innerText(), 'Olivia Owner');
      assert.equal(await page.locator('#count').innerText(), '1 secret');
    });

    await t.test('a duplicate name shows the server message at the Name field', async () => {
      await page.locator('#add-secret').click();
      await page.locator('#add-name').fill('STRIPE_API_KEY');
      await page.locator('#add-description').fill('again');
      await page.locator('#add-submit').click();
      const err = page.locator('#add-name-error');
      await err.waitFor();
      assert.match(await err.innerText(), /already taken in this organization/);
      assert.match(await err.innerText(), /^The name STRIPE_API_KEY is already taken/, 'no redundant "Name:" in front');
      assert.doesNotMatch(await err.innerText(), /[{}]|"error"/);
      assert.equal(await page.locator('#add-name').getAttribute('aria-invalid'), 'true');
      // Escape closes the dialog and focus goes back to where it was.
      await page.keyboard.press('Escape');
      await page.locator('#add-dialog').waitFor({ state: 'hidden' });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'add-secret');
    });

    await t.test('the grid sorts, filters, searches and counts', async () => {
      await h.api('POST', '/v1/secrets', users.owner.token, { name: 'DATADOG_API_KEY', description: 'Metrics and traces', values: { development: V.apiDev, production: V.apiProd } });
      await h.api('POST', '/v1/secrets', users.owner.token, { name: 'SENTRY_DSN', description: 'Error reporting', values: { development: V.sentry, staging: V.sentry, production: V.sentry } });
      await h.api('POST', '/v1/secrets', users.admin.token, { name: 'DATABASE_URL', description: 'Primary Postgres', values: { production: V.db } });
      await page.reload(); // the token survives a reload of the tab
      await page.locator('#count').filter({ hasText: '4 secrets' }).waitFor();
      const names = () => page.locator('#grid .ag-row [col-id="name"]').allInnerTexts();
      const byIndex = async () => {
        const rows = await page.locator('#grid .ag-row').evaluateAll((els) =>
          els.map((e) => [Number(e.getAttribute('row-index')), e.querySelector('[col-id="name"]').textContent]));
        return rows.sort((a, b) => a[0] - b[0]).map((r) => r[1]);
      };
      assert.deepEqual(await byIndex(), ['DATABASE_URL', 'DATADOG_API_KEY', 'SENTRY_DSN', 'STRIPE_API_KEY']);
      await page.locator('.ag-header-cell[col-id="name"] .ag-header-cell-label').click(); // descending
      assert.deepEqual(await byIndex(), ['STRIPE_API_KEY', 'SENTRY_DSN', 'DATADOG_API_KEY', 'DATABASE_URL']);
      await page.locator('#quick-search').fill('ada admin');
      await page.locator('#count').filter({ hasText: '1 of 4 secrets match' }).waitFor();
      assert.deepEqual(await names(), ['DATABASE_URL']);
      await page.locator('#quick-search').fill('');
      await page.locator('#count').filter({ hasText: '4 secrets' }).waitFor();
      await page.locator('.ag-header-cell[col-id="name"] .ag-header-cell-label').click(); // back to ascending
      await shot(page, 'ui-grid.png');
    });

    await t.test('a row click shows the UUID, the masks and the metadata, never a value', async () => {
      const list = await h.api('GET', '/v1/secrets', users.owner.token);
      stripe = list.secrets.find((s) => s.name === 'STRIPE_API_KEY');
      const detail = await h.api('GET', `/v1/secrets/${stripe.id}`, users.owner.token);
      await openSecret(page, 'STRIPE_API_KEY');
      const id = await page.locator('#edit-id').inputValue();
      assert.match(id, UUID);
      assert.equal(id, stripe.id);
      assert.equal(await page.locator('#edit-id').getAttribute('readonly'), '');
      assert.equal(await page.locator('#edit-description').inputValue(), 'Stripe payments');
      assert.equal(await page.locator('#edit-mask-development code').innerText(), detail.masked.development);
      assert.equal(await page.locator('#edit-mask-production code').innerText(), detail.masked.production);
      assert.equal(detail.masked.production, 'sk_live_***RgA1');
      assert.equal(await page.locator('#edit-mask-staging').innerText(), 'Not set');
      assert.equal(await page.locator('#edit-version').innerText(), '1');
      assert.equal(await page.locator('#edit-owner').innerText(), 'Olivia Owner');
      assert.notEqual(await page.locator('#edit-created').innerText(), '');
      for (const env of ['development', 'staging', 'production']) assert.equal(await page.locator(`#edit-value-${env}`).inputValue(), '');
      const text = await page.locator('body').innerText();
      for (const v of ALL_VALUES) assert.ok(!text.includes(v), 'no value on the page');
      assert.equal(await page.locator('#edit-save').isDisabled(), true, 'nothing to save before an edit');
      assert.equal(await page.locator('#edit-layer').innerText(), 'global', 'the edit view names the layer');
      await expectAccessible(page, 'the edit dialog of the owner');
      await shot(page, 'ui-edit.png');
    });

    await t.test('an edit sends only the changed field and the expected version', async () => {
      await page.locator('#edit-value-staging').fill(V.staging);
      assert.match(await page.locator('#edit-dirty').innerText(), /Staging/);
      const [req] = await Promise.all([page.waitForRequest((r) => r.method() === 'PATCH'), page.locator('#edit-save').click()]);
      assert.deepEqual(req.postDataJSON(), { version: 1, values: { staging: V.staging } });
      await page.locator('#edit-version').filter({ hasText: '2' }).waitFor();
      const after = await h.api('GET', `/v1/secrets/${stripe.id}`, users.owner.token);
      assert.equal(after.masked.staging, 'sk_***170Z');
      assert.equal(await page.locator('#edit-mask-staging code').innerText(), after.masked.staging);
      assert.equal(await page.locator('#edit-value-staging').inputValue(), '', 'the typed value is gone from the page');
      await cell(page, 'STRIPE_API_KEY', 'staging').filter({ hasText: 'Yes' }).waitFor();

      // Clearing a value on purpose sends null for it, and nothing else.
      await page.locator('.env-clear[data-env="development"]').click();
      assert.equal(await page.locator('.env-clear[data-env="development"]').getAttribute('aria-pressed'), 'true');
      const [clear] = await Promise.all([page.waitForRequest((r) => r.method() === 'PATCH'), page.locator('#edit-save').click()]);
      assert.deepEqual(clear.postDataJSON(), { version: 2, values: { development: null } });
      await page.locator('#edit-version').filter({ hasText: '3' }).waitFor();
      assert.equal(await page.locator('#edit-mask-development').innerText(), 'Not set');
      await cell(page, 'STRIPE_API_KEY', 'development').filter({ hasText: 'No' }).waitFor();
    });

    await t.test('a stale edit from a second tab gets the conflict, and Reload shows the other change', async () => {
      const tab2 = await newPage(ctx); // a second tab: sessionStorage is per tab, so it signs in again
      await signIn(tab2, users.owner);
      await openSecret(tab2, 'STRIPE_API_KEY');
      await tab2.locator('#edit-description').fill('Changed in the second tab');
      await tab2.locator('#edit-save').click();
      await tab2.locator('#edit-version').filter({ hasText: '4' }).waitFor();
      await tab2.close();

      await page.locator('#edit-description').fill('Changed in the first tab');
      const [req] = await Promise.all([page.waitForRequest((r) => r.method() === 'PATCH'), page.locator('#edit-save').click()]);
      assert.deepEqual(req.postDataJSON(), { version: 3, description: 'Changed in the first tab' });
      const conflict = page.locator('#edit-conflict');
      await conflict.waitFor();
      // The server's message, once: which version is stale, the current one, what to do.
      assert.match(await conflict.innerText(), /someone changed this secret/);
      assert.match(await conflict.innerText(), /Version 3 is stale/);
      assert.equal(await page.locator('#edit-conflict-text').innerText(),
        'Version 3 is stale: someone changed this secret (it is now at version 4); reload it and apply your change again.');
      await page.locator('#edit-reload').click();
      await conflict.waitFor({ state: 'hidden' });
      assert.equal(await page.locator('#edit-version').innerText(), '4');
      assert.equal(await page.locator('#edit-description').inputValue(), 'Changed in the second tab');
    });

    await t.test('Enter opens a focused row and Escape puts focus back on it', async () => {
      await page.keyboard.press('Escape');
      await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
      const focusedRow = () => page.evaluate(() => document.activeElement?.closest('.ag-row')?.querySelector('[col-id="name"]')?.textContent);
      assert.equal(await focusedRow(), 'STRIPE_API_KEY');
      await page.keyboard.press('ArrowUp');
      assert.equal(await focusedRow(), 'SENTRY_DSN');
      await page.keyboard.press('Enter');
      await page.locator('#edit-dialog[open]').waitFor();
      await page.waitForFunction(() => document.getElementById('edit-name').value === 'SENTRY_DSN');
      // Tab stays inside the dialog.
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press('Tab');
        assert.ok(await page.evaluate(() => document.getElementById('edit-dialog').contains(document.activeElement)), 'focus stays in the dialog');
      }
      await page.keyboard.press('Escape');
      await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
      assert.equal(await focusedRow(), 'SENTRY_DSN');
    });

    await t.test('a member who is not the owner sees the amber banner and every field disabled', async () => {
      const mctx = await newContext();
      const mpage = await newPage(mctx);
      await signIn(mpage, users.member);
      await openSecret(mpage, 'STRIPE_API_KEY');
      const banner = mpage.locator('#edit-owner-banner');
      await banner.waitFor();
      assert.equal(await banner.innerText(), 'Only Olivia Owner can modify this secret');
      const bg = await banner.evaluate((e) => getComputedStyle(e).backgroundColor);
      assert.equal(bg, 'rgb(255, 244, 214)', 'amber');
      await shot(mpage, 'ui-non-owner.png');
      for (const sel of ['#edit-description', '#edit-value-development', '#edit-value-staging', '#edit-value-production',
        '.env-clear[data-env="staging"]', '.env-clear[data-env="production"]', '#edit-save', '#edit-delete']) {
        assert.equal(await mpage.locator(sel).isDisabled(), true, `${sel} is disabled`);
      }
      for (const env of ['development', 'staging', 'production']) {
        assert.equal(await mpage.locator(`#edit-value-${env}`).getAttribute('placeholder') ?? '', '', 'no invitation to type in a disabled field');
      }
      assert.doesNotMatch(await mpage.locator('#edit-dialog').innerText(), /Type a new value/);
      assert.equal(await mpage.locator('#rotation-controls').isHidden(), true, 'no rotation controls for who may not modify it');
      await expectAccessible(mpage, 'the edit dialog of a secret the member does not own');
      await mpage.locator('#history summary').click();
      await mpage.locator('#history-body table').waitFor();
      const restores = mpage.locator('#history-body button');
      assert.ok((await restores.count()) > 0);
      for (const b of await restores.all()) assert.equal(await b.isDisabled(), true, 'restore is disabled');
      await mpage.locator('#history summary').click();

      // Signed out with a message once the token is revoked.
      await h.api('DELETE', `/v1/tokens/${users.member.id}`, h.superadmin);
      await mpage.keyboard.press('Escape');
      await row(mpage, 'SENTRY_DSN').locator('[col-id="name"]').click();
      await mpage.locator('#signin-view').waitFor();
      assert.equal(await mpage.locator('#edit-dialog').isVisible(), false);
      assert.match(await mpage.locator('#signin-message').innerText(), /signed out.*revoked/is);
      assert.equal(await mpage.evaluate(() => sessionStorage.getItem('zwrm.token')), null);
      await mctx.close();
    });

    await t.test('an admin can edit it and restore an earlier version', async () => {
      const actx = await newContext();
      const apage = await newPage(actx);
      await signIn(apage, users.admin);
      await openSecret(apage, 'STRIPE_API_KEY');
      assert.equal(await apage.locator('#edit-owner-banner').isHidden(), true);
      assert.equal(await apage.locator('#edit-description').isDisabled(), false);
      await apage.locator('#edit-description').fill('Stripe payments (edited by an admin)');
      const [req] = await Promise.all([apage.waitForRequest((r) => r.method() === 'PATCH'), apage.locator('#edit-save').click()]);
      assert.deepEqual(req.postDataJSON(), { version: 4, description: 'Stripe payments (edited by an admin)' });
      await apage.locator('#edit-version').filter({ hasText: '5' }).waitFor();
      assert.match(await apage.locator('#edit-updated').innerText(), /Ada Admin/);

      await apage.locator('#history summary').click();
      await apage.locator('#history-body table').waitFor();
      assert.match(await apage.locator('#history-body').innerText(), /5 \(current\)/);
      await apage.locator('#history-body button[aria-label="Restore version 1"]').click();
      await apage.locator('#edit-version').filter({ hasText: '6' }).waitFor();
      assert.equal(await apage.locator('#edit-description').inputValue(), 'Stripe payments');
      assert.equal(await apage.locator('#edit-mask-staging').innerText(), 'Not set');
      // The history reloads after the restore: wait for it, then read it.
      await apage.locator('#history-body table').filter({ hasText: 'restore from 1' }).waitFor();
      assert.match(await apage.locator('#history-body').innerText(), /restore from 1/);
      await actx.close();
    });

    await t.test('a network failure shows a readable message', async () => {
      await page.route('**/v1/secrets/*', (route) => route.abort('connectionrefused'));
      await row(page, 'STRIPE_API_KEY').locator('[col-id="name"]').click();
      const err = page.locator('#global-error');
      await err.waitFor();
      assert.match(await err.innerText(), /Cannot reach the server/);
      assert.equal(await page.locator('#edit-dialog').isVisible(), false);
      await page.unroute('**/v1/secrets/*');
    });

    await t.test('delete stays disabled until delete is typed exactly', async () => {
      await openSecret(page, 'STRIPE_API_KEY');
      await page.locator('#edit-delete').click();
      await page.locator('#delete-dialog[open]').waitFor();
      const confirm = page.locator('#delete-confirm');
      const button = page.locator('#delete-submit');
      assert.equal(await button.isDisabled(), true);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'delete-confirm');
      for (const wrong of ['d', 'delet', 'Delete', 'DELETE', 'delete ', ' delete', 'deleted']) {
        await confirm.fill(wrong);
        assert.equal(await button.isDisabled(), true, `disabled after typing ${JSON.stringify(wrong)}`);
      }
      await confirm.fill('');
      await shot(page, 'ui-delete.png');
      await confirm.pressSequentially('delete');
      assert.equal(await button.isDisabled(), false);
      // Escape closes only the confirmation; focus returns to Delete….
      await page.keyboard.press('Escape');
      await page.locator('#delete-dialog').waitFor({ state: 'hidden' });
      assert.equal(await page.locator('#edit-dialog').isVisible(), true);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'edit-delete');
      await page.locator('#edit-delete').click();
      assert.equal(await confirm.inputValue(), '', 'the confirmation starts empty again');
      await confirm.fill('delete');
      await button.click();
      await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
      await row(page, 'STRIPE_API_KEY').waitFor({ state: 'detached' });
      await page.locator('#count').filter({ hasText: '3 secrets' }).waitFor();
    });

    await t.test('a new app layer can be typed and starts empty', async () => {
      await page.locator('#layer-select').selectOption('new');
      await page.locator('#layer-app').fill('Web');
      await page.locator('#layer-form button[type="submit"]').click();
      assert.match(await page.locator('#layer-error').innerText(), /does not follow the rule/);
      await page.locator('#layer-app').fill('web');
      await page.locator('#layer-machine').fill('web-1');
      await page.locator('#layer-form button[type="submit"]').click();
      await page.locator('#empty').waitFor();
      assert.match(await page.locator('#empty-title').innerText(), /machine web \/ web-1/);
      await page.locator('#empty-add').click();
      assert.match(await page.locator('#add-layer').innerText(), /machine web \/ web-1/);
      await page.locator('#add-name').fill('DATADOG_API_KEY');
      await page.locator('#add-value-production').fill(V.apiProd);
      await page.locator('#add-submit').click();
      // The global DATADOG_API_KEY is listed as inherited already: wait for the dialog to close on the create.
      await page.locator('#add-dialog').waitFor({ state: 'hidden' });
      await row(page, 'DATADOG_API_KEY').waitFor();
      const layers = await h.api('GET', '/v1/layers', users.owner.token);
      assert.deepEqual(layers.layers, [{ app: 'web', machine: 'web-1' }]);
    });

    await t.test('works on a narrow screen', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.locator('#layer-select').selectOption('g');
      await page.locator('#count').filter({ hasText: '3 secrets' }).waitFor();
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling of the page');
      // The grid lays itself out again after the resize: wait for it.
      await page.waitForFunction(() => !document.querySelector('.ag-header-cell[col-id="description"]'));
      await page.waitForFunction(() => ['name', 'development', 'staging', 'production'].every((col) => {
        const r = document.querySelector(`.ag-header-cell[col-id="${col}"]`)?.getBoundingClientRect();
        return r && r.left >= 0 && r.right <= 391;
      }), undefined, { timeout: 5_000 });
      await openSecret(page, 'SENTRY_DSN');
      const dialog = await page.locator('#edit-dialog').boundingBox();
      assert.ok(dialog && dialog.width <= 390);
      await page.keyboard.press('Escape');
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await t.test("API Gateway's bare 403 for a refused token signs out like a 401", async () => {
      // On AWS the authorizer's denial reaches the page as 403 {"message":"Forbidden"}.
      const gctx = await newContext();
      const gpage = await newPage(gctx);
      await signIn(gpage, users.admin);
      await gpage.route('**/v1/secrets/*', (route) =>
        route.fulfill({ status: 403, contentType: 'application/json', body: '{"message":"Forbidden"}' }));
      await row(gpage, 'SENTRY_DSN').locator('[col-id="name"]').click();
      await gpage.locator('#signin-view').waitFor();
      assert.match(await gpage.locator('#signin-message').innerText(), /signed out.*refused/is);
      assert.equal(await gpage.evaluate(() => sessionStorage.getItem('zwrm.token')), null);
      await gctx.close();
    });

    await t.test('signing out forgets the token', async () => {
      await page.locator('#sign-out').click();
      await page.locator('#signin-view').waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.getItem('zwrm.token')), null);
      await page.reload();
      await page.locator('#signin-view').waitFor();
    });

    await t.test('no response the page received contains a plaintext value, and it never called resolve', async () => {
      const bodies = (await Promise.all(received)).filter(Boolean);
      const api = bodies.filter((b) => new URL(b.url).pathname.startsWith('/v1/'));
      assert.ok(api.some((b) => /\/v1\/secrets\/[0-9a-f-]{36}$/.test(new URL(b.url).pathname)), 'details were scanned');
      assert.ok(api.some((b) => /\/versions$/.test(new URL(b.url).pathname)), 'history was scanned');
      assert.ok(api.length > 20, `scanned ${api.length} API responses`);
      for (const b of bodies) {
        for (const v of ALL_VALUES) assert.ok(!b.body.includes(v), `${b.url} (${b.status}) contains a plaintext value`);
      }
      assert.deepEqual(requested.filter((r) => r.includes('/v1/resolve')), []);
      assert.deepEqual(problems, [], 'no console errors, page errors or CSP violations');
    });

    await ctx.close();
  });
}
