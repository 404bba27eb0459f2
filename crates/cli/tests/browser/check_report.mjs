// Opens ctiforge's report.html in Debian's headless chromium and checks it as a user would:
// no console errors (a script or style blocked by the page's Content-Security-Policy would be
// one), no network requests, one graph node per graphable STIX object (up to the drawing's
// cap), a click on a technique node shows its evidence, the type filter hides nodes, zoom
// moves the drawing, the IOC filter narrows the table, each generated detection rule is shown
// with its self-test and YAML. Saves a screenshot.
//
// Usage: node check_report.mjs REPORT.html BUNDLE.json SCREENSHOT.png
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [html, bundlePath, screenshot] = process.argv.slice(2);
const GRAPHABLE = new Set(['intrusion-set', 'campaign', 'malware', 'tool', 'attack-pattern',
  'indicator', 'vulnerability', 'course-of-action']);
const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
const graphable = bundle.objects.filter((o) => GRAPHABLE.has(o.type)).length;
const expectedNodes = Math.min(graphable, 400);
const pageUrl = pathToFileURL(html).href;

const failures = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (r.url() !== pageUrl && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) failures.push(`network request: ${r.url()}`);
  });
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.ctiforgeGraph !== undefined);

  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  if (csp.includes('unsafe-inline')) failures.push(`the CSP allows unsafe-inline: ${csp}`);

  const nodes = await page.evaluate(() => window.ctiforgeGraph.nodes().length);
  const total = await page.evaluate(() => window.ctiforgeGraph.total);
  if (nodes !== expectedNodes) failures.push(`graph has ${nodes} nodes, the bundle ${graphable} graphable objects`);
  if (total !== graphable) failures.push(`graph says ${total} objects, the bundle has ${graphable}`);

  // Click a technique node where it is drawn.
  const node = page.locator('#graph-svg .node.t-attack-pattern').first();
  await node.scrollIntoViewIfNeeded();
  const target = { id: await node.getAttribute('data-id') };
  target.label = (await node.locator('title').textContent()).replace(/^[^:]*: /, '');
  // Click the node's shape, where a user would.
  await node.locator(':scope > :is(circle, polygon, rect)').first().click();
  const details = await page.locator('#graph-details').innerText();
  const technique = bundle.objects.find((o) => o.id === target.id);
  const evidenceStart = (technique.description || '').split(': ').slice(1).join(': ').slice(0, 40);
  if (!details.includes(target.label)) failures.push(`details after clicking ${target.label}: ${details.slice(0, 200)}`);
  if (!evidenceStart || !details.includes(evidenceStart)) failures.push(`details do not show the evidence "${evidenceStart}"`);
  const selected = await page.evaluate(() => window.ctiforgeGraph.selected());
  if (selected !== target.id) failures.push(`selected ${selected}, clicked ${target.id}`);
  const faded = await page.locator('#graph-svg .node.faded').count();
  if (nodes > 2 && faded === 0) failures.push('selecting a node lit the whole graph');

  // Zoom and the type filter.
  const before = await page.locator('#graph-viewport').getAttribute('transform');
  await page.click('#graph-zoom-in');
  const after = await page.locator('#graph-viewport').getAttribute('transform');
  if (before === after) failures.push(`zoom did not move the drawing (${after})`);
  await page.locator('#graph-legend input[data-type="attack-pattern"]').uncheck();
  const visibleTechniques = await page.locator('#graph-svg .node.t-attack-pattern:not(.hidden)').count();
  if (visibleTechniques !== 0) failures.push(`${visibleTechniques} technique nodes still shown after unticking the type`);
  await page.locator('#graph-legend input[data-type="attack-pattern"]').check();
  await page.click('#graph-fit');

  // IOC filter.
  const rows = await page.locator('#ioc-table tbody tr').count();
  if (rows > 0) {
    const firstValue = await page.locator('#ioc-table tbody tr td:nth-child(2)').first().getAttribute('data-value');
    await page.fill('#ioc-filter', firstValue);
    const visible = await page.locator('#ioc-table tbody tr:not([hidden])').count();
    if (visible < 1 || (rows > 1 && visible >= rows)) failures.push(`IOC filter shows ${visible} of ${rows} rows for ${firstValue}`);
    await page.fill('#ioc-filter', 'no-such-indicator-anywhere');
    const none = await page.locator('#ioc-table tbody tr:not([hidden])').count();
    if (none !== 0) failures.push(`IOC filter shows ${none} rows for a value that is not there`);
    await page.fill('#ioc-filter', '');
  }

  // Detection rules: one article per generated rule (the bundle's Sigma indicators); opening
  // one shows its YAML.
  const sigmaRules = bundle.objects.filter((o) => o.type === 'indicator' && o.pattern_type === 'sigma').length;
  const articles = await page.locator('#detection article.rule').count();
  if (articles !== sigmaRules) failures.push(`${articles} rule articles for ${sigmaRules} Sigma indicators`);
  if (articles > 0) {
    const rule = page.locator('#detection article.rule details').first();
    await rule.locator('summary').click();
    const code = await rule.locator('pre').innerText();
    if (!code.includes('detection:') || !code.includes('status: experimental')) failures.push(`rule YAML not shown: ${code.slice(0, 120)}`);
    const passed = await page.locator('#detection article.rule .badge.pass').count();
    if (passed !== articles) failures.push(`${passed} of ${articles} rules show a passed self-test`);
    // One tab per SIEM target: the second tab shows its own query and hides the first.
    const tabs = page.locator('#detection article.rule').first().locator('[role="tab"]');
    if (await tabs.count() >= 2) {
      const panels = page.locator('#detection article.rule').first().locator('[role="tabpanel"]');
      if (!(await panels.nth(0).isVisible()) || await panels.nth(1).isVisible()) failures.push('the first query tab is not the only one shown');
      await tabs.nth(1).click();
      if (await panels.nth(0).isVisible() || !(await panels.nth(1).isVisible())) failures.push('clicking the second query tab does not show its panel');
      const copyButtons = await panels.nth(1).locator('button[data-copy]').count();
      if (copyButtons !== 1) failures.push(`the query panel has ${copyButtons} copy buttons`);
    } else {
      failures.push('no query tabs: the page was made without --siem targets');
    }
  }

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ nodes, clicked: target.label, iocRows: rows, rules: articles, screenshot }));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
