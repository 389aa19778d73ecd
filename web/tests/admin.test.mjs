// The admin screens as a person sees them in a real browser: the
// navigation by role, tokens (create one, see it once, copy it, revoke it),
// the audit trail (readable records, filters, a second page) and the
// organization's settings (read-only for an admin, changed by a superadmin).
//
// Without Chromium, the npm packages or Go this file skips with a message;
// with CI=true it fails instead. UPDATE_SCREENSHOTS=1 writes the screens'
// pictures into docs/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { browserSuite, expectAccessible, repoDir, start } from './harness.mjs';

await browserSuite('admin screens in Chromium', suite);

// More records than the Audit screen's page of 50, so that it has a second.
const FILLERS = 60;
const V = {
  first: 'payment-dev-value-1f2e3d4c5b6a79880',
  second: 'payment-dev-value-2a3b4c5d6e7f80911',
};

function suite() {
  /** @type {import('./harness.mjs').Harness} */
  let h;
  const users = {};
  const problems = [];
  const received = [];
  const shots = process.env.UPDATE_SCREENSHOTS === '1';

  before(async () => {
    h = await start();
    users.admin = await h.user('ada@dev.local', 'Ada Admin', 'admin');
    users.member = await h.user('mia@dev.local', 'Mia Member', 'member');
    const su = h.superadmin;
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < FILLERS) {
        const i = next++;
        await h.api('POST', '/v1/org/secrets', su, { name: `FILLER_${String(i).padStart(2, '0')}`, value: `filler-${i}-0123456789abcdef` });
      }
    }));
    // The newest secret change: Ada's, at app web, version 2.
    const s = await h.api('POST', '/v1/secrets', users.admin.token, { name: 'PAYMENT_KEY', app: 'web', values: { development: V.first } });
    await h.api('PATCH', `/v1/secrets/${s.id}`, users.admin.token, { version: s.version, values: { development: V.second } });
  }, { timeout: 400_000 });

  after(async () => {
    await h?.stop();
  });

  function newPage() {
    return h.page({ clipboard: true, problems, received });
  }


  async function signIn(page, token, path = '/') {
    await page.goto(path);
    await page.getByLabel('User token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who').waitFor({ state: 'visible' });
  }

  async function shot(page, name) {
    if (shots) await page.screenshot({ path: join(repoDir, 'docs', name) });
  }

  const nav = (page) => page.getByRole('navigation', { name: 'Screens' });
  const tokenRow = (page, name) => page.locator('#tokens-body tr', { has: page.getByRole('rowheader', { name: new RegExp(`^${name}`) }) });
  const auditRows = (page) => page.locator('#audit-body tr');

  test('admin screens in Chromium', { timeout: 300_000 }, async (t) => {
    await t.test('a member sees no Tokens, Audit or Settings in the navigation, nor those screens by address', async () => {
      const page = await newPage();
      await signIn(page, users.member.token);
      await page.getByRole('heading', { name: 'Secrets', level: 1 }).waitFor();
      assert.equal(await nav(page).isVisible(), false);
      for (const name of ['Tokens', 'Audit', 'Settings']) {
        assert.equal(await page.getByRole('link', { name }).count(), 0, `${name} link for a member`);
      }
      await page.goto('/#tokens');
      await page.getByRole('heading', { name: 'Secrets', level: 1 }).waitFor();
      assert.equal(await page.locator('#tokens-view').isVisible(), false);
      await page.goto('/#audit');
      await page.getByRole('heading', { name: 'Secrets', level: 1 }).waitFor();
      assert.equal(await page.locator('#audit-view').isVisible(), false);
      await page.context().close();
    });

    const page = await newPage();
    let token = '';

    await t.test('an admin has Secrets, Tokens, Audit and Settings, the current one marked', async () => {
      await signIn(page, users.admin.token);
      await nav(page).waitFor();
      const links = await nav(page).getByRole('link').allInnerTexts();
      assert.deepEqual(links, ['Secrets', 'Tokens', 'Audit', 'Settings']);
      assert.equal(await nav(page).getByRole('link', { name: 'Secrets' }).getAttribute('aria-current'), 'page');
      const dup = await page.evaluate(() => {
        const ids = [...document.querySelectorAll('[id]')].map((el) => el.id);
        return ids.filter((id, i) => ids.indexOf(id) !== i);
      });
      assert.deepEqual(dup, [], 'every id on the page is unique');
    });

    await t.test('the Tokens screen lists the tokens with kind, role or scope, created, expires and status', async () => {
      // By keyboard: the links are in the tab order and Enter follows them.
      await nav(page).getByRole('link', { name: 'Tokens' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Tokens', level: 1 }).waitFor();
      assert.equal(await nav(page).getByRole('link', { name: 'Tokens' }).getAttribute('aria-current'), 'page');
      assert.equal(await page.locator('#secrets-view').isVisible(), false);
      const headers = await page.locator('.tokens-table thead th').allInnerTexts();
      assert.deepEqual(headers.slice(0, 6), ['Name', 'Kind', 'Role or scope', 'Created', 'Expires', 'Status']);
      const mia = tokenRow(page, 'Mia Member');
      await mia.waitFor();
      assert.match(await mia.innerText(), /mia@dev\.local[\s\S]*User[\s\S]*Role member[\s\S]*Never[\s\S]*Active/);
      assert.match(await page.locator('#tokens-count').innerText(), /^\d+ tokens, \d+ active$/);
      await expectAccessible(page, 'the tokens list');
      await shot(page, 'ui-tokens.png');
    });

    await t.test('an admin creates a service token and sees it once, with a copy button and the warning', async () => {
      await page.getByRole('button', { name: 'Create token' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create token' });
      await dialog.waitFor();
      await dialog.getByRole('radio', { name: /^Service/ }).check();
      assert.equal(await dialog.getByLabel('Subject').isVisible(), false);
      await dialog.getByLabel('Name').fill('web production');
      await dialog.getByLabel('App').fill('web');
      await dialog.getByRole('checkbox', { name: 'Development' }).uncheck();
      await dialog.getByRole('checkbox', { name: 'Production' }).check();
      await dialog.getByRole('button', { name: 'Create token' }).click();

      const created = page.getByRole('dialog', { name: 'Token created' });
      await created.waitFor();
      assert.match(await created.innerText(), /Service token “web production” was created \(App web · Production\)/);
      assert.match(await created.innerText(), /Copy this token now: it will not be shown again\./);
      token = await created.getByLabel('Token', { exact: true }).inputValue();
      assert.match(token, /^zwrm_/);
      await created.getByRole('button', { name: 'Copy token' }).click();
      await created.getByText('Copied to the clipboard.').waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
      await expectAccessible(page, 'the token-created dialog');
      await shot(page, 'ui-token-created.png');

      // It is a working service token of that scope.
      const me = await h.api('GET', '/v1/me', token);
      assert.equal(me.kind, 'service');

      await created.getByRole('button', { name: 'Done' }).click();
      await created.waitFor({ state: 'hidden' });
      // The dialog's close event, a task after it hides, clears the field.
      await page.waitForFunction(() => /** @type {HTMLInputElement} */ (document.getElementById('token-created-value')).value === '');
      assert.equal(await page.locator('#token-created-value').inputValue(), '', 'the token is gone from the page once the dialog closes');
      const row = tokenRow(page, 'web production');
      await row.waitFor();
      assert.match(await row.innerText(), /Service[\s\S]*App web · Production[\s\S]*Never[\s\S]*Active/);
      assert.equal((await row.innerText()).includes(token), false, 'the list never shows the token');
    });

    await t.test('revoking asks first; Cancel keeps the token, Revoke token revokes it', async () => {
      const row = tokenRow(page, 'web production');
      await row.getByRole('button', { name: 'Revoke web production' }).click();
      const confirm = page.getByRole('alertdialog', { name: 'Revoke web production?' });
      await confirm.waitFor();
      assert.match(await confirm.innerText(), /cannot be undone/);
      await expectAccessible(page, 'the revoke confirmation');
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await confirm.waitFor({ state: 'hidden' });
      assert.match(await row.innerText(), /Active/);
      assert.equal((await h.api('GET', '/v1/me', token)).kind, 'service', 'still works after Cancel');

      await row.getByRole('button', { name: 'Revoke web production' }).click();
      await confirm.getByRole('button', { name: 'Revoke token' }).click();
      await confirm.waitFor({ state: 'hidden' });
      await row.getByText(/^Revoked /).waitFor();
      assert.equal(await row.getByRole('button').count(), 0, 'a revoked token has no Revoke button');
      await page.getByRole('status').filter({ hasText: 'Token “web production” was revoked.' }).waitFor();
      await assert.rejects(h.api('GET', '/v1/me', token), /401/);
    });

    await t.test('the Audit screen lists the token\'s creation and revocation and the secret change: who, what, names, versions, layer', async () => {
      await nav(page).getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
      await page.locator('#audit-count').filter({ hasText: '50 records loaded, older ones not yet' }).waitFor();
      const rows = auditRows(page);
      assert.match(await rows.nth(0).innerText(), /Ada Admin[\s\S]*ada@dev\.local[\s\S]*Revoked a token[\s\S]*service token web production/);
      assert.match(await rows.nth(1).innerText(), /Ada Admin[\s\S]*Created a token[\s\S]*service token web production/);
      const change = rows.filter({ hasText: 'Changed a secret' });
      assert.equal(await change.count(), 1);
      const cells = await change.locator('td').allInnerTexts();
      assert.match(cells[1], /Ada Admin/);
      assert.match(cells[2], /Changed a secret[\s\S]*values: development/);
      assert.equal(cells[3].trim(), 'PAYMENT_KEY version 2');
      assert.equal(cells[4].trim(), 'App web');
      const text = await page.locator('#audit-view').innerText();
      for (const v of Object.values(V)) assert.equal(text.includes(v), false, 'no value on the Audit screen');
      await expectAccessible(page, 'the audit screen');
      await shot(page, 'ui-audit.png');
    });

    await t.test('filters by action, secret name, actor and time narrow the records loaded', async () => {
      await page.getByLabel('Action', { exact: true }).selectOption({ label: 'Changed a secret' });
      assert.equal(await auditRows(page).count(), 1);
      assert.match(await page.locator('#audit-count').innerText(), /^1 of 50 records loaded match$/);
      await page.getByLabel('Action', { exact: true }).selectOption({ label: 'All actions' });

      await page.getByLabel('Secret name').fill('payment');
      assert.deepEqual(await auditRows(page).locator('td:nth-child(3) .what').allInnerTexts(), ['Changed a secret', 'Created a secret']);
      await page.getByLabel('Secret name').fill('');

      await page.getByLabel('Actor', { exact: true }).fill('ada@');
      assert.equal(await auditRows(page).count(), 4);
      await expectAccessible(page, 'the audit screen with filters');
      await page.getByLabel('Actor', { exact: true }).fill('');

      // From a minute from now: nothing loaded is that new.
      const soon = await page.evaluate(() => {
        const d = new Date(Date.now() + 120_000);
        const p = (n) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
      });
      await page.getByLabel('From', { exact: true }).fill(soon);
      assert.equal(await auditRows(page).count(), 0);
      await page.getByText('No loaded record matches the filters. Load older records to look further back.').waitFor();
      await page.getByLabel('From', { exact: true }).fill('');
      await page.getByLabel('To', { exact: true }).fill(soon);
      assert.equal(await auditRows(page).count(), 50);

      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.locator('#audit-count').filter({ hasText: '50 records loaded, older ones not yet' }).waitFor();
    });

    await t.test('Load older records brings the next page', async () => {
      await page.getByRole('button', { name: 'Load older records' }).click();
      await page.locator('#audit-count').filter({ hasText: /^\d+ records loaded$/ }).waitFor();
      const n = await auditRows(page).count();
      assert.ok(n > 50, `${n} records after the second page`);
      // The oldest: the first superadmin's token, made at start-up.
      assert.match(await auditRows(page).last().innerText(), /Created a token[\s\S]*by bootstrap/);
      assert.equal(await page.getByRole('button', { name: 'Load older records' }).isVisible(), false);
    });

    await t.test('an admin reads the settings, each explained, and cannot change them', async () => {
      await nav(page).getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      await page.getByText('Only a superadmin can change these settings; you can read them.').waitFor();
      const resolve = page.getByRole('group', { name: 'Environments user tokens may resolve' });
      await resolve.getByRole('checkbox', { name: 'Development' }).waitFor();
      assert.equal(await resolve.getByRole('checkbox', { name: 'Development' }).isChecked(), true);
      assert.equal(await resolve.getByRole('checkbox', { name: 'Production' }).isChecked(), false);
      assert.equal(await resolve.getByRole('checkbox', { name: 'Development' }).isDisabled(), true);
      const policies = page.getByRole('group', { name: 'Who may write each environment' });
      assert.equal(await policies.getByRole('combobox', { name: 'Production' }).inputValue(), '100');
      assert.equal(await policies.getByRole('combobox', { name: 'Development' }).inputValue(), '10');
      assert.equal(await policies.getByRole('combobox', { name: 'Production' }).isDisabled(), true);
      assert.equal(await page.getByLabel('Audit retention (days)').inputValue(), '400');
      assert.equal(await page.getByLabel('Audit retention (days)').isDisabled(), true);
      assert.equal(await page.getByRole('button', { name: 'Save settings' }).isVisible(), false);
      const text = await page.locator('#settings-view').innerText();
      assert.match(text, /may read plaintext values/);
      assert.match(text, /Who may set, clear, restore or rotate a value/);
      assert.match(text, /How long audit records are kept/);
      await expectAccessible(page, 'the settings, read-only');
      await page.context().close();
    });

    await t.test('a superadmin changes the audit retention and a write policy; the PATCH carries only those', async () => {
      const su = await newPage();
      await signIn(su, h.superadmin, '/#settings');
      await su.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      const retention = su.getByLabel('Audit retention (days)');
      await su.waitForFunction(() => /** @type {HTMLInputElement} */ (document.getElementById('settings-retention')).value === '400');
      assert.equal(await su.getByText('Only a superadmin can change these settings').isVisible(), false);
      assert.equal(await su.getByRole('button', { name: 'Save settings' }).isDisabled(), true, 'nothing to save yet');

      // The server's refusal, said once.
      await retention.fill('5000');
      await su.getByRole('button', { name: 'Save settings' }).click();
      const refusal = su.locator('#settings-retention-error');
      await refusal.waitFor();
      const said = (await refusal.innerText()).trim();
      assert.ok(said.length > 5, said);
      assert.equal(await su.getByText(said).count(), 1, 'the refusal is said once');
      await expectAccessible(su, 'the settings, editable, with a refusal');

      await retention.fill('90');
      await su.getByRole('group', { name: 'Who may write each environment' }).getByRole('combobox', { name: 'Production' })
        .selectOption({ label: 'Superadmins only' });
      await su.getByText('2 settings changed, not saved yet').waitFor();
      const patch = su.waitForRequest((r) => r.method() === 'PATCH' && new URL(r.url()).pathname === '/v1/org');
      await su.getByRole('button', { name: 'Save settings' }).click();
      assert.deepEqual((await patch).postDataJSON(), { environment_policies: { production: { min_write_priority: 1000 } }, audit_retention_days: 90 });
      await su.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
      assert.equal(await refusal.isVisible(), false);
      assert.equal(await su.getByRole('button', { name: 'Save settings' }).isDisabled(), true);
      const org = await h.api('GET', '/v1/org', h.superadmin);
      assert.equal(org.audit_retention_days, 90);
      assert.equal(org.environment_policies.production.min_write_priority, 1000);
      await expectAccessible(su, 'the settings, editable');
      await shot(su, 'ui-settings.png');
      await su.context().close();
    });

    await t.test('a user token needs a subject; an IAM token has no secret to show; the server\'s refusal is said once', async () => {
      const p = await newPage();
      await signIn(p, users.admin.token, '/#tokens');
      await tokenRow(p, 'Ada Admin').waitFor();
      await p.getByRole('button', { name: 'Create token' }).click();
      const dialog = p.getByRole('dialog', { name: 'Create token' });
      assert.deepEqual(await dialog.getByLabel('Role').locator('option').allInnerTexts(), ['Member', 'Admin'], 'not above the admin\'s own role');
      await dialog.getByLabel('Name').fill('Ann');
      await dialog.getByRole('button', { name: 'Create token' }).click();
      await dialog.getByText('Enter a subject, such as an email address.').waitFor();
      assert.equal(await dialog.getByLabel('Subject').getAttribute('aria-invalid'), 'true');

      const arn = 'arn:aws:iam::123456789012:role/web-prod';
      for (const attempt of [1, 2]) {
        if (attempt === 2) {
          await p.getByRole('button', { name: 'Create token' }).click();
        }
        await dialog.getByRole('radio', { name: /^IAM/ }).check();
        await dialog.getByLabel('Name').fill('web prod role');
        await dialog.getByLabel('IAM principal ARN').fill(arn);
        await dialog.getByRole('button', { name: 'Create token' }).click();
        if (attempt === 1) {
          const created = p.getByRole('dialog', { name: 'Token created' });
          await created.getByText(`An IAM token has no secret to copy: ${arn} signs its requests`).waitFor();
          assert.equal(await created.getByRole('button', { name: 'Copy token' }).isVisible(), false);
          await created.getByRole('button', { name: 'Done' }).click();
          await tokenRow(p, 'web prod role').waitFor();
          assert.match(await tokenRow(p, 'web prod role').innerText(), /IAM[\s\S]*Global · Development/);
        }
      }
      // The same principal again: the server refuses, and says so once, at the field.
      const refusal = dialog.locator('#token-arn-error');
      await refusal.waitFor();
      const said = (await refusal.innerText()).trim();
      assert.match(said, /already registered/);
      assert.equal(await dialog.getByLabel('IAM principal ARN').getAttribute('aria-invalid'), 'true');
      assert.equal(await p.getByText(said).count(), 1, 'the refusal is said once');
      await expectAccessible(p, 'the create-token dialog with a refusal');
      await p.context().close();
    });

    await t.test('at 390 px the tables scroll sideways in a region the keyboard reaches', async () => {
      const narrow = await newPage();
      await narrow.setViewportSize({ width: 390, height: 844 });
      await signIn(narrow, h.superadmin, '/#tokens');
      await tokenRow(narrow, 'Ada Admin').waitFor();
      const region = narrow.getByRole('region', { name: 'Tokens table' });
      assert.equal(await region.getAttribute('tabindex'), '0');
      assert.ok(await region.evaluate((el) => el.scrollWidth > el.clientWidth), 'the table is wider than the screen');
      assert.ok(await narrow.evaluate(() => document.documentElement.scrollWidth <= 390), 'the page itself does not scroll sideways');
      await expectAccessible(narrow, 'the tokens list at 390 px');
      await nav(narrow).getByRole('link', { name: 'Audit' }).click();
      await auditRows(narrow).first().waitFor();
      await expectAccessible(narrow, 'the audit screen at 390 px');
      await narrow.context().close();
    });

    await t.test('no value reached the page, resolve was never called, and nothing broke', async () => {
      const bodies = (await Promise.all(received)).filter(Boolean);
      for (const { url, body } of bodies) {
        assert.equal(new URL(url).pathname.startsWith('/v1/resolve'), false, `called ${url}`);
        for (const v of Object.values(V)) assert.equal(body.includes(v), false, `${url} carried a value`);
      }
      assert.deepEqual(problems, []);
    });
  });
}
