// End-to-end checks of the residents' pages in a real Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core). Started by tests/browser.rs, which runs the server and passes:
//   BASE         the server's origin, e.g. http://127.0.0.1:40123
//   CHROMIUM     the browser binary
//   ARTIFACTS    a directory for screenshots
//   FINAL_CODE   the 核验码 of a finalized assessment
//   FINAL_FACTS  JSON: what /verify must show for it (planner, street, term, total, grade)
//   REPLIED_CODE a tracking code whose letter has a reply, and REPLY_TEXT that reply
//   LETTERS_PER_HOUR the server's per-client letter limit
//   ADMIN_PASSWORD  the bureau's `admin`; USER_PASSWORD the console accounts' (xixing-staff,
//                   changhe-staff, leader)
//   EXPIRED_TOKEN   a token of `admin` that expired 30 days ago
//   DRAFT_LEAD      the lead of 长河街道 whose assessment is a draft (three guidance opinions)
//   FIXTURES        the repository's fixtures/ directory
// Prints one line per check and exits non-zero on the first failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
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
// `expected`: console messages the check provokes on purpose (e.g. the 401 of an expired token).
async function check(name, body, expected) {
  const page = await context.newPage();
  watch(page);
  const before = problems.length;
  try {
    await body(page);
    const seen = problems.slice(before).filter((p) => !(expected && expected.test(p)));
    assert.deepEqual(seen, [], 'no console errors');
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

// ---- The clerks' console at / (desk screens: 1280 px) ----

const ADMIN = ['admin', process.env.ADMIN_PASSWORD];
const XIXING = ['xixing-staff', process.env.USER_PASSWORD];
const CHANGHE = ['changhe-staff', process.env.USER_PASSWORD];
const LEADER = ['leader', process.env.USER_PASSWORD];

async function signIn(page, [user, password]) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${BASE}/`);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.getByLabel('用户名').fill(user);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByTestId('who').waitFor();
}
async function signOut(page) {
  await page.getByTestId('sign-out').click();
  await page.getByText('您已退出登录。').waitFor();
}
const tabs = async (page) => (await page.locator('nav.tabs a').allInnerTexts()).map((t) => t.trim());

// The entries of a zip file (an .xlsx): name → bytes (stored or deflated).
function unzip(buf) {
  const out = {};
  let end = buf.length - 22;
  while (end >= 0 && buf.readUInt32LE(end) !== 0x06054b50) end--;
  assert.ok(end >= 0, 'a zip file');
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    out[name] = method === 8 ? inflateRawSync(data) : data;
    p += 46 + nameLen + extra + comment;
  }
  return out;
}
async function downloaded(page, click) {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(path) };
}
const xlsxText = (bytes) =>
  Object.entries(unzip(bytes))
    .filter(([n]) => n.endsWith('.xml'))
    .map(([, b]) => b.toString('utf8'))
    .join('\n');

const ROSTER_HEAD = '姓名,性别,工作单位,职称,注册执业资格,从业年限,专业,联系电话,服务街道,服务社区,角色,聘期';
const rosterCsv = (phone) =>
  '\ufeff' +
  [
    ROSTER_HEAD,
    '王　伟,男,浙江省城乡规划设计研究院,高级规划师,注册城乡规划师,12年,城乡规划,13812345678,西兴街道,,驻街规划师,2024-01-01至2026-12-31',
    `李娜,女,浙江省城乡规划设计研究院,工程师,,6年,风景园林,${phone},西兴街道,西兴社区,社区规划师,2024-01-01至2026-12-31`,
    '张强,男,浙江省城乡规划设计研究院,助理工程师,,3,给排水,13900002222,西兴街道,,团队成员,2024-01-01至2026-12-31',
  ].join('\r\n') +
  '\r\n';

await check('console: a leader sees only the screens a leader may use', async (page) => {
  await signIn(page, LEADER);
  assert.deepEqual(await tabs(page), ['概览', '街道与团队', '聘期考核']);
  // A screen the role may not use is absent even by its address.
  await page.goto(`${BASE}/#/roster`);
  await page.locator('main[data-screen=overview]').waitFor();
  assert.equal(await page.getByTestId('file-input').count(), 0, 'no roster upload for a leader');
  await page.getByTestId('kpis').waitFor();
  await page.getByTestId('chart-grades').locator('canvas').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'console-overview.png'), fullPage: true });
  await page.goto(`${BASE}/#/mailbox`);
  await page.locator('main[data-screen=overview]').waitFor();
  // 修改密码, then sign in with the new one (and not with the old one).
  await page.getByRole('link', { name: '修改密码' }).click();
  await page.getByLabel('当前密码').fill(LEADER[1]);
  await page.getByLabel('新密码', { exact: true }).fill('leader-new-password-2026');
  await page.getByLabel('再次输入新密码').fill('leader-new-password-2026');
  await page.getByRole('button', { name: '保存新密码' }).click();
  await page.getByText('密码已修改').waitFor();
  await page.getByRole('link', { name: '街道与团队' }).click();
  await page.getByTestId('teams').waitFor();
  await signOut(page);
  await page.getByLabel('用户名').fill('leader');
  await page.getByLabel('密码').fill(LEADER[1]);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByText('用户名或密码不正确。').waitFor();
  await signIn(page, ['leader', 'leader-new-password-2026']);
});

