// End-to-end checks of the residents' pages in a real Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core). Started by tests/browser.rs, which runs the server and passes:
//   BASE         the server's origin, e.g. http://127.0.0.1:40123
//   CHROMIUM     the browser binary
//   ARTIFACTS    a directory for screenshots
//   FINAL_CODE   the 核验码 of a finalized assessment
//   FINAL_FACTS  JSON: what /verify must show for it (planner, street, term, total, grade)
//   REPLIED_CODE a tracking code whose letter has a reply, and REPLY_TEXT that reply
//   LETTERS_PER_HOUR the server's per-client letter limit
// Prints one line per check and exits non-zero on the first failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const BASE = process.env.BASE;
const ARTIFACTS = process.env.ARTIFACTS || join(tmpdir(), 'streetplanner-browser');
const FACTS = JSON.parse(process.env.FINAL_FACTS || '{}');
const LIMIT = Number(process.env.LETTERS_PER_HOUR || '0');
mkdirSync(ARTIFACTS, { recursive: true });
const origin = new URL(BASE).origin;

const profile = mkdtempSync(join(tmpdir(), 'sp-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
});

// Every request any page makes, and every console error or uncaught exception.
const offOrigin = [];
const problems = [];
const watch = (page) => {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${page.url()}: console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: uncaught: ${e.message}`));
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).host !== new URL(BASE).host) offOrigin.push(ws.url());
  });
};
context.on('request', (r) => {
  const u = r.url();
  if (u.startsWith('data:') || u.startsWith('blob:')) return;
  if (new URL(u).origin !== origin) offOrigin.push(u);
});
context.on('page', watch);

let failed = false;
async function check(name, body) {
  const page = await context.newPage();
  watch(page);
  const before = problems.length;
  try {
    await body(page);
    assert.deepEqual(problems.slice(before), [], 'no console errors');
    console.log(`ok - ${name}`);
  } catch (e) {
    failed = true;
    console.log(`not ok - ${name}\n  ${String(e.stack || e).split('\n').join('\n  ')}`);
    await page.screenshot({ path: join(ARTIFACTS, `FAILED-${name.replace(/\W+/g, '_')}.png`), fullPage: true }).catch(() => {});
  } finally {
    await page.close();
  }
}

const text = (page, sel) => page.locator(sel).innerText();
const noSideways = async (page) => {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= 390, `the page fits 390 px without scrolling sideways (is ${w} px)`);
};

await check('mailbox: a resident writes a letter at 390 px and follows it by code', async (page) => {
  await page.goto(`${BASE}/mailbox`);
  await page.getByRole('heading', { name: '驻街规划师信箱' }).waitFor();
  const street = page.getByLabel('所在街道');
  await street.locator('option', { hasText: '西兴街道' }).waitFor({ state: 'attached' });
  await street.selectOption({ label: '西兴街道' });
  const communities = await page.getByLabel('所在社区').locator('option').allInnerTexts();
  assert.ok(communities.length > 1, `the street's communities are offered: ${communities}`);
  await page.getByLabel('所在社区').selectOption({ index: 1 });
  await page.getByLabel('来信类别').selectOption({ label: '公共空间与环境' });
  // The limit is shown while typing.
  const content = page.getByLabel('来信内容');
  await content.fill('小区门口的人行道');
  assert.equal((await text(page, '#content-count')).trim(), '已输入 8 / 2000 字');
  await content.fill('路'.repeat(2003));
  assert.match(await text(page, '#content-count'), /已超出 3 字/);
  assert.ok(await page.getByRole('button', { name: '提交来信' }).isDisabled(), 'an over-long letter cannot be sent');
  // Characters outside the BMP count once, as the server counts them.
  await content.fill('𠀀'.repeat(2000));
  assert.equal((await text(page, '#content-count')).trim(), '已输入 2000 / 2000 字');
  await content.fill('江边绿道的路灯晚上不亮，行人不安全，希望尽快修复。');
  await page.getByLabel('联系方式').fill('13800000000');
  await noSideways(page);
  await page.screenshot({ path: join(ARTIFACTS, 'mailbox-form-390.png'), fullPage: true });
  await page.getByRole('button', { name: '提交来信' }).click();
  const codeBox = page.getByTestId('tracking-code');
  await codeBox.waitFor();
  const code = (await codeBox.innerText()).trim();
  assert.ok(code.length >= 6, `a tracking code is shown: ${code}`);
  const size = await codeBox.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(size >= 24, `the code is shown large (${size}px)`);
  await page.getByText('请妥善保存查询码').waitFor();
  await page.getByRole('button', { name: '复制查询码' }).click();
  await page.getByRole('status').filter({ hasText: /已复制查询码|手动复制/ }).waitFor();
  await noSideways(page);
  await page.screenshot({ path: join(ARTIFACTS, 'mailbox-submitted-390.png'), fullPage: true });
  // Follow it by the code.
  await page.getByRole('button', { name: '查询办理进度' }).click();
  const status = page.getByTestId('letter-status');
  await status.waitFor();
  const shown = await status.innerText();
  assert.match(shown, new RegExp(code));
  assert.match(shown, /西兴街道/);
  assert.match(shown, /已收到，待答复/);
  assert.doesNotMatch(shown, /13800000000/, 'the contact is never shown publicly');
  // A fresh visit, typing the code by hand (lower case and spaces do not matter).
  await page.goto(`${BASE}/mailbox`);
  await page.getByLabel('查询码').fill(`  ${code.toLowerCase()} `);
  await page.getByRole('button', { name: '查询', exact: true }).click();
  await status.waitFor();
  assert.match(await status.innerText(), /已收到，待答复/);
});

