// Screenshots of each dashboard page for the README (docs/screenshots/*.png), taken in Debian's
// chromium over the demo app (scripts/dashboard-demo.mjs). Run `npm run build` first.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startDemo } from './dashboard-demo.mjs';

const out = 'docs/screenshots';
mkdirSync(out, { recursive: true });
const demo = await startDemo();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, colorScheme: 'light' });
  const shoot = async (name, fullPage = true) => {
    await page.screenshot({ path: `${out}/${name}.png`, fullPage });
    console.log(`${out}/${name}.png`);
  };
  const badge = (status) => page.locator(`.page-head [data-status="${status}"]`);

  // Let the seeded invocations run: the flaky transcode succeeds on its second attempt.
  await page.goto(`${demo.url}#/invocations/${demo.ids.flaky}`);
  await badge('Succeeded').waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="log-lines"] .log-line').nth(4).waitFor();
  await shoot('invocation-retried');

  await page.goto(`${demo.url}#/invocations/${demo.ids.running}`);
  await page.locator('[data-testid="log-lines"] .log-line').nth(5).waitFor({ timeout: 30_000 });
  await shoot('invocation-running');

  await page.goto(`${demo.url}#/invocations`);
  await page.locator('[data-testid="invocations"] tbody tr').nth(10).waitFor();
  await page.locator('[data-status="Failed"]').first().waitFor();
  await shoot('invocations');

  await page.goto(demo.url);
  await page.locator('[data-testid="chart-outcomes-transcode"] canvas').waitFor();
  await page.locator('[data-testid="workers"] tbody tr').first().waitFor();
  await shoot('overview');
} finally {
  await browser.close();
  await demo.close();
}