await check('console: street staff check a roster, see the problem located, import the corrected file, and the team appears', async (page) => {
  await signIn(page, XIXING);
  assert.deepEqual(await tabs(page), ['概览', '街道与团队', '花名册', '工作台账', '聘期考核', '信箱']);
  await page.getByRole('link', { name: '花名册' }).click();
  await page.evaluate(() => {
    window.sawProgress = false;
    new MutationObserver(() => {
      if (document.querySelector('[role=progressbar]')) window.sawProgress = true;
    }).observe(document.body, { subtree: true, childList: true });
  });
  // Dropped on the page, as a clerk drags it from the desktop.
  const dropped = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], '西兴花名册.csv', { type: 'text/csv' }));
    return dt;
  }, rosterCsv('1390000111'));
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: dropped });
  const problems = page.getByTestId('problems');
  await problems.waitFor();
  assert.ok(await page.evaluate(() => window.sawProgress), 'an upload progress bar was shown');
  const row = problems.locator('tbody tr').first();
  const cells = (await row.locator('td').allInnerTexts()).map((t) => t.trim());
  assert.equal(cells[1], '3', `the problem names Excel's row 3: ${cells}`);
  assert.equal(cells[2], 'H', `and column H: ${cells}`);
  assert.match(cells[3], /[\u4e00-\u9fff]/, `in Chinese: ${cells}`);
  assert.ok(cells[0].length > 0, 'and the sheet');
  assert.equal(await page.getByTestId('apply-import').count(), 0, 'a file with problems cannot be imported');
  await row.click();
  const view = page.getByTestId('row-view');
  await view.getByText('第 3 行').waitFor();
  assert.match(await view.locator('td.bad').innerText(), /1390000111/, 'the faulty cell as read');
  assert.match(await view.innerText(), /李娜/);
  await page.screenshot({ path: join(ARTIFACTS, 'console-roster-problem.png'), fullPage: true });
  // The corrected file, chosen with the file picker.
  await page.getByTestId('file-input').setInputFiles({ name: '西兴花名册-修改.csv', mimeType: 'text/csv', buffer: Buffer.from(rosterCsv('13900001111')) });
  await page.getByTestId('apply-import').waitFor();
  assert.equal(await page.getByTestId('created').innerText(), '3');
  assert.equal(await page.getByTestId('error-count').innerText(), '0');
  await page.getByTestId('apply-import').click();
  await page.getByTestId('import-done').waitFor();
  await page.getByTestId('import-history').getByText('西兴花名册-修改.csv').waitFor();
  const roster = await downloaded(page, () => page.getByTestId('download-roster').click());
  assert.match(xlsxText(roster.bytes), /李娜/, 'the downloaded roster holds the imported team');
  await page.getByRole('link', { name: '街道与团队' }).click();
  const team = page.getByTestId('teams').locator('tr[data-street="西兴街道"]');
  await team.waitFor();
  const shown = await team.innerText();
  for (const name of ['李娜', '张强', '2024-01-01 至 2026-12-31']) assert.ok(shown.includes(name), `${name} in ${shown}`);
  await page.screenshot({ path: join(ARTIFACTS, 'console-registry.png'), fullPage: true });
});

await check('console: a duty log with problems is located the same way', async (page) => {
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: '工作台账' }).click();
  await page.getByTestId('file-input').setInputFiles(join(process.env.FIXTURES, 'duty_log/errors.xlsx'));
  const problems = page.getByTestId('problems');
  await problems.waitFor();
  const first = problems.locator('tbody tr').first();
  const cells = (await first.locator('td').allInnerTexts()).map((t) => t.trim());
  assert.match(cells[1], /^\d+$/, `a row number: ${cells}`);
  await first.click();
  await page.getByTestId('row-view').getByText(`第 ${cells[1]} 行`).waitFor();
  const ledger = await downloaded(page, () => page.getByTestId('ledger-duty-log').click());
  assert.ok(unzip(ledger.bytes)['xl/workbook.xml'], 'the ledger is a workbook');
});

