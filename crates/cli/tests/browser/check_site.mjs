// Drives the web UI of `ctiforge serve` in Debian's headless chromium as a new user would:
// sign in with a token, submit a report, follow the job to the report page, click a graph node
// and see its evidence, show an evidence sentence in the report's text, search by an indicator
// and find the report, open an entity page, download the STIX bundle. No console error (a
// script or style blocked by the Content-Security-Policy would be one), no request leaves the
// server. axe-core finds no serious or critical accessibility violation on the feed, the
// report, search, coverage, technique and submit pages. Screenshots at desktop and phone width.
//
// Usage: node check_site.mjs BASE_URL TOKEN REPORT.md ARTIFACTS_DIR
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [base, token, reportPath, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const reportText = readFileSync(reportPath, 'utf8');
const origin = new URL(base).origin;

const failures = [];
const fail = (message) => failures.push(message);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

function watch(page, label) {
  page.on('console', (m) => { if (m.type() === 'error') fail(`${label}: console error: ${m.text()}`); });
  page.on('pageerror', (e) => fail(`${label}: page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().includes('/signin')) fail(`${label}: ${r.status()} for ${r.url()}`); });
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) {
      fail(`${label}: request left the server: ${url}`);
    }
  });
}

let reportUrl = '';
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  watch(page, 'desktop');

  // Sign in.
  await page.goto(`${base}/`);
  if (!page.url().includes('/signin')) fail(`an anonymous visit did not lead to sign-in: ${page.url()}`);
  await page.fill('#token', token);
  await page.click('form.signin button[type=submit]');
  await page.waitForURL(`${base}/`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'ctiforge_session');
  if (!session || !session.httpOnly || session.sameSite !== 'Strict') fail(`session cookie: ${JSON.stringify(session)}`);

  // Submit a report and follow its job to the report page.
  await page.click('header.site a[href="/submit"]');
  await page.fill('#text', reportText);
  await page.selectOption('#tlp', 'green');
  await page.click('form.submit button[type=submit]');
  await page.waitForURL(/\/jobs\/\d+$/);
  await page.waitForURL(/\/reports\/\d+$/, { timeout: 120000 });
  reportUrl = page.url();

  // The report page: the sections in DESIGN.md's order.
  const order = await page.locator('main section[id]').evaluateAll((s) => s.map((e) => e.id));
  const expected = ['summary', 'risks', 'affected', 'exploitation', 'leads', 'mitigations', 'recommendations', 'techniques', 'iocs', 'actors', 'risk', 'detection', 'response', 'graph', 'source'];
  if (JSON.stringify(order) !== JSON.stringify(expected)) fail(`sections: ${order.join(', ')}`);

  // A graph node shows its evidence.
  const node = page.locator('#graph-svg .node.t-attack-pattern').first();
  await node.scrollIntoViewIfNeeded();
  await node.locator(':scope > :is(circle, polygon, rect)').first().click();
  const details = await page.locator('#graph-details').innerText();
  if (!details.includes('Evidence in the report')) fail(`graph details: ${details.slice(0, 200)}`);

  // Evidence shown in the report's text.
  const evidence = page.locator('#techniques blockquote').first();
  const sentence = (await evidence.innerText()).split('\n')[0].trim().slice(0, 40);
  await evidence.locator('a.to-source').click();
  const lit = page.locator('.sentence.lit').first();
  if (!(await lit.isVisible())) fail('no sentence lit in the report text');
  else if (!(await lit.innerText()).includes(sentence)) fail(`lit sentence does not hold the evidence "${sentence}"`);
  await page.screenshot({ path: join(artifacts, 'report-desktop.png'), fullPage: false });

  // Download the STIX bundle.
  await page.click('.downloads summary');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-stix')]);
  const saved = join(artifacts, 'bundle.json');
  await download.saveAs(saved);
  const bundle = JSON.parse(readFileSync(saved, 'utf8'));
  if (bundle.type !== 'bundle' || !bundle.objects.length) fail('the downloaded bundle is not a STIX bundle');

  // An entity page from the report.
  await page.goto(reportUrl);
  await page.locator('#techniques h3 a').first().click();
  await page.waitForURL(/\/techniques\//);
  const seen = await page.locator('.seen').innerText();
  if (!/Seen in \d+ report/.test(seen)) fail(`entity page: ${seen}`);
  if ((await page.locator('section.facts dt').count()) === 0) fail('entity page shows no knowledge-base facts');

  // Search by an indicator and find the report.
  const hash = bundle.objects.find((o) => o.type === 'indicator' && o.pattern && o.pattern.includes("SHA-256"));
  const value = hash ? hash.pattern.match(/'([0-9a-f]{64})'/)[1] : null;
  if (!value) fail('no SHA-256 indicator in the bundle to search for');
  else {
    await page.fill('#site-search', `ioc:${value}`);
    await page.press('#site-search', 'Enter');
    await page.waitForURL(/\/search\?q=/);
    const found = await page.locator('.card h3 a').evaluateAll((links) => links.map((a) => a.href));
    if (!found.includes(reportUrl)) fail(`search for the hash did not find ${reportUrl}: ${found}`);
    if ((await page.locator('.card blockquote.match').count()) === 0) fail('search results show no matching sentence');
  }
  await page.screenshot({ path: join(artifacts, 'search-desktop.png') });
  await page.goto(`${base}/`);
  await page.screenshot({ path: join(artifacts, 'feed-desktop.png') });

  // Phone width: nothing wider than the screen.
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, storageState: await context.storageState() });
  const small = await phone.newPage();
  watch(small, 'phone');
  for (const [name, url] of [['feed', `${base}/`], ['report', reportUrl]]) {
    await small.goto(url);
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 2) {
      const widest = await small.evaluate(() => {
        const width = document.documentElement.clientWidth;
        const scrolled = (e) => {
          for (let a = e.parentElement; a; a = a.parentElement) {
            if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return true;
          }
          return false;
        };
        const wide = [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > width + 2 && !scrolled(e));
        const outermost = wide.filter((e) => !wide.includes(e.parentElement));
        return outermost.slice(0, 3).map((e) => e.outerHTML.slice(0, 120));
      });
      fail(`${name} page is ${overflow}px wider than a 360px phone: ${widest.join(', ')}`);
    }
    await small.screenshot({ path: join(artifacts, `${name}-phone.png`) });
  }

  // Accessibility, with axe-core injected (a context that lets the test script in).
  const audit = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true, storageState: await context.storageState() });
  const checker = await audit.newPage();
  const pages = [['feed', `${base}/`], ['report', reportUrl], ['search', `${base}/search?q=ransomware`],
    ['coverage', `${base}/coverage`], ['technique', `${base}/techniques/T1003.001`], ['submit', `${base}/submit`]];
  for (const [name, url] of pages) {
    await checker.goto(url);
    await checker.addScriptTag({ path: axePath });
    const result = await checker.evaluate(async () => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } }));
    for (const v of result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      fail(`axe on ${name}: ${v.id} (${v.impact}): ${v.help}; e.g. ${v.nodes[0].target.join(' ')}`);
    }
  }
  console.log(JSON.stringify({ report: reportUrl, sections: order.length, bundleObjects: bundle.objects.length, artifacts }));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
