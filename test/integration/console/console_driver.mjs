// Drives Debian's headless Chromium (puppeteer-core, no browser download) through the audit console
// as an auditor would, and reports what it saw. A child process because puppeteer-core is an ES
// module, which Jest's CommonJS runtime cannot load.
//
// stdin:  { executable, url, admin: { user, secret }, viewer: { user, secret }, serial, csr, screenshots }
// stdout: { ...what each step saw }
import puppeteer from 'puppeteer-core';
import { join } from 'node:path';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const input = await readStdin();
const browser = await puppeteer.launch({
  executablePath: input.executable,
  headless: true,
  args: ['--no-sandbox', '--no-first-run', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'],
});
const seen = { cspViolations: [], pageErrors: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) seen.cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => seen.pageErrors.push(error.message));
  const shoot = (name) => page.screenshot({ path: join(input.screenshots, `${name}.png`), fullPage: true });
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  const rows = () => page.$$eval('table.records tbody tr', (trs) => trs.map((tr) => tr.innerText));

  // No session: the console sends the browser to the sign-in form.
  await page.goto(`${input.url}/ui/search`);
  seen.unauthenticatedLandedOn = new URL(page.url()).pathname;
  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press('Tab');
  seen.firstTabStop = await page.evaluate(() => document.activeElement?.textContent);
  await page.type('#user', input.admin.user);
  await page.type('#secret', input.admin.secret);
  await shoot('login');
  await submit('form.login button[type=submit]');
  seen.afterLogin = new URL(page.url()).pathname;

  await page.type('#name', '*.payments.mayfly.test');
  await submit('form.search button[type=submit]');
  seen.byName = await rows();
  await shoot('search');

  await page.goto(`${input.url}/ui/search`);
  await page.type('#validator', 'public_key');
  await submit('form.search button[type=submit]');
  seen.byValidator = await rows();

  await page.goto(`${input.url}/ui/search?serial=${encodeURIComponent(input.serial)}`);
  seen.bySerial = await rows();
  await submit('table.records tbody tr a');
  await page.waitForFunction(() => !['unchecked', 'checking'].includes(document.getElementById('proof-status')?.dataset.state), { timeout: 30_000 });
  seen.proof = await page.$eval('#proof-status', (status) => ({ state: status.dataset.state, text: status.textContent }));
  seen.recordHeadings = await page.$$eval('main h2', (headings) => headings.map((h) => h.textContent));
  await shoot('record');

  await page.goto(`${input.url}/ui/`);
  await page.waitForFunction(() => document.getElementById('activity-chart')?.dataset.drawn === 'true', { timeout: 30_000 }).catch(() => undefined);
  seen.chartDrawn = await page.evaluate(() => document.getElementById('activity-chart')?.dataset.drawn === 'true' && document.querySelector('#activity-chart canvas') !== null);
  seen.overviewHeadings = await page.$$eval('main h2', (headings) => headings.map((h) => h.textContent));
  await shoot('overview');

  await page.goto(`${input.url}/ui/dry-run`);
  await page.$eval('#csr', (area, csr) => (area.value = csr), input.csr);
  await submit('form.dry-run button[type=submit]');
  seen.dryRun = await page.$eval('#dry-run-result', (section) => ({ result: section.dataset.result, text: section.innerText }));
  await shoot('dry-run');

  // A requester outside every audit admin group, in a browser context of its own.
  const context = await browser.createBrowserContext();
  const other = await context.newPage();
  await other.goto(`${input.url}/ui/login`);
  await other.type('#user', input.viewer.user);
  await other.type('#secret', input.viewer.secret);
  const [response] = await Promise.all([other.waitForNavigation(), other.click('form.login button[type=submit]')]);
  seen.nonAdmin = { status: response.status(), text: await other.evaluate(() => document.querySelector('main')?.innerText) };
  await other.screenshot({ path: join(input.screenshots, 'forbidden.png') });
  await context.close();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