await check('mailbox: a replied letter shows its reply; an unknown code says so in Chinese', async (page) => {
  await page.goto(`${BASE}/mailbox?code=${encodeURIComponent(process.env.REPLIED_CODE)}`);
  const status = page.getByTestId('letter-status');
  await status.waitFor();
  const shown = await status.innerText();
  assert.match(shown, /已答复/);
  assert.ok(shown.includes(process.env.REPLY_TEXT), `the reply is shown: ${shown}`);
  await page.screenshot({ path: join(ARTIFACTS, 'mailbox-replied-390.png'), fullPage: true });
  await page.getByLabel('查询码').fill('ZZZZ-ZZZZ');
  await page.getByRole('button', { name: '查询', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: '未找到该查询码对应的来信' }).waitFor();
});

await check('mailbox: missing fields and the rate limit come back as Chinese sentences', async (page) => {
  await page.goto(`${BASE}/mailbox`);
  await page.getByLabel('所在街道').locator('option', { hasText: '长河街道' }).waitFor({ state: 'attached' });
  await page.getByRole('button', { name: '提交来信' }).click();
  await page.getByText('请选择您所在的街道').waitFor();
  await page.getByText('请选择来信类别').waitFor();
  await page.getByText('请填写来信内容').waitFor();
  // The first letter of this client was sent above; send until the limit refuses one.
  let refused = '';
  for (let i = 1; i <= LIMIT + 1 && !refused; i++) {
    await page.getByLabel('所在街道').selectOption({ label: '长河街道' });
    await page.getByLabel('来信类别').selectOption({ label: '交通出行' });
    await page.getByLabel('来信内容').fill(`第 ${i} 封：公交站台缺少遮雨棚。`);
    await page.getByRole('button', { name: '提交来信' }).click();
    const outcome = await Promise.race([
      page.getByTestId('tracking-code').waitFor().then(() => 'sent'),
      page.locator('.error[role=alert]').waitFor().then(() => 'refused'),
    ]);
    if (outcome === 'refused') refused = await page.locator('.error[role=alert]').innerText();
    else await page.getByRole('button', { name: '再写一封' }).click();
  }
  assert.match(refused, /提交过于频繁，请\d+秒后再试/);
  await page.screenshot({ path: join(ARTIFACTS, 'mailbox-rate-limited-390.png'), fullPage: true });
});

await check('verify: a finalized scorecard shows its facts', async (page) => {
  await page.goto(`${BASE}/verify/${encodeURIComponent(process.env.FINAL_CODE)}`);
  const box = page.getByTestId('verification');
  await box.getByText('核验通过').waitFor();
  const shown = await box.innerText();
  for (const v of Object.values(FACTS)) assert.ok(shown.includes(String(v)), `shows ${v}: ${shown}`);
  await noSideways(page);
  await page.screenshot({ path: join(ARTIFACTS, 'verify-valid-390.png'), fullPage: true });
});

await check('verify: an unknown code is 未找到', async (page) => {
  await page.goto(`${BASE}/verify/AAAA-BBBB-CCCC`);
  const box = page.getByTestId('verification');
  await box.getByText('未找到', { exact: true }).waitFor();
  assert.doesNotMatch(await box.innerText(), /驻街规划师\n/);
  await page.screenshot({ path: join(ARTIFACTS, 'verify-not-found-390.png'), fullPage: true });
});

await check('graphiql: served from this origin and working without internet', async (page) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${BASE}/graphql`);
  await page.locator('.graphiql-container').waitFor();
  // Run the default query (public streets) and see the answer.
  await page.locator('.graphiql-execute-button').click();
  await page.locator('.result-window').getByText('西兴街道').first().waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });
});

await check('home: a placeholder linking the mailbox and GraphiQL', async (page) => {
  await page.goto(`${BASE}/`);
  await page.getByRole('link', { name: /驻街规划师信箱/ }).click();
  await page.waitForURL(`${BASE}/mailbox`);
});

await context.close();
rmSync(profile, { recursive: true, force: true });
if (offOrigin.length) {
  failed = true;
  console.log(`not ok - intranet: requests left the origin ${origin}:\n  ${offOrigin.join('\n  ')}`);
} else {
  console.log(`ok - intranet: every request stayed on ${origin}`);
}
process.exit(failed ? 1 : 0);
