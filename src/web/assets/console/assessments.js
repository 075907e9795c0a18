// 聘期考核: the list by street and year; one assessment as the official form
// (滨江区驻街规划师聘期考核表: 14 items in their groups, maxima, each item's rule as a hint),
// the evidence-based suggestions beside the items with the records behind them, the running
// total and grade, history, submit (street), finalize (bureau) with a confirmation of what
// finalizing does, the scorecard and batch workbook for download, a filled-in scorecard upload.
import { html, useState, useEffect, useMemo, useRef } from '../vendor/htm-preact.module.js';
import { gql, upload } from './api.js';
import { ErrorBox, DownloadButton, MoreButton, usePaged, ASSESSMENT_STATUS, GRADE, DUTY_KIND, dateTime, num } from './ui.js';

/// Why `v` is not a score the item's rule accepts (null when it is): within 0 to the maximum,
/// in the judgement's steps, a multiple of the points per record, or whole within a band.
export function invalid(it, v) {
  const x = Number(v);
  if (String(v).trim() === '' || isNaN(x)) return '请输入数字';
  if (x < 0 || x > it.maxScore) return `应在 0–${num(it.maxScore)} 分之间`;
  const r = it.rule || {};
  const multiple = (step) => Math.abs(x / step - Math.round(x / step)) < 1e-9;
  if (r.kind === 'JUDGEMENT' && r.step && !multiple(r.step)) return `以 ${r.step} 分为单位`;
  if (r.kind === 'PER_COUNT' && r.pointsPerRecord && !multiple(r.pointsPerRecord)) return `应为 ${r.pointsPerRecord} 的整数倍`;
  if (r.kind === 'BAND' && (!Number.isInteger(x) || !(r.bands || []).some((b) => x >= b.minScore && x <= b.maxScore))) return '应为整数分';
  return null;
}

/// The grade a total earns (以上 includes the number): ≥ 90 优秀, ≥ 75 合格, else 不合格.
export function gradeOf(total) {
  if (total === null) return null;
  return total >= 90 ? 'EXCELLENT' : total >= 75 ? 'QUALIFIED' : 'UNQUALIFIED';
}

const LIST = `query Assessments($filter: AssessmentFilter, $first: Int, $after: String) {
  assessments(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id status total grade createdAt submittedAt finalizedAt viewerCanScore
    planner { id name } appointment { id termStart termEnd street { id name } } } }
}`;
const STREETS = `query AssessmentStreets { streets(first: 50) { nodes { id name } } }`;
const APPOINTMENTS = `query Appointments($filter: AppointmentFilter, $after: String) {
  appointments(filter: $filter, first: 100, after: $after) { pageInfo { hasNextPage endCursor }
    nodes { id termStart termEnd street { id name } lead { id name } viewerCanUpdate assessment { id } } }
}`;
const CREATE = `mutation CreateAssessment($input: CreateAssessmentInput!) { createAssessment(input: $input) { assessment { id } } }`;