await check('console: the bureau scores with the suggestions, the street submits, the bureau finalizes and downloads the scorecard', async (page) => {
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: '聘期考核' }).click();
  // The team imported above has no assessment yet: the bureau starts one.
  await page.getByLabel('街道').selectOption({ label: '西兴街道' });
  const unassessed = page.getByTestId('unassessed').locator('tr', { hasText: '2024-01-01 至 2026-12-31' });
  await unassessed.getByRole('button', { name: '发起考核' }).click();
  await page.getByTestId('assessment-status').getByText('评分中').waitFor();
  await page.goto(`${BASE}/#/assessments`);
  await page.getByTestId('assessment-list').locator('tr', { hasText: '2024-01-01 至 2026-12-31' }).first().waitFor();
  await page.getByLabel('街道').selectOption({ label: '长河街道' });
  const list = page.getByTestId('assessment-list');
  await list.getByText(process.env.DRAFT_LEAD).waitFor();
  await list.locator('tr', { hasText: process.env.DRAFT_LEAD }).getByRole('link').click();
  const form = page.getByTestId('score-form');
  await form.waitFor();
  // The official form: 14 items in their groups, maxima, the rule of each item.
  assert.equal(await form.locator('tbody tr').count(), 14);
  assert.equal(await form.locator('td.group').count(), 7, 'seven groups');
  assert.match(await form.locator('tr[data-code="2.3"]').innerText(), /评分规则：每提出一项具有针对性、可操作性的指导意见得 2 分，最多 10 分/);
  // The suggestion for 2.3 from the three guidance opinions on record, with its evidence.
  const s23 = page.getByTestId('suggestion-2.3');
  await s23.getByText(/建议 \d+ 分/).waitFor();
  assert.match(await s23.innerText(), /建议 6 分/);
  await s23.getByRole('button', { name: /查看依据（3 条记录）/ }).click();
  await s23.getByText('长河片区近期建设规划指导意见（第1份）').waitFor();
  await page.getByTestId('use-2.3').click();
  assert.equal(await page.getByTestId('score-2.3').inputValue(), '6');
  const others = { '1.1': 5, '1.2': 5, '2.1': 5, '2.2': 4.5, '3.1': 15, '4.1': 5, '4.2': 5, '5.1': 5, '5.2': 5, '6.1': 15, '6.2': 5, '6.3': 5 };
  for (const [code, v] of Object.entries(others)) await page.getByTestId(`score-${code}`).fill(String(v));
  assert.match(await page.getByTestId('running-grade').innerText(), /尚有 1 项未评分/);
  await page.getByTestId('score-7.1').fill('9');
  // 6 + 79.5 + 9 = 94.5: the running total and grade before saving.
  assert.equal(await page.getByTestId('running-total').innerText(), '94.5');
  assert.match(await page.getByTestId('running-grade').innerText(), /优秀/);
  await page.screenshot({ path: join(ARTIFACTS, 'console-assessment-form.png'), fullPage: true });
  await page.getByTestId('save-scores').click();
  await page.getByTestId('assessment-notice').getByText('评分已保存').waitFor();
  assert.ok((await page.getByTestId('score-history').locator('tbody tr').count()) >= 14, 'every change in the history');
  assert.equal(await page.getByTestId('finalize-assessment').count(), 0, 'a draft is not finalized before the street submits');
  const url = page.url();
  await signOut(page);

  // The street hands it over.
  await signIn(page, CHANGHE);
  await page.goto(url);
  await page.getByTestId('submit-assessment').click();
  await page.getByTestId('assessment-status').getByText('已提交区分局').waitFor();
  assert.equal(await page.getByTestId('finalize-assessment').count(), 0, 'the street cannot finalize');
  await signOut(page);

  // The bureau finalizes, after reading what finalizing does.
  await signIn(page, ADMIN);
  await page.goto(url);
  await page.getByTestId('finalize-assessment').click();
  const dialog = page.getByTestId('finalize-confirm');
  await dialog.waitFor();
  const said = await dialog.innerText();
  assert.match(said, /94\.5/);
  assert.match(said, /优秀/);
  assert.match(said, /连续聘任资格/);
  assert.match(said, /不合格/);
  assert.match(said, /不得再参与/);
  await page.screenshot({ path: join(ARTIFACTS, 'console-finalize-confirm.png') });
  await page.getByRole('button', { name: '取消' }).click();
  assert.equal(await dialog.count(), 0);
  assert.match(await page.getByTestId('assessment-status').innerText(), /已提交区分局/, 'cancel changes nothing');
  await page.getByTestId('finalize-assessment').click();
  await page.getByTestId('confirm-finalize').click();
  await page.getByTestId('assessment-status').getByText('已定稿').waitFor();
  const code = (await page.getByTestId('verification-code').innerText()).trim();
  assert.ok(code.length >= 8, `a verification code: ${code}`);
  assert.equal(await page.getByTestId('score-1.1').count(), 0, 'a finalized assessment has no score inputs');
  const card = await downloaded(page, () => page.getByTestId('download-scorecard').click());
  assert.match(card.name, /\.xlsx$/);
  const text = xlsxText(card.bytes);
  assert.ok(text.includes(process.env.DRAFT_LEAD), 'the scorecard names the planner');
  assert.ok(text.includes(code), 'and carries the verification code');
  assert.ok(text.includes('94.5'), 'and the total');
  const batch = await (async () => {
    await page.goto(`${BASE}/#/assessments`);
    return downloaded(page, () => page.getByTestId('download-batch').click());
  })();
  assert.ok(xlsxText(batch.bytes).includes(process.env.DRAFT_LEAD), 'the batch workbook lists it');
});

