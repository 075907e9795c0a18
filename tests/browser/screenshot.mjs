// Takes the README's picture of the console (docs/console.png) from a running server with the
// sample data (`streetplanner demo`):
//   BASE=http://127.0.0.1:8080 PASSWORD=… [SCREEN=registry] [OUT=../../docs/console.png] node screenshot.mjs
// Signs in as `admin`, opens the screen and saves a 1280 px wide picture.
import { chromium } from 'playwright-core';

const BASE = process.env.BASE || 'http://127.0.0.1:8080';
const OUT = process.env.OUT || new URL('../../docs/console.png', import.meta.url).pathname;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--lang=zh-CN'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
await page.goto(`${BASE}/`);
await page.getByLabel('用户名').fill(process.env.USERNAME_ || 'admin');
await page.getByLabel('密码').fill(process.env.PASSWORD);
await page.getByRole('button', { name: '登录' }).click();
await page.getByTestId('who').waitFor();
await page.goto(`${BASE}/#/${process.env.SCREEN || 'registry'}`);
await page.waitForLoadState('networkidle');
await page.waitForTimeout(1000);
await page.screenshot({ path: OUT, fullPage: !!process.env.FULL });
await browser.close();
console.log(`saved ${OUT}`);
