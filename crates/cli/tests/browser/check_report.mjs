// Opens ctiforge's report.html in Debian's headless chromium and checks it as a user would:
// no console errors, no network requests, one graph node per graphable STIX object, a click on
// a technique node shows its evidence, the IOC filter narrows the table, each generated
// detection rule is shown with its self-test and YAML. Saves a screenshot.
//
// Usage: node check_report.mjs REPORT.html BUNDLE.json SCREENSHOT.png
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [html, bundlePath, screenshot] = process.argv.slice(2);
const GRAPHABLE = new Set(['intrusion-set', 'campaign', 'malware', 'tool', 'attack-pattern',
  'indicator', 'vulnerability', 'course-of-action']);
const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
const expectedNodes = bundle.objects.filter((o) => GRAPHABLE.has(o.type)).length;
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
    if (r.url() !== pageUrl && !r.url().startsWith('data:')) failures.push(`network request: ${r.url()}`);
  });
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.ctiforgeGraph !== undefined);

  const nodes = await page.evaluate(() => window.ctiforgeGraph.nodes().length);
  if (nodes !== expectedNodes) failures.push(`graph has ${nodes} nodes, the bundle ${expectedNodes} graphable objects`);

  // Click a technique node where it is drawn.
  await page.locator('#graph-canvas').scrollIntoViewIfNeeded();
  // cytoscape caches where its container is; let it see the scroll before clicking.
  await page.waitForTimeout(300);
  const target = await page.evaluate(() => {
    const cy = window.ctiforgeGraph;
    cy.resize();
    const node = cy.nodes('[type = "attack-pattern"]').first();
    cy.zoom(1.5);
    cy.center(node);
    const p = node.renderedPosition();
    const box = cy.container().getBoundingClientRect();
    return { x: box.left + p.x, y: box.top + p.y, label: node.data('label'), id: node.id() };
  });
  await page.mouse.click(target.x, target.y);
  await page.waitForFunction(
    () => !document.querySelector('#graph-details').textContent.includes('Click a node'),
    null, { timeout: 5000 }).catch(() => {});
  const details = await page.locator('#graph-details').innerText();
  const technique = bundle.objects.find((o) => o.id === target.id);
  const evidenceStart = (technique.description || '').split(': ').slice(1).join(': ').slice(0, 40);
  if (!details.includes(target.label)) failures.push(`details after clicking ${target.label}: ${details.slice(0, 200)}`);
  if (!evidenceStart || !details.includes(evidenceStart)) failures.push(`details do not show the evidence "${evidenceStart}"`);

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
  const articles = await page.locator('#detections article.rule').count();
  if (articles !== sigmaRules) failures.push(`${articles} rule articles for ${sigmaRules} Sigma indicators`);
  if (articles > 0) {
    const rule = page.locator('#detections article.rule details').first();
    await rule.locator('summary').click();
    const code = await rule.locator('pre').innerText();
    if (!code.includes('detection:') || !code.includes('status: experimental')) failures.push(`rule YAML not shown: ${code.slice(0, 120)}`);
    const passed = await page.locator('#detections article.rule .badge.pass').count();
    if (passed !== articles) failures.push(`${passed} of ${articles} rules show a passed self-test`);
    // One tab per SIEM target: the second tab shows its own query and hides the first.
    const tabs = page.locator('#detections article.rule').first().locator('[role="tab"]');
    if (await tabs.count() >= 2) {
      const panels = page.locator('#detections article.rule').first().locator('[role="tabpanel"]');
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