await check('console: a planner sees their street\'s work, not the roster, and reads their assessment without scoring it', async (page) => {
  await signIn(page, ['planner-zhou', process.env.USER_PASSWORD]);
  assert.deepEqual(await tabs(page), ['概览', '街道与团队', '工作台账', '聘期考核', '信箱']);
  // The street's dashboard (the planner's current team serves 长河街道).
  await page.getByRole('heading', { name: /概览 · 长河街道/ }).waitFor();
  // This year it was finalized; its duty records are of 2024–2025.
  await page.getByTestId('chart-grades').locator('canvas').waitFor();
  await page.getByLabel('起始日期').fill('2024-01-01');
  await page.getByTestId('chart-duty').locator('canvas').waitFor();
  await page.goto(`${BASE}/#/roster`);
  await page.locator('main[data-screen=overview]').waitFor();
  await page.getByRole('link', { name: '聘期考核' }).click();
  await page.getByTestId('assessment-list').locator('tr', { hasText: process.env.DRAFT_LEAD }).getByRole('link').click();
  await page.getByTestId('assessment-status').getByText('已定稿').waitFor();
  assert.equal(await page.locator('input.score').count(), 0, 'no score inputs for a planner');
  assert.equal(await page.getByTestId('unassessed').count(), 0);
  await page.screenshot({ path: join(ARTIFACTS, 'console-planner-assessment.png'), fullPage: true });
});

await check('console: a letter written on /mailbox arrives live in the street staff\'s mailbox, and is answered', async (page) => {
  await signIn(page, XIXING);
  await page.getByRole('link', { name: '信箱' }).click();
  await page.getByTestId('letters').waitFor({ state: 'attached' });
  // The subscription is acknowledged (graphql-transport-ws connection_ack) before the letter.
  await page.locator('[data-testid=live-state][data-live=on]').waitFor();
  const resident = await context.newPage();
  watch(resident);
  await resident.setViewportSize({ width: 390, height: 844 });
  await resident.goto(`${BASE}/mailbox`);
  const street = resident.getByLabel('所在街道');
  await street.locator('option', { hasText: '西兴街道' }).waitFor({ state: 'attached' });
  await street.selectOption({ label: '西兴街道' });
  await resident.getByLabel('来信类别').selectOption({ label: '小区改造' });
  const content = '杨家墩小区加装电梯的方案什么时候公示？';
  await resident.getByLabel('来信内容').fill(content);
  await resident.getByRole('button', { name: '提交来信' }).click();
  const code = (await resident.getByTestId('tracking-code').innerText()).trim();
  // No reload: the subscription brings it.
  const letter = page.locator(`[data-testid=letter][data-code="${code}"]`);
  await letter.waitFor({ timeout: 10000 });
  await letter.getByTestId('new-letter').waitFor();
  assert.ok((await letter.innerText()).includes(content));
  await page.screenshot({ path: join(ARTIFACTS, 'console-mailbox-live.png'), fullPage: true });
  await letter.getByLabel(/答复/).fill('方案将于下月在社区公告栏和街道网站公示。');
  await letter.getByRole('button', { name: '答复', exact: true }).click();
  await letter.locator('.status.REPLIED').waitFor();
  // Irreversible steps ask once more; 取消 leaves the letter as it was.
  await letter.getByRole('button', { name: '转为需求' }).click();
  await letter.getByTestId('letter-confirm').getByRole('button', { name: '取消' }).click();
  assert.equal(await letter.getByTestId('letter-confirm').count(), 0);
  assert.equal(await letter.getByText('已转为需求清单事项').count(), 0, 'cancelled: nothing done');
  await letter.getByRole('button', { name: '转为需求' }).click();
  await letter.getByRole('button', { name: '确认转为需求' }).click();
  await letter.getByText('已转为需求清单事项').waitFor();
  await letter.getByRole('button', { name: '办结', exact: true }).click();
  assert.match(await letter.getByTestId('letter-confirm').innerText(), /不能再答复/);
  await letter.getByRole('button', { name: '确认办结' }).click();
  await letter.locator('.status.CLOSED').waitFor();
  await resident.getByRole('button', { name: '查询办理进度' }).click();
  await resident.getByTestId('letter-status').getByText('方案将于下月在社区公告栏和街道网站公示。').waitFor();
  assert.match(await resident.getByTestId('letter-status').innerText(), /已办结/);
  await resident.close();
});

