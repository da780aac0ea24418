// Drives Debian's Chromium (headless, through puppeteer-core; no browser is downloaded) to a list of
// HTTPS URLs and says, for each, whether the page loaded with the expected body. A child process
// because puppeteer-core is an ES module, which Jest's CommonJS runtime cannot load.
//
// stdin:  { executable, home, userDataDir, hostResolverRules, visits: [{ url, body }] }
// stdout: [{ url, result }], result 'ok' or why not (net::ERR_CERT_… when Chromium refuses the certificate)
import puppeteer from 'puppeteer-core';

const CONCURRENT_PAGES = 4;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function visit(browser, { url, body }) {
  const page = await browser.newPage();
  try {
    // A refused certificate fails the document request at once; page.goto only rejects once
    // Chromium has shown its interstitial, seconds later. The first of the two decides.
    const refused = new Promise((resolve) =>
      page.on('requestfailed', (request) => {
        if (request.isNavigationRequest() && request.frame() === page.mainFrame()) resolve(request.failure()?.errorText ?? 'request failed');
      }),
    );
    const loaded = page.goto(url, { timeout: 60_000 }).then(
      async (response) => {
        const text = await page.evaluate(() => document.body.innerText);
        return response?.status() === 200 && text === body ? 'ok' : `status ${response?.status()}, body ${JSON.stringify(text)}`;
      },
      (error) => error.message.replace(/ at https:\/\/\S+$/, ''),
    );
    return await Promise.race([refused, loaded]);
  } finally {
    await page.close();
  }
}

const input = await readStdin();
const browser = await puppeteer.launch({
  executablePath: input.executable,
  headless: true,
  userDataDir: input.userDataDir,
  // Chromium on Linux takes user-trusted roots from $HOME/.pki/nssdb.
  env: { ...process.env, HOME: input.home },
  args: [
    '--no-sandbox', // tests may run as root, where Chromium's sandbox cannot start
    `--host-resolver-rules=${input.hostResolverRules}`,
    '--no-first-run',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
  ],
});
try {
  const results = [];
  const queue = [...input.visits];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) results.push({ url: next.url, result: await visit(browser, next) });
  };
  await Promise.all(Array.from({ length: CONCURRENT_PAGES }, worker));
  process.stdout.write(JSON.stringify(results));
} finally {
  await browser.close();
}
