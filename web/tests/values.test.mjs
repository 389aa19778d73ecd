// Values as they are, rotation and copying names, in a real browser: a PEM
// key, a value with tabs and a JSON document pasted into the value fields
// reach a workload byte for byte; a rotation policy is set, shown with its
// next rotation and a warning near the value fields, and removed; names are
// copied from a row and from the edit view, and cell text can be selected.
//
// Without Chromium, the npm packages or Go this file skips with a message;
// with CI=true it fails instead.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { browserSuite, expectAccessible, row, signIn, start } from './harness.mjs';

await browserSuite('values, rotation and copying names in Chromium', suite);

// A throwaway key, made for this run only.
const PEM = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
const V = {
  pem: PEM,
  tabs: '\tcolumn one\tcolumn two\t\n  two leading spaces\tand a tab\ntrailing spaces and a blank line  \n\n',
  json: `${JSON.stringify({ service: 'billing', keys: { primary: 'json-secret-7f3a9c1e', backup: 'json-secret-0b2d4e6f' }, retries: [1, 2, 5] }, null, 2)}\n`,
  edited: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n\tAAAAAAABAAAAMwAAAAtzc2gtZWQy\n-----END OPENSSH PRIVATE KEY-----\n',
  rotated: 'rotated-secret-value-3c9d8e7f6a5b4c3d',
  typed: 'typed-under-rotation-1a2b3c4d5e6f7a8b',
};