await check('console: long lists come page by page (the mailbox: 20 letters, then 加载更多)', async (page) => {
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: '信箱' }).click();
  const letters = page.getByTestId('letters').getByTestId('letter');
  const total = Number((await page.getByTestId('letter-count').innerText()).match(/共 (\d+) 封/)[1]);
  assert.ok(total > Number(process.env.PAGED_LETTERS), `${total} letters in all`);
  await letters.nth(19).waitFor();
  assert.equal(await letters.count(), 20, 'one page of 20');
  const more = page.getByTestId('more-letters');
  assert.match(await more.innerText(), new RegExp(`已显示 20 条，共 ${total} 条`));
  assert.ok(total <= 40, 'two pages hold them');
  await more.click();
  await letters.nth(total - 1).waitFor();
  await more.waitFor({ state: 'detached' });
  assert.equal(await letters.count(), total, 'every letter once, none repeated');
  const codes = await letters.evaluateAll((ls) => ls.map((l) => l.dataset.code));
  assert.equal(new Set(codes).size, total);
  // A filter starts again from its first page, on the server.
  await page.getByLabel('状态').selectOption({ label: '已办结' });
  await page.getByTestId('letter-count').getByText(/共 \d+ 封/).waitFor();
  for (const l of await letters.all()) assert.match(await l.innerText(), /已办结/);
});

await check('console: an expired token returns to sign-in with a message', async (page) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  // The dead token is planted from a page of this origin that runs no console code: the
  // console at `/` would start with the previous check's live session (the context's
  // storage is shared), and its own requests could meet the planted token and drop it
  // before the reload (the flake of stops 20 and 22).
  await page.goto(`${BASE}/mailbox`);
  await page.evaluate((token) => {
    localStorage.setItem('streetplanner.session', JSON.stringify({
      token, expiresAt: new Date(Date.now() + 3600e3).toISOString(), user: { username: 'admin', role: 'DISTRICT_ADMIN' },
    }));
  }, process.env.EXPIRED_TOKEN);
  await page.goto(`${BASE}/`);
  await page.getByTestId('signin-notice').getByText(/登录已失效|登录已过期/).waitFor();
  await page.getByLabel('用户名').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('streetplanner.session')), null, 'the dead token is dropped');
  await page.screenshot({ path: join(ARTIFACTS, 'console-expired.png') });
  // Signed in, the session's end on the server also comes back to sign-in (never a blank page).
  await signIn(page, ADMIN);
  await page.evaluate((token) => {
    const s = JSON.parse(localStorage.getItem('streetplanner.session'));
    localStorage.setItem('streetplanner.session', JSON.stringify({ ...s, token }));
  }, process.env.EXPIRED_TOKEN);
  await page.getByRole('link', { name: '街道与团队' }).click();
  await page.getByTestId('signin-notice').waitFor();
}, /status of 401/);

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
  assert.match(refused, /提交过于频繁，请(\d+ 秒|约 \d+ (分钟|小时))后再试/);
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

await check('home: the sign-in page links the residents\' mailbox', async (page) => {
  await page.goto(`${BASE}/`);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
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