/// Terms with no assessment yet, for the bureau and the street's staff to start one (every
/// page of the street's terms: a district has tens of terms, not thousands).
function Start({ street, onError }) {
  const [rows, setRows] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let gone = false;
    (async () => {
      const all = [];
      let after = null;
      for (;;) {
        const d = await gql(APPOINTMENTS, { filter: street ? { streetId: street } : null, after });
        all.push(...d.appointments.nodes);
        if (!d.appointments.pageInfo.hasNextPage) break;
        after = d.appointments.pageInfo.endCursor;
      }
      if (!gone) setRows(all.filter((a) => a.viewerCanUpdate && a.lead && !a.assessment));
    })().catch(onError);
    return () => { gone = true; };
  }, [street]);
  if (!rows || rows.length === 0) return null;
  const start = async (a) => {
    setBusy(true);
    try {
      const d = await gql(CREATE, { input: { appointmentId: a.id } });
      location.hash = `#/assessments/${encodeURIComponent(d.createAssessment.assessment.id)}`;
    } catch (e) {
      onError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<h3>尚未建立考核的聘期</h3>
    <div class="scroll"><table class="grid" data-testid="unassessed">
      <thead><tr><th>街道</th><th>驻街规划师</th><th>聘期</th><th></th></tr></thead>
      <tbody>${rows.map((a) => html`<tr><td>${a.street.name}</td><td>${a.lead.name}</td><td>${a.termStart} 至 ${a.termEnd}</td>
        <td><button class="small" disabled=${busy} onClick=${() => start(a)}>发起考核</button></td></tr>`)}</tbody>
    </table></div>`;
}

function List({ user }) {
  const [street, setStreet] = useState(user.street ? user.street.id : '');
  const [year, setYear] = useState('');
  const [streets, setStreets] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    gql(STREETS).then((d) => setStreets(d.streets.nodes)).catch(setError);
  }, []);
  // 聘期结束年份 is asked of the server once it is a whole year (four digits).
  const termEndYear = /^\d{4}$/.test(year) ? Number(year) : null;
  const filter = street || termEndYear ? { streetId: street || null, termEndYear } : null;
  const list = usePaged(LIST, { filter }, (d) => d.assessments, [street, termEndYear]);
  const rows = list.nodes || [];
  const batch = () => {
    const p = new URLSearchParams();
    if (street) p.set('streetId', street);
    if (termEndYear) p.set('year', String(termEndYear));
    const s = p.toString();
    return `/exports/assessments.xlsx${s ? '?' + s : ''}`;
  };
  return html`<h2 class="screen">聘期考核</h2>
    <section class="card">
      <div class="row">
        <span><label for="as-street">街道</label>
          <select id="as-street" value=${street} onChange=${(e) => setStreet(e.target.value)}>
            <option value="">全部街道</option>
            ${streets && streets.filter((s) => !user.street || s.id === user.street.id).map((s) => html`<option value=${s.id}>${s.name}</option>`)}
          </select></span>
        <span><label for="as-year">聘期结束年份</label>
          <input id="as-year" type="text" inputmode="numeric" placeholder="如 2026" value=${year} onInput=${(e) => setYear(e.target.value.trim())} /></span>
        ${list.nodes && html`<span class="hint" data-testid="assessment-count">共 ${list.total} 份考核</span>`}
      </div>
      <div class="actions left">
        <${DownloadButton} path=${batch} testid="download-batch">下载考核汇总表（含各考核表）<//>
        <${DownloadButton} path="/exports/assessment-form.xlsx" testid="download-blank">下载空白考核表<//>
      </div>
      <${ErrorBox} error=${error || list.error} />
      ${list.nodes && rows.length === 0 && html`<p class="hint">没有符合条件的考核。</p>`}
      ${rows.length > 0 && html`<div class="scroll"><table class="grid" data-testid="assessment-list">
        <thead><tr><th>街道</th><th>驻街规划师</th><th>聘期</th><th>状态</th><th>总分</th><th>等级</th><th></th></tr></thead>
        <tbody>${rows.map((a) => html`<tr>
          <td>${a.appointment ? a.appointment.street.name : '—'}</td><td>${a.planner.name}</td>
          <td>${a.appointment ? `${a.appointment.termStart} 至 ${a.appointment.termEnd}` : '—'}</td>
          <td><span class=${'status ' + a.status}>${ASSESSMENT_STATUS[a.status]}</span></td>
          <td>${num(a.total)}</td><td>${a.grade ? GRADE[a.grade] : '—'}</td>
          <td><a href=${'#/assessments/' + encodeURIComponent(a.id)}>${a.viewerCanScore ? '打开评分' : '查看'}</a></td></tr>`)}</tbody>
      </table></div>`}
      <${MoreButton} list=${list} testid="more-assessments" />
      ${(user.role === 'DISTRICT_ADMIN' || user.role === 'STREET_STAFF') &&
      html`<${Start} street=${street} onError=${setError} />`}
    </section>`;
}

const ONE = `query Assessment($id: ID!) {
  assessment(id: $id) { id status total grade verificationCode formVersion createdAt submittedAt finalizedAt viewerCanScore
    planner { id name organization { name } } appointment { id termStart termEnd street { id name } }
    items { code group content maxScore score note bandLabel rule { kind description step pointsPerRecord bands { minScore maxScore } } }
    history { code oldScore newScore note changedAt changedBy { username displayName } }
    recommendations { kind } }
}`;
const SUGGEST = `query Suggestions($id: ID!) {
  suggestAssessmentScores(assessmentId: $id, first: 20) { nodes { code count of suggestedScore basis enteredScore
    evidence { id kind occurredOn title attendance present planner { name } } } }
}`;
const FIELDS = `assessment { id status total grade verificationCode }`;
const SET = `mutation SetScores($input: SetAssessmentScoresInput!) { setAssessmentScores(input: $input) { ${FIELDS} } }`;
const SUBMIT = `mutation Submit($id: ID!) { submitAssessment(id: $id) { ${FIELDS} } }`;
const FINALIZE = `mutation Finalize($id: ID!) { finalizeAssessment(id: $id) { ${FIELDS} } }`;
const IMPORT = `mutation ImportScores($input: ImportAssessmentScoresInput!) { importAssessmentScores(input: $input) { ${FIELDS} } }`;

const RECOMMENDATION = {
  CONSECUTIVE_APPOINTMENT: '具有连续聘任资格',
  ADVANCED_WORKER: '推荐为年度先进工作者',
  CREDIT_RED_LIST: '推荐所在单位列入行业信用信息红名单',
};

function Suggestion({ s, editable, onUse }) {
  const [open, setOpen] = useState(false);
  if (!s) return null;
  return html`<div class="suggestion" data-testid=${'suggestion-' + s.code}>
    <div>${s.suggestedScore === null ? '暂无记录可依' : html`建议 <strong>${num(s.suggestedScore)}</strong> 分`}</div>
    <small>${s.basis}</small>
    ${editable && s.suggestedScore !== null && html`<div><button class="small" data-testid=${'use-' + s.code} onClick=${() => onUse(s.suggestedScore)}>采用建议</button></div>`}
    ${s.evidence.length > 0 && html`<div><button class="link small" onClick=${() => setOpen(!open)}>${open ? '收起' : `查看依据（${s.evidence.length} 条记录）`}</button></div>`}
    ${open && html`<ul class="evidence">${s.evidence.map((r) => html`<li>${r.occurredOn} ${DUTY_KIND[r.kind] || r.kind}：${r.title}（${r.planner.name}${r.attendance ? `，${r.attendance} 人参加` : ''}${r.present === false ? '，缺勤' : ''}）</li>`)}</ul>`}
  </div>`;
}

function Confirm({ total, grade, onYes, onNo, busy }) {
  return html`<div class="overlay" role="dialog" aria-modal="true" aria-labelledby="confirm-title" data-testid="finalize-confirm">
    <div class="dialog">
      <h3 id="confirm-title">确认定稿？</h3>
      <p>总分 <strong>${num(total)}</strong>，等级 <strong>${GRADE[grade]}</strong>。定稿后：</p>
      <ul>
        <li>评分不能再修改，考核表生成核验码（印在考核表上，可扫码核验）；</li>
        <li>${grade === 'EXCELLENT' ? html`<strong>优秀：</strong>` : '若为优秀：'}该规划师具有连续聘任资格，街道推荐其为年度先进工作者，区规划资源分局推荐其所在单位列入行业信用信息红名单；</li>
        <li>${grade === 'UNQUALIFIED' ? html`<strong>不合格：</strong>` : '若为不合格：'}该规划师及其所在单位此后不得再参与驻街规划师工作（列入禁入名单）。</li>
      </ul>
      <div class="actions"><button data-testid="confirm-finalize" disabled=${busy} onClick=${onYes}>确认定稿</button>
        <button class="secondary" onClick=${onNo}>取消</button></div>
    </div>
  </div>`;
}

function ScoreUpload({ id, onDone }) {
  const input = useRef(null);
  const [error, setError] = useState(null);
  const [progress, setProgress] = useState(null);
  const [ok, setOk] = useState(false);
  const go = async (f) => {
    if (!f) return;
    setError(null);
    setOk(false);
    setProgress(0);
    try {
      await upload(IMPORT, { input: { assessmentId: id } }, 'input.file', f, setProgress);
      setOk(true);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };
  const problems = (error && error.extensions && error.extensions.problems) || [];
  return html`<div class="upload">
    <p>上传已填写的考核表（读取 E 列“实际得分”）：
      <button class="secondary" onClick=${() => input.current.click()}>选择文件</button></p>
    <input id="score-file" ref=${input} type="file" accept=".xlsx,.xls,.ods" class="offscreen" aria-label="上传已填写的考核表"
      data-testid="score-file" onChange=${(e) => { go(e.target.files[0]); e.target.value = ''; }} />
    ${progress !== null && html`<div class="progress"><div class="bar" style=${{ width: `${Math.round(progress * 100)}%` }}></div><span>上传中 ${Math.round(progress * 100)}%</span></div>`}
    <${ErrorBox} error=${error} />
    ${problems.length > 0 && html`<table class="grid problems"><thead><tr><th>工作表</th><th>行</th><th>列</th><th>问题</th></tr></thead>
      <tbody>${problems.map((p) => html`<tr><td>${p.sheet}</td><td>${p.row ?? '—'}</td><td>${p.column ?? '—'}</td><td>${p.message}</td></tr>`)}</tbody></table>`}
    ${ok && html`<p class="notice">已按上传的考核表更新评分。</p>`}
  </div>`;
}

function Detail({ id, user }) {
  const [a, setA] = useState(null);
  const [sugg, setSugg] = useState({});
  const [draft, setDraft] = useState({});
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const load = async () => {
    try {
      const d = await gql(ONE, { id });
      if (!d.assessment) throw new Error('未找到该考核，或您无权查看。');
      setA(d.assessment);
      setDraft({});
      gql(SUGGEST, { id })
        .then((s) => setSugg(Object.fromEntries(s.suggestAssessmentScores.nodes.map((n) => [n.code, n]))))
        .catch(() => setSugg({}));
    } catch (e) {
      // A mistyped or truncated link: say so, not which argument was malformed.
      setError(e && e.code === 'BAD_USER_INPUT' ? new Error('该考核不存在，或链接有误。请从考核列表打开。') : e);
    }
  };
  useEffect(() => { load(); }, [id]);
  const items = a ? a.items : [];
  const value = (it) => (draft[it.code] !== undefined ? draft[it.code] : it.score === null ? '' : String(it.score));
  // The running total counts only scores the form's rule accepts; the others are shown as
  // wrong beside their input and counted as not yet scored.
  const running = useMemo(() => {
    let sum = 0;
    let missing = 0;
    for (const it of items) {
      const v = value(it);
      if (v === '' || invalid(it, v)) missing++;
      else sum += Number(v);
    }
    return { sum, missing };
  }, [items, draft]);
  if (error && !a) return html`<${ErrorBox} error=${error} />`;
  if (!a) return html`<p class="hint">加载中…</p>`;
  const role = user.role;
  const editable = a.viewerCanScore;
  const changed = Object.entries(draft).filter(([code, v]) => {
    const it = items.find((i) => i.code === code);
    return v !== '' && Number(v) !== it.score;
  });
  const act = async (f, message) => {
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      await f();
      await load();
      setNotice(message);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const save = () => act(() => gql(SET, { input: { assessmentId: a.id, scores: changed.map(([code, v]) => ({ code, score: Number(v) })) } }), '评分已保存。');
  const total = running.missing === 0 ? running.sum : null;
  // Rows of the official form, the group cell spanning its items.
  const spans = {};
  items.forEach((it) => { spans[it.group] = (spans[it.group] || 0) + 1; });
  const seen = new Set();
  const groupNo = {};
  items.forEach((it) => { if (!(it.group in groupNo)) groupNo[it.group] = Object.keys(groupNo).length + 1; });
  return html`<p><a href="#/assessments">← 返回考核列表</a></p>
    <section class="card form-sheet">
      <h2 class="center">滨江区驻街规划师聘期考核表</h2>
      <p class="center">${a.appointment ? a.appointment.street.name : ''} · 驻街规划师 <strong>${a.planner.name}</strong>
        ${a.appointment && ` · 聘期 ${a.appointment.termStart} 至 ${a.appointment.termEnd}`}
        · <span class=${'status ' + a.status} data-testid="assessment-status">${ASSESSMENT_STATUS[a.status]}</span></p>
      ${a.verificationCode && html`<p class="center">核验码 <strong data-testid="verification-code">${a.verificationCode}</strong>
        （<a href=${'/verify/' + encodeURIComponent(a.verificationCode)}>核验页</a>）</p>`}
      <div class="scroll"><table class="grid official" data-testid="score-form">
        <thead><tr><th>序号</th><th>考核项目</th><th>具体内容</th><th>应得分</th><th>实际得分</th><th>依据记录的建议</th></tr></thead>
        <tbody>${items.map((it) => {
          const first = !seen.has(it.group);
          seen.add(it.group);
          const v = value(it);
          const bad = v !== '' && invalid(it, v);
          return html`<tr data-code=${it.code}>
            <td>${it.code}</td>
            ${first && html`<td rowspan=${spans[it.group]} class="group">${groupNo[it.group]}. ${it.group}</td>`}
            <td>${it.content}<div class="hint rule">评分规则：${it.rule.description}</div></td>
            <td class="num">${num(it.maxScore)}</td>
            <td class="num">${editable
              ? html`<input type="number" class=${'score' + (bad ? ' bad' : '')} min="0" max=${it.maxScore} step="0.5" aria-label=${`${it.code} 实际得分`}
                  data-testid=${'score-' + it.code} value=${v} onInput=${(e) => setDraft({ ...draft, [it.code]: e.target.value })} />
                  ${bad && html`<div class="field-error" data-testid=${'score-error-' + it.code}>${invalid(it, v)}</div>`}`
              : num(it.score)}${it.bandLabel && html`<div><small>${it.bandLabel}</small></div>`}</td>
            <td><${Suggestion} s=${sugg[it.code]} editable=${editable} onUse=${(x) => setDraft({ ...draft, [it.code]: String(x) })} /></td>
          </tr>`;
        })}</tbody>
        <tfoot><tr><td colspan="3" class="right">聘期考核总分（满分 100）</td><td class="num">100</td>
          <td class="num" data-testid="running-total"><strong>${num(running.sum)}</strong></td>
          <td data-testid="running-grade">${total === null ? `尚有 ${running.missing} 项未评分` : html`等级：<strong>${GRADE[gradeOf(total)]}</strong>`}</td></tr></tfoot>
      </table></div>
      <p class="hint">等级：90 分以上为优秀，75 分以上为合格，75 分以下为不合格。</p>
      <${ErrorBox} error=${error} />
      ${notice && html`<p class="notice" role="status" data-testid="assessment-notice">${notice}</p>`}
      <div class="actions left">
        ${editable && html`<button data-testid="save-scores" disabled=${busy || changed.length === 0} onClick=${save}>保存评分${changed.length ? `（${changed.length} 项）` : ''}</button>`}
        ${editable && a.status === 'DRAFT' && html`<button data-testid="submit-assessment" disabled=${busy || changed.length > 0 || a.total === null}
            onClick=${() => act(() => gql(SUBMIT, { id: a.id }), '已提交区规划资源分局。')}>提交区分局</button>`}
        ${role === 'DISTRICT_ADMIN' && a.status === 'SUBMITTED' && html`<button data-testid="finalize-assessment" disabled=${busy || changed.length > 0} onClick=${() => setConfirm(true)}>定稿</button>`}
        <${DownloadButton} path=${`/exports/assessments/${encodeURIComponent(a.id)}.xlsx`} testid="download-scorecard">下载考核表（Excel）<//>
      </div>
      ${editable && html`<${ScoreUpload} id=${a.id} onDone=${load} />`}
    </section>
    ${confirm && html`<${Confirm} total=${a.total} grade=${a.grade} busy=${busy}
      onNo=${() => setConfirm(false)} onYes=${() => { setConfirm(false); act(() => gql(FINALIZE, { id: a.id }), '考核已定稿。'); }} />`}
    ${a.recommendations.length > 0 && html`<section class="card"><h2>定稿产生的推荐</h2>
      <ul>${a.recommendations.map((r) => html`<li>${RECOMMENDATION[r.kind] || r.kind}</li>`)}</ul></section>`}
    <section class="card">
      <h2>评分记录</h2>
      ${a.history.length === 0 ? html`<p class="hint">尚无评分记录。</p>` : html`<div class="scroll"><table class="grid" data-testid="score-history">
        <thead><tr><th>时间</th><th>项目</th><th>原分</th><th>新分</th><th>修改人</th><th>备注</th></tr></thead>
        <tbody>${[...a.history].reverse().map((h) => html`<tr><td>${dateTime(h.changedAt)}</td><td>${h.code}</td><td>${num(h.oldScore)}</td>
          <td>${num(h.newScore)}</td><td>${h.changedBy ? h.changedBy.displayName || h.changedBy.username : '—'}</td><td>${h.note || ''}</td></tr>`)}</tbody>
      </table></div>`}
    </section>`;
}

export function AssessmentsScreen({ user, arg }) {
  return arg ? html`<${Detail} id=${decodeURIComponent(arg)} user=${user} />` : html`<${List} user=${user} />`;
}