function suite() {
  /** @type {import('./harness.mjs').Harness} */
  let h;
  const users = {};
  const received = [];
  const requested = [];
  const problems = [];

  before(async () => {
    h = await start();
    users.admin = await h.user('ada@dev.local', 'Ada Admin', 'admin');
    users.member = await h.user('mia@dev.local', 'Mia Member', 'member');
  }, { timeout: 400_000 });

  after(async () => {
    await h?.stop();
  });

  function newPage() {
    return h.page({ viewport: { width: 1280, height: 900 }, clipboard: true, problems, received, requested });
  }



  async function openSecret(page, name) {
    await row(page, name).locator('[col-id="name"] .name-text').click();
    await page.locator('#edit-dialog[open]').waitFor();
    await page.waitForFunction((n) => /** @type {HTMLInputElement} */ (document.getElementById('edit-name')).value === n, name);
  }

  /** paste puts text on the clipboard and pastes it into field with the keyboard, as a person would. */
  async function paste(page, field, text) {
    await page.evaluate((t) => navigator.clipboard.writeText(t), text);
    await field.focus();
    await page.keyboard.press('Control+V');
  }

  /** resolved is what a workload at global receives in development, asked by the test itself. */
  async function resolved(name) {
    const res = await h.api('POST', '/v1/resolve', users.admin.token, { environment: 'development' });
    return res.secrets[name];
  }

  const clipboard = (page) => page.evaluate(() => navigator.clipboard.readText());

  test('values, rotation and copying names in Chromium', { timeout: 300_000 }, async (t) => {
    const page = await newPage();
    await signIn(page, users.admin.token);

    await t.test('a pasted PEM private key is saved and resolved byte for byte', async () => {
      await page.locator('#add-secret').click();
      await page.locator('#add-dialog[open]').waitFor();
      await page.locator('#add-name').fill('TLS_PRIVATE_KEY');
      const dev = page.locator('#add-dialog').getByRole('textbox', { name: 'Development value', exact: true });
      await paste(page, dev, V.pem);
      assert.equal(await dev.inputValue(), V.pem, 'the field holds every line of the key');
      assert.equal(await dev.evaluate((e) => getComputedStyle(e).webkitTextSecurity), 'none', 'visible while focused');
      await page.locator('#add-name').focus();
      assert.equal(await dev.evaluate((e) => getComputedStyle(e).webkitTextSecurity), 'disc', 'masked once it is not focused');
      const show = page.locator('#add-dialog').getByRole('button', { name: 'Show Development value' });
      await show.click();
      assert.equal(await show.getAttribute('aria-pressed'), 'true');
      assert.equal(await dev.evaluate((e) => getComputedStyle(e).webkitTextSecurity), 'none', 'Show shows it');
      await show.click();
      assert.equal(await dev.evaluate((e) => getComputedStyle(e).webkitTextSecurity), 'disc');
      const [req] = await Promise.all([page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/v1/secrets')), page.locator('#add-submit').click()]);
      assert.equal(req.postDataJSON().values.development, V.pem, 'sent as typed');
      await page.locator('#add-dialog').waitFor({ state: 'hidden' });
      await row(page, 'TLS_PRIVATE_KEY').waitFor();
      assert.equal(await resolved('TLS_PRIVATE_KEY'), V.pem);
    });

    await t.test('a value with tabs, leading and trailing spaces and blank lines, and a JSON document, round-trip unchanged', async () => {
      for (const [name, value] of [['TABBED_VALUE', V.tabs], ['JSON_CONFIG', V.json]]) {
        await page.locator('#add-secret').click();
        await page.locator('#add-dialog[open]').waitFor();
        await page.locator('#add-name').fill(name);
        await paste(page, page.locator('#add-value-development'), value);
        await page.locator('#add-submit').click();
        await page.locator('#add-dialog').waitFor({ state: 'hidden' });
        await row(page, name).waitFor();
        assert.equal(await resolved(name), value, `${name} is resolved as pasted`);
      }
    });

    await t.test('a multi-line value pasted in the edit view replaces the old one byte for byte', async () => {
      await openSecret(page, 'TABBED_VALUE');
      const dev = page.locator('#edit-dialog').getByRole('textbox', { name: 'Development value', exact: true });
      await paste(page, dev, V.edited);
      const [req] = await Promise.all([page.waitForRequest((r) => r.method() === 'PATCH'), page.locator('#edit-save').click()]);
      assert.deepEqual(req.postDataJSON(), { version: 1, values: { development: V.edited } });
      await page.locator('#edit-version').filter({ hasText: '2' }).waitFor();
      assert.equal(await resolved('TABBED_VALUE'), V.edited);
      await page.keyboard.press('Escape');
      await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
    });

    await t.test('a rotation policy is set, shown with its next rotation and a warning near the values, and removed', async () => {
      const created = await h.api('POST', '/v1/secrets', users.admin.token, { name: 'ROTATED_KEY', values: { production: V.rotated } });
      await page.locator('#layer-select').selectOption('g'); // reload the list
      await row(page, 'ROTATED_KEY').waitFor();
      await openSecret(page, 'ROTATED_KEY');
      const section = page.getByRole('region', { name: 'Rotation' });
      assert.match(await section.innerText(), /No rotation policy/);
      assert.equal(await page.locator('#edit-rotation-warning').isHidden(), true);
      assert.equal(await section.getByRole('button', { name: 'Remove rotation policy' }).count(), 0);
      await expectAccessible(page, 'the rotation section without a policy');

      // A refusal from the server shows at its field, once, without the field's name in front.
      await section.getByLabel('Rotate every').fill('30 days');
      await section.getByRole('button', { name: 'Set rotation policy' }).click();
      const everyError = page.locator('#rotation-every-error');
      await everyError.waitFor();
      assert.doesNotMatch(await everyError.innerText(), /^every:/i);
      assert.equal(await page.locator('#rotation-every').getAttribute('aria-invalid'), 'true');

      await section.getByLabel('Rotate every').fill('30d');
      await section.getByRole('checkbox', { name: 'Production' }).check();
      await section.getByRole('checkbox', { name: 'Staging' }).check();
      await section.getByLabel('Length').fill('40');
      const [req] = await Promise.all([page.waitForRequest((r) => r.method() === 'PUT'), section.getByLabel('Length').press('Enter')]);
      assert.deepEqual(req.postDataJSON(), { every: '30d', environments: ['staging', 'production'], length: 40 });
      await page.locator('#rotation-policy').waitFor();
      const detail = await h.api('GET', `/v1/secrets/${created.id}`, users.admin.token);
      assert.equal(detail.rotation.every, '30d');
      const next = await page.evaluate((iso) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)), detail.rotation.next_at);
      assert.equal(await page.locator('#rotation-next').innerText(), next, 'the next rotation time');
      assert.equal(await page.locator('#rotation-policy-envs').innerText(), 'Staging and Production');
      assert.equal(await page.locator('#rotation-policy-length').innerText(), '40 characters');
      assert.equal(await page.locator('#rotation-policy-alphabet').innerText(), 'letters and digits');
      assert.equal(await page.locator('#rotation-last').innerText(), 'Not yet');
      assert.equal(await page.locator('#edit-version').innerText(), String(detail.version));

      // The warning sits with the value fields and describes the rotated ones.
      const warning = page.locator('#edit-rotation-warning');
      assert.equal(await warning.isVisible(), true);
      assert.equal(await warning.innerText(),
        `This secret is rotated every 30d: a Staging and Production value you type here will be replaced by random characters at the next rotation, ${next}.`);
      assert.ok(await page.locator('#edit-fields #edit-rotation-warning').count(), 'inside the value fields');
      assert.match(await page.locator('#edit-value-production').getAttribute('aria-describedby'), /\bedit-rotation-warning\b/);
      assert.match(await page.locator('.env-row[data-env="production"]').getAttribute('class'), /\benv-rotated\b/);
      assert.doesNotMatch(await page.locator('.env-row[data-env="development"]').getAttribute('class'), /\benv-rotated\b/);
      await expectAccessible(page, 'the rotation section with a policy and its warning');

      // What was typed survives a change of policy, and saves at the new version.
      await page.locator('#edit-value-production').fill(V.typed);
      await section.getByLabel('Length').fill('48');
      await section.getByRole('button', { name: 'Save rotation policy' }).click();
      await page.locator('#rotation-policy-length').filter({ hasText: '48 characters' }).waitFor();
      assert.equal(await page.locator('#edit-value-production').inputValue(), V.typed);
      const [save] = await Promise.all([page.waitForRequest((r) => r.method() === 'PATCH'), page.locator('#edit-save').click()]);
      assert.deepEqual(save.postDataJSON(), { version: detail.version + 1, values: { production: V.typed } });
      await page.locator('#edit-version').filter({ hasText: String(detail.version + 2) }).waitFor();

      await section.getByRole('button', { name: 'Remove rotation policy' }).click();
      await page.locator('#rotation-policy').waitFor({ state: 'hidden' });
      assert.match(await page.locator('#rotation-status').innerText(), /No rotation policy/);
      assert.equal(await warning.isHidden(), true);
      assert.equal((await h.api('GET', `/v1/secrets/${created.id}`, users.admin.token)).rotation, null);
      await page.keyboard.press('Escape');
      await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
    });

    await t.test('a member may not rotate production: its box is disabled on her own secret', async () => {
      await h.api('POST', '/v1/secrets', users.member.token, { name: 'MIA_SECRET', values: { development: 'mia-dev-value-0a1b2c3d4e5f6a7b' } });
      const mpage = await newPage();
      await signIn(mpage, users.member.token);
      await openSecret(mpage, 'MIA_SECRET');
      const section = mpage.getByRole('region', { name: 'Rotation' });
      assert.equal(await section.getByRole('checkbox', { name: 'Production' }).isDisabled(), true);
      assert.equal(await section.getByRole('checkbox', { name: 'Development' }).isDisabled(), false);
      await mpage.context().close();
    });

    await t.test('a name is copied from its row and from the edit view, and cell text can be selected', async () => {
      await page.evaluate(() => navigator.clipboard.writeText(''));
      await row(page, 'JSON_CONFIG').getByRole('button', { name: 'Copy name JSON_CONFIG' }).click();
      await page.waitForFunction(async () => (await navigator.clipboard.readText()) === 'JSON_CONFIG');
      assert.equal(await page.locator('#edit-dialog').isVisible(), false, 'copying does not open the row');
      assert.equal(await page.locator('#toast').innerText(), 'Copied JSON_CONFIG.');

      await openSecret(page, 'TLS_PRIVATE_KEY');
      await page.locator('#edit-dialog').getByRole('button', { name: 'Copy name TLS_PRIVATE_KEY' }).click();
      await page.waitForFunction(async () => (await navigator.clipboard.readText()) === 'TLS_PRIVATE_KEY');
      assert.equal(await clipboard(page), 'TLS_PRIVATE_KEY');
      await page.keyboard.press('Escape');
      await page.locator('#edit-dialog').waitFor({ state: 'hidden' });

      // Dragging across a name selects it, and does not open the row.
      const text = row(page, 'ROTATED_KEY').locator('.name-text');
      assert.equal(await text.evaluate((e) => getComputedStyle(e).userSelect), 'text');
      const box = await text.boundingBox();
      await page.mouse.move(box.x + 1, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      assert.match(await page.evaluate(() => String(getSelection())), /^ROTATED_KE/);
      assert.equal(await page.locator('#edit-dialog').isVisible(), false, 'selecting does not open the row');
    });

    await t.test('no response the page received holds a value, and the page never called resolve', async () => {
      const bodies = (await Promise.all(received)).filter(Boolean);
      const secret = [V.pem, V.tabs, V.json, V.edited, V.rotated, V.typed, 'json-secret-7f3a9c1e', PEM.split('\n')[1]];
      for (const b of bodies) {
        for (const v of secret) assert.ok(!b.body.includes(v), `${b.url} contains a value`);
      }
      assert.deepEqual(requested.filter((r) => r.includes('/v1/resolve')), []);
      assert.deepEqual(problems, [], 'no console errors, page errors or CSP violations');
    });
  });
}
